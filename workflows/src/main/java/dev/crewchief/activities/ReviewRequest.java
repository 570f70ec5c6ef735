package dev.crewchief.activities;

/**
 * What changed on {@code mainBranch} since {@code releaseBranch} (the runbook's {@code
 * release...master}), after fetching both from the repository's remote. {@code tagPattern} is the
 * regular expression of release tags ({@code \d+\.\d+\.\d+}), to find the last release.
 */
public record ReviewRequest(
    String step, GitRepoRef repo, String releaseBranch, String mainBranch, String tagPattern) {}
