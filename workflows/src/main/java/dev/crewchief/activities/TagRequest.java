package dev.crewchief.activities;

/**
 * An annotated tag {@code tag} on the head of {@code branch} with {@code message} (the release
 * notes), pushed to the remote when {@code push}, then verified there. Idempotent: a tag of that
 * name on that commit is left alone (a push still completes); on any other commit it is a {@code
 * TagConflict}.
 */
public record TagRequest(
    String step,
    GitRepoRef repo,
    String tag,
    String branch,
    String message,
    boolean push,
    boolean dryRun) {}
