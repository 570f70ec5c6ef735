package dev.crewchief.release;

import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The hold on a lane: a child workflow of the release, with the lane's id, that waits until the
 * release lets go. Its parent-close policy terminates it with the release however that ends (a
 * crash of every worker or a terminate from the Web UI included), so a lane is never left held by a
 * release that is gone. The type and signal names are part of running histories: keep them.
 */
@WorkflowInterface
public interface LaneHold {
  String TYPE = "CrewChiefLaneHold";
  String LET_GO = "letGo";

  @WorkflowMethod(name = TYPE)
  void hold(Request request);

  @SignalMethod(name = LET_GO)
  void letGo();

  /** Who holds the lane: the release's id and what it is, for people looking at the hold. */
  record Request(String lane, String description, String holder) {}
}
