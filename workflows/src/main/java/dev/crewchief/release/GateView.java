package dev.crewchief.release;

import java.time.Instant;
import java.util.List;

/**
 * A gate as shown by {@code status} and the report. {@code allowed} lists the roles that may decide
 * it and {@code people} who holds them; {@code refusals} lists decisions that were refused (a Web
 * UI signal from someone not allowed, a stale or unsigned decision, a malformed payload), so a
 * refusal is visible. {@code choices} are the options a gate offers (empty for a plain
 * approve/reject gate), {@code proposed} the one it proposes and {@code choice} the one decided.
 */
public record GateView(
    String name,
    String description,
    List<String> allowed,
    GateStatus status,
    String decidedBy,
    Instant decidedAt,
    String comment,
    String via,
    List<String> refusals,
    List<String> people,
    boolean signatureRequired,
    List<String> choices,
    String proposed,
    String choice) {

  /** A gate without choices. */
  public GateView(
      String name,
      String description,
      List<String> allowed,
      GateStatus status,
      String decidedBy,
      Instant decidedAt,
      String comment,
      String via,
      List<String> refusals,
      List<String> people,
      boolean signatureRequired) {
    this(
        name,
        description,
        allowed,
        status,
        decidedBy,
        decidedAt,
        comment,
        via,
        refusals,
        people,
        signatureRequired,
        List.of(),
        null,
        null);
  }
}
