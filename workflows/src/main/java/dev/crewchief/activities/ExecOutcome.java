package dev.crewchief.activities;

/** What a command inside a container did: its exit code and its output (stdout then stderr). */
public record ExecOutcome(
    String action, boolean rehearsed, String container, int exitCode, String output)
    implements StepOutcome {}
