package dev.crewchief.release;

import java.time.Instant;

/**
 * A decision sent to a gate, by the CLI (update) or the Web UI (signal). The JSON payload is {@code
 * {"gate":"confirm-release","decision":"APPROVE","approver":"alice","comment":"ok",
 * "issuedAt":"2026-12-02T10:15:00Z"}}, with {@code "signature"} (the armored output of {@code
 * ssh-keygen -Y sign -n crewchief}, as {@code crewchief sign} prints it) where the gate requires
 * signed decisions.
 *
 * @param issuedAt when the approver issued it: a gate refuses a decision older than its bound
 *     (default one minute) when it arrives, so that one sent while no worker ran is not applied
 *     after the approver gave up
 * @param signature the approver's SSH signature over {@link DecisionSignature#message}
 * @param choice at a gate that offers choices (METASPACE's deployment strategy), the one approved;
 *     null for the gate's recommendation (and at every other gate)
 */
public record GateDecision(
    String gate,
    Decision decision,
    String approver,
    String comment,
    Instant issuedAt,
    String signature,
    String choice) {

  /** A decision without a choice, as every gate took before choices existed. */
  public GateDecision(
      String gate,
      Decision decision,
      String approver,
      String comment,
      Instant issuedAt,
      String signature) {
    this(gate, decision, approver, comment, issuedAt, signature, null);
  }

  /** A decision as releases recorded before decisions carried their time. */
  public GateDecision(String gate, Decision decision, String approver, String comment) {
    this(gate, decision, approver, comment, null, null);
  }

  /** An unsigned decision issued at {@code at}. */
  public static GateDecision now(
      String gate, Decision decision, String approver, String comment, Instant at) {
    return new GateDecision(gate, decision, approver, comment, at, null);
  }

  /** The same decision with its signature. */
  public GateDecision signed(String armored) {
    return new GateDecision(gate, decision, approver, comment, issuedAt, armored, choice);
  }

  /** The same decision choosing {@code option} (null: the gate's recommendation). */
  public GateDecision choosing(String option) {
    return new GateDecision(gate, decision, approver, comment, issuedAt, signature, option);
  }

  public enum Decision {
    APPROVE,
    REJECT
  }
}
