package dev.crewchief.release;

/**
 * A decision sent to a gate, by the CLI (update) or the Web UI (signal). The JSON payload is {@code
 * {"gate":"confirm-release","decision":"APPROVE","approver":"alice","comment":"ok"}}.
 */
public record GateDecision(String gate, Decision decision, String approver, String comment) {

  public enum Decision {
    APPROVE,
    REJECT
  }
}
