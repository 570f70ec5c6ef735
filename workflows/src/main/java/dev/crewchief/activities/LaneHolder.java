package dev.crewchief.activities;

/**
 * Who holds a lane, as Temporal knows it: the hold's own state and its parent, the release.
 *
 * @param holdRunning whether the hold workflow still runs (false: the lane is free now)
 * @param holder the workflow id of the release that holds it (null when unknown)
 * @param holderRunning whether that release still runs; a hold whose release has just closed is
 *     about to be ended by its parent-close policy, and is worth waiting a moment for
 */
public record LaneHolder(
    String laneId, boolean holdRunning, String holder, boolean holderRunning, String summary) {}
