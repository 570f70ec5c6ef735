package dev.crewchief.activities;

import java.util.List;

/** What a sync sent: the changed files, and how many were already up to date. */
public record SyncResult(String action, boolean rehearsed, List<String> uploaded, int unchanged)
    implements StepOutcome {}
