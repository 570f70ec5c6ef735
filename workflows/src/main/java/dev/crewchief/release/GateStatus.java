package dev.crewchief.release;

/** Where a gate is. */
public enum GateStatus {
  NOT_REACHED,
  WAITING,
  APPROVED,
  REJECTED,
  TIMED_OUT
}
