package dev.crewchief.release;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;

/**
 * What every release workflow answers to. The names are part of the interface users and running
 * histories depend on: do not rename them.
 */
public interface ReleaseControl {
  String PROGRESS_QUERY = "progress";
  String DECIDE_UPDATE = "decideGate";
  String DECIDE_SIGNAL = "gateDecision";

  @QueryMethod(name = PROGRESS_QUERY)
  ReleaseProgress progress();

  /**
   * The CLI's way to decide a gate. An update rather than a signal because the caller must learn at
   * once whether the decision was accepted or why it was refused.
   */
  @UpdateMethod(name = DECIDE_UPDATE)
  GateView decideGate(GateDecision decision);

  @UpdateValidatorMethod(updateName = DECIDE_UPDATE)
  void validateDecision(GateDecision decision);

  /**
   * The Web UI's way to decide a gate ("Send signal"). A signal cannot be refused, so an invalid
   * one is recorded in the gate's refusals and the release keeps waiting.
   */
  @SignalMethod(name = DECIDE_SIGNAL)
  void gateDecision(GateDecision decision);
}
