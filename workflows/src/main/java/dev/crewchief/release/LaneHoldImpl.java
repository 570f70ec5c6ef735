package dev.crewchief.release;

import io.temporal.workflow.Workflow;

/** Waits until its release lets go (or is closed, which terminates it). */
public final class LaneHoldImpl implements LaneHold {
  private boolean letGo;

  @Override
  public void hold(Request request) {
    Workflow.await(() -> letGo);
  }

  @Override
  public void letGo() {
    letGo = true;
  }
}
