package dev.crewchief.activities;

import java.util.List;

/**
 * The changes of a release: the files changed between the merge base of the two branches and the
 * main branch's head, the pull requests merged since the last release tag (their titles with their
 * numbers, "Task name #921", from merge and squash commits), the last release tag (null when none)
 * and both heads.
 */
public record ChangeReview(
    List<String> changedFiles,
    List<String> pullRequests,
    String lastTag,
    String mainHead,
    String releaseHead) {}
