package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;
import java.util.List;

/**
 * A CI service's API: CircleCI (API v2: the pipelines of a branch, their workflows and jobs) or
 * GitHub's combined commit status. Failure types: {@code CiUnreachable} (retried), {@code CiRed} (a
 * required build failed: the message names the failing jobs), {@code CiPending} (still not done
 * when the wait's limit passed), {@code CiBuildMissing} (no build of that commit), {@code
 * CiAuthFailed}, {@code SecretUnresolved}, {@code InvalidInput} (not retryable).
 */
@ActivityInterface
public interface CiActivities {

  enum Provider {
    CIRCLECI,
    GITHUB
  }

  /**
   * Is {@code commit} green? {@code apiUrl} the API's root ({@code https://circleci.com/api/v2},
   * {@code https://api.github.com}); {@code project} the CircleCI project slug ({@code
   * gh/org/repo}) or GitHub's {@code owner/repo}; {@code required} the workflow or job names
   * (CircleCI) or status contexts (GitHub) that must have passed (empty: all of them); {@code
   * tokenRef} a secret reference to the API token. While they run, the activity waits, heartbeating
   * what is still running, for up to {@code waitLimit}, asking every {@code pollEvery}.
   */
  record CiRequest(
      String step,
      Provider provider,
      String apiUrl,
      String project,
      String branch,
      String commit,
      List<String> required,
      String tokenRef,
      Duration waitLimit,
      Duration pollEvery,
      boolean dryRun) {}

  /** One build (a CircleCI workflow or job, a GitHub status context) and its state. */
  record CiBuild(String name, String state, String url) {}

  record CiResult(String commit, List<CiBuild> builds, long waitedMillis, boolean rehearsed) {}

  @ActivityMethod(name = "Ci.awaitGreen")
  CiResult awaitGreen(CiRequest request);
}
