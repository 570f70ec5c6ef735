package dev.crewchief.activities;

/**
 * What the branch update did: {@code merged} true when merging the release branch into the main
 * branch made a merge commit (the runbook expects none: the report says so), the heads after, and
 * whether both were pushed.
 */
public record BranchSync(
    boolean merged,
    String mainHead,
    String releaseHead,
    boolean pushed,
    String output,
    boolean rehearsed) {}
