package dev.crewchief.activities;

import dev.crewchief.release.GateView;
import java.util.List;

/**
 * A message to people about a release. {@code gate} is set for gate events; a {@code GATE_DECIDED}
 * notification is also the audit record of a decision in the history.
 */
public record Notification(
    String step,
    String releaseId,
    Kind kind,
    List<String> people,
    String subject,
    String body,
    GateView gate) {

  public enum Kind {
    RELEASE_STARTED,
    GATE_OPEN,
    GATE_REMINDER,
    GATE_DECIDED,
    RELEASE_SUCCEEDED,
    RELEASE_FAILED
  }
}
