package dev.crewchief.activities;

/**
 * A verified dump, or in a dry run the dump that would be taken. {@code action} is the exact
 * command (never the password); {@code file} the dump's absolute path; {@code bytes} its size and
 * {@code tables} the number of TABLE entries in its table of contents (both 0 in a dry run).
 */
public record DumpResult(String action, boolean rehearsed, String file, long bytes, int tables)
    implements StepOutcome {}
