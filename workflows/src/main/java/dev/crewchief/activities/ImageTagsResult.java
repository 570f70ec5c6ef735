package dev.crewchief.activities;

import java.util.Map;

/**
 * What setting the image tags did. {@code previous} holds, per service, the image the file named
 * before (what a rollback sets back); {@code changed} is false when the file already named the
 * requested images.
 */
public record ImageTagsResult(
    String action, boolean rehearsed, Map<String, String> previous, boolean changed)
    implements StepOutcome {}
