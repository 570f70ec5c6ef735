package dev.crewchief.release;

import com.fasterxml.jackson.databind.JsonNode;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;

/**
 * What every release workflow answers to. The names are part of the interface users and running
 * histories depend on: do not rename them.
 *
 * <p>The Web UI's way to decide a gate is the signal {@link #DECIDE_SIGNAL}.
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

  /**
   * The Web UI's way to decide a gate ("Send signal"). A signal cannot be answered, so its payload
   * is taken as raw JSON, whatever its shape ({@code "approve"}, {@code []}, {@code {"gate": 5}}),
   * and anything that is not a valid decision is recorded as a refused request with the reason; the
   * release keeps waiting. Signals of other names reach a dynamic handler and are refused the same
   * way.
   */
  @SignalMethod(name = DECIDE_SIGNAL)
  void gateDecision(JsonNode payload);
}
