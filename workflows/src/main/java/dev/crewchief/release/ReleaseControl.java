package dev.crewchief.release;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;

/**
 * What every release workflow answers to. The names are part of the interface users and running
 * histories depend on: do not rename them.
 *
 * <p>The Web UI's way to decide a gate is the signal {@link #DECIDE_SIGNAL}, whose payload the
 * release takes raw (a dynamic signal handler, see {@link ReleaseWorkflow}), so that a payload of
 * any shape is recorded as a refused request with the reason instead of being dropped by the SDK
 * before the workflow sees it.
 */
public interface ReleaseControl {
  String PROGRESS_QUERY = "progress";
  String DECIDE_UPDATE = "decideGate";
  String DECIDE_SIGNAL = "gateDecision";

  @QueryMethod(name = PROGRESS_QUERY)
  ReleaseProgress progress();

  /**
   * The CLI's way to decide a gate. An update rather than a signal because the caller must learn at
   * once whether the decision was taken or why it was refused. There is no validator: a refusal is
   * the update's answer, so that every request, refused ones included, is in the history.
   */
  @UpdateMethod(name = DECIDE_UPDATE)
  DecisionReply decideGate(GateDecision decision);
}
