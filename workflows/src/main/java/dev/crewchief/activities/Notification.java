package dev.crewchief.activities;

import dev.crewchief.release.GateView;
import java.util.List;

/**
 * A message to people about a release. {@code gate} is set for gate events; a {@code GATE_DECIDED}
 * notification is also the audit record of a decision in the history. {@code addresses} are the
 * e-mail addresses of {@code people} where configured; {@code channels} says where it goes besides
 * the worker's log (null: the log only, as for releases started before channels existed).
 */
public record Notification(
    String step,
    String releaseId,
    Kind kind,
    List<String> people,
    String subject,
    String body,
    GateView gate,
    List<String> addresses,
    NotifyChannels channels) {

  /** A notification for the log alone. */
  public Notification(
      String step,
      String releaseId,
      Kind kind,
      List<String> people,
      String subject,
      String body,
      GateView gate) {
    this(step, releaseId, kind, people, subject, body, gate, List.of(), null);
  }

  public enum Kind {
    RELEASE_STARTED,
    GATE_OPEN,
    GATE_REMINDER,
    GATE_DECIDED,
    RELEASE_SUCCEEDED,
    RELEASE_FAILED,
    /** A runbook's own message to a channel ("starting deployment", "deployment successful"). */
    ANNOUNCEMENT
  }
}
