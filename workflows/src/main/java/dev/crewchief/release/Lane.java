package dev.crewchief.release;

import java.util.regex.Pattern;

/**
 * What a release holds exclusively in an environment while it runs: one release per lane at a time.
 * A runbook's lane is usually its own name ({@code randopony-promote} in prod); runbooks that act
 * on the same systems share one ({@code atmosphere-containers}: deployment day and the release
 * calendar stop the same containers).
 *
 * <p>The lane is held by a child workflow whose id is the lane's ({@link #workflowId()}): Temporal
 * lets one execution of an id run at a time, so the exclusion is atomic on the server and holds for
 * every client that starts a release, the Web UI included.
 */
public record Lane(String name, String environment, String description) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");

  public Lane {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("lane name '" + name + "' (lower-case, digits, dashes)");
    }
  }

  /** A runbook's own lane: one release of it per environment. */
  public static Lane of(String runbook, String environment) {
    return new Lane(
        runbook, environment, "one " + runbook + " release at a time in " + environment);
  }

  /** The id of the lane's hold, the child workflow that holds it for a release. */
  public String workflowId() {
    return "lane-" + name + "-" + environment;
  }
}
