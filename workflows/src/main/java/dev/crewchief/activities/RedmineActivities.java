package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/**
 * Redmine through its REST API (JSON, {@code X-Redmine-API-Key} from {@code apiKeyRef}). Failure
 * types: {@code RedmineUnreachable} (retryable), {@code RedmineAuth} (401/403), {@code
 * RedmineConfig} (unknown project or status name: non-retryable, lists the names Redmine has).
 */
@ActivityInterface
public interface RedmineActivities {

  /**
   * Closes every issue of {@code project} in status {@code fromStatus} ("Release Ready") by moving
   * it to {@code toStatus} ("Closed") with {@code note} as journal note; each is read back. A retry
   * finds the ones already closed and does not touch them again.
   */
  record CloseRequest(
      String step,
      String url,
      String apiKeyRef,
      String project,
      String fromStatus,
      String toStatus,
      String note,
      boolean dryRun) {}

  record Closed(List<Integer> closed, List<Integer> found, boolean rehearsed) {}

  @ActivityMethod(name = "Redmine.closeTickets")
  Closed closeTickets(CloseRequest request);
}
