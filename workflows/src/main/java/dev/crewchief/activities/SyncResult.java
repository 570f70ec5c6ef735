package dev.crewchief.activities;

import java.util.List;

/**
 * What a sync sent: the changed files, how many were already up to date, and the files it deleted
 * on the host because the source no longer has them (null in histories recorded before syncs
 * deleted).
 */
public record SyncResult(
    String action, boolean rehearsed, List<String> uploaded, int unchanged, List<String> deleted)
    implements StepOutcome {

  public SyncResult(String action, boolean rehearsed, List<String> uploaded, int unchanged) {
    this(action, rehearsed, uploaded, unchanged, List.of());
  }
}
