package dev.crewchief.activities;

import java.util.Map;

/**
 * Set the {@code image:} of these services in the compose file: service name to the full image
 * reference, e.g. {@code atmosphere: cyverse/atmosphere:v36-1}. The file is edited in place (its
 * comments and layout kept) and not committed, as the runbook edits it.
 */
public record ImageTagsRequest(
    String step, ComposeFileRef compose, Map<String, String> images, boolean dryRun) {}
