package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** Temporal itself, as seen from the worker's client: what workflow code cannot ask directly. */
@ActivityInterface
public interface TemporalActivities {
  /** Who holds the lane whose hold has this workflow id. */
  @ActivityMethod(name = "Temporal.describeLaneHolder")
  LaneHolder describeLaneHolder(String laneId);
}
