package dev.crewchief.release;

/** Where a step is. */
public enum StepStatus {
  RUNNING,
  DONE,
  /** Rehearsed in a dry run: validated, and the action it would take recorded. */
  REHEARSED,
  SKIPPED,
  FAILED,
  /** Interrupted by the release's cancellation (its rollback follows). */
  CANCELLED,
  /** Undone by its compensation during a rollback. */
  COMPENSATED
}
