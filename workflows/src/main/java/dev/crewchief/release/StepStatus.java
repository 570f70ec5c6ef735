package dev.crewchief.release;

/** Where a step is. */
public enum StepStatus {
  RUNNING,
  DONE,
  /** Rehearsed in a dry run: validated, and the action it would take recorded. */
  REHEARSED,
  SKIPPED,
  FAILED,
  /** Undone by its compensation during a rollback. */
  COMPENSATED
}
