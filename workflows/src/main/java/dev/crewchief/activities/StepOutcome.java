package dev.crewchief.activities;

/**
 * What every step's result says first: the exact action it took (or, in a dry run, would take), as
 * the progress and the report show it.
 */
public interface StepOutcome {
  String action();
}
