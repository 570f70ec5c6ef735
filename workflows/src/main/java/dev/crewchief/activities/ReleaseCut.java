package dev.crewchief.activities;

/**
 * What cutting a release did, or in a dry run would do. {@code commit} is the commit the tag names
 * (in a dry run that would commit, the current HEAD that the release commit would follow); {@code
 * changed} is whether anything was (or would be) committed, tagged or pushed: false when the
 * release had already been cut.
 */
public record ReleaseCut(
    String action, boolean rehearsed, String commit, String tag, boolean changed)
    implements StepOutcome {}
