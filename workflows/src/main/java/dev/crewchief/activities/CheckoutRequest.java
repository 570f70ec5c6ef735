package dev.crewchief.activities;

/**
 * Bring {@code repo} to {@code branch} (by default the repository's own branch) at its upstream.
 */
public record CheckoutRequest(String step, GitRepoRef repo, String branch, boolean dryRun) {}
