package dev.crewchief.atmosphere;

import dev.crewchief.activities.GitRepoRef;
import java.time.Duration;

/**
 * The release candidate: the changelog in {@code repo} cut for the version and tagged, then a wait
 * of up to {@code imageWait} for the tag's images to appear in the registry (built by CI).
 */
public record CandidatePlan(
    GitRepoRef repo,
    String changelogFile,
    String authorName,
    String authorEmail,
    Duration imageWait) {}
