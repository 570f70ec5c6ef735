package dev.crewchief.activities;

/**
 * The runbook's branch update: merge {@code releaseBranch} into {@code mainBranch} (expected to
 * change nothing: hotfixes are merged back at once), fast-forward {@code releaseBranch} to {@code
 * mainBranch} (refused with {@code NotFastForward} when it has diverged), then push both to the
 * repository's remote when {@code push}. Idempotent. {@code expectMainHead} (from the review) makes
 * the step refuse ({@code MainMoved}) when the main branch moved since it was reviewed.
 */
public record BranchSyncRequest(
    String step,
    GitRepoRef repo,
    String releaseBranch,
    String mainBranch,
    String expectMainHead,
    boolean push,
    boolean dryRun) {}
