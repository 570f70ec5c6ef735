package dev.crewchief.activities;

/**
 * Cut release {@code version} (Major-Minor, e.g. {@code 36-1}) in {@code repo}: move the entries of
 * the changelog's {@code ## [Unreleased]} section into {@code ## [version] - date}, commit that as
 * "Release version", tag the commit {@code tagName} (by default {@code v} + version) and, when
 * {@code push} is set, push the branch and the tag to the repository's remote. {@code
 * changelogPath} is relative to the work tree (by default {@code CHANGELOG.md}); {@code date} is
 * ISO ({@code 2019-06-16}) and comes from the workflow, so that a retry writes the same heading.
 * {@code authorName} and {@code authorEmail} sign the commit and the tag; when null, the clone's
 * own git configuration does.
 */
public record CutReleaseRequest(
    String step,
    GitRepoRef repo,
    String changelogPath,
    String version,
    String tagName,
    String date,
    String authorName,
    String authorEmail,
    boolean push,
    boolean dryRun) {}
