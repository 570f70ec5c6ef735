package dev.crewchief.activities;

/**
 * Pull an image ({@code repository:tag}) to the engine. With {@code ifMissing}, an image already on
 * the engine is not pulled again.
 */
public record PullRequest(
    String step, EngineRef engine, String image, boolean ifMissing, boolean dryRun) {}
