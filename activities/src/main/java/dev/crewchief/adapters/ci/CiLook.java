package dev.crewchief.adapters.ci;

import dev.crewchief.activities.CiActivities.CiBuild;
import java.util.List;

/**
 * What the CI service says of a commit at one look: the builds that count (the required ones, or
 * all), and of those the ones that failed, that still run or wait, and the required ones it has no
 * build of yet, each as a line for a message.
 */
record CiLook(
    List<CiBuild> builds, List<String> failed, List<String> running, List<String> missing) {

  boolean green() {
    return failed.isEmpty() && running.isEmpty() && missing.isEmpty();
  }
}
