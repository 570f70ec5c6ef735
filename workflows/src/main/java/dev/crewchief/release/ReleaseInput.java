package dev.crewchief.release;

/**
 * A release workflow's input: whatever else it holds, it carries the release's context (who may
 * pass its gates, under which rules). The CLI reads it to check a start before sending it.
 */
public interface ReleaseInput {
  ReleaseContext context();
}
