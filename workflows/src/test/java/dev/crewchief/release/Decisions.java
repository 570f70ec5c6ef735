package dev.crewchief.release;

import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Instant;

/** Gate decisions as the CLI and the Web UI send them, at the test environment's time. */
public final class Decisions {
  private Decisions() {}

  /** A decision issued now, by the test environment's (skipped) clock, as the CLI sends it. */
  public static GateDecision at(
      TestWorkflowEnvironment env,
      String gate,
      GateDecision.Decision decision,
      String approver,
      String comment) {
    return GateDecision.now(
        gate, decision, approver, comment, Instant.ofEpochMilli(env.currentTimeMillis()));
  }

  /** The Web UI's Send signal: signal gateDecision with this payload (any JSON value). */
  public static void signal(WorkflowStub release, Object payload) {
    release.signal(ReleaseControl.DECIDE_SIGNAL, payload);
  }
}
