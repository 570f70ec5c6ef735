package dev.crewchief.activities;

/**
 * Commit the (stopped) container of a service with this number to a backup image {@code
 * repository:tag}. Idempotent: an image of that name made from the same container is kept; one made
 * from another container is an error ({@code BackupImageExists}).
 */
public record CommitRequest(
    String step, ServiceRef service, int number, String repository, String tag, boolean dryRun) {}
