package dev.crewchief.activities;

/**
 * What a step did, or in a dry run what it would have done. {@code action} is the exact action (the
 * command, the files, the target) so that a rehearsal can be read and checked by a person.
 */
public record ActionResult(String action, boolean rehearsed, String output)
    implements StepOutcome {}
