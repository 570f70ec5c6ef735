package dev.crewchief.release;

/** Where a release is; also the value of the {@code CrewChiefStatus} search attribute. */
public enum ReleaseStatus {
  RUNNING,
  WAITING_FOR_GATE,
  ROLLING_BACK,
  SUCCEEDED,
  FAILED,
  ROLLED_BACK,
  CANCELLED
}
