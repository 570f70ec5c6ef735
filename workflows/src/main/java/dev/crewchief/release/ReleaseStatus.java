package dev.crewchief.release;

/** Where a release is; also the value of the {@code CrewChiefStatus} search attribute. */
public enum ReleaseStatus {
  RUNNING,
  WAITING_FOR_GATE,
  ROLLING_BACK,
  SUCCEEDED,
  /** Failed with nothing undone: nothing was registered to undo, or the release was settled. */
  FAILED,
  /** Failed, rejected or cancelled, and every registered undo succeeded. */
  ROLLED_BACK,
  /** An undo failed: the notes name what is left to finish by hand. */
  ROLLBACK_INCOMPLETE,
  CANCELLED
}
