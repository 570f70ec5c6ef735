package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;
import java.time.Instant;

/**
 * The ENCODE app's indexer, read through its {@code /_indexer} status endpoint (JSON: {@code
 * status} "indexing" or "waiting", {@code started} of the current bolus, {@code last_xmin}/{@code
 * xmin}, and a {@code results} list of recent boluses with their timings). The runbook's advice
 * ("delay the final steps until the indexing lag is down to a matter of minutes") is the rule of
 * {@link #waitForLag}.
 *
 * <p>Failure types: {@code IndexerUnreachable} (retryable), {@code IndexerBadResponse} (not the
 * endpoint's JSON: non-retryable, says which URL), {@code IndexerWaitExpired}.
 */
@ActivityInterface
public interface IndexerActivities {

  /**
   * {@code lag} is how long the current bolus has been indexing (zero while waiting); {@code
   * lastBolus} how long the last finished one took; {@code firstFullDone} whether a full indexing
   * has finished since the server started (a result with no {@code xmin} before it).
   */
  record IndexerState(
      String url,
      String status,
      Duration lag,
      Duration lastBolus,
      long indexed,
      boolean firstFullDone,
      Instant seenAt) {}

  record StatusRequest(String step, String url) {}

  @ActivityMethod(name = "Indexer.status")
  IndexerState status(StatusRequest request);

  /**
   * Heartbeats the state every {@code pollEvery} until {@code firstFullDone} (when {@code
   * requireFirstFull}) and the lag is at most {@code maxLag}; days are fine, {@code limit} (null:
   * none) fails with {@code IndexerWaitExpired}. A retried attempt continues the count of polls.
   */
  record WaitRequest(
      String step,
      String url,
      boolean requireFirstFull,
      Duration maxLag,
      Duration pollEvery,
      Duration limit,
      boolean dryRun) {}

  record Waited(IndexerState last, int polls, Duration waited, boolean rehearsed) {}

  @ActivityMethod(name = "Indexer.waitForLag")
  Waited waitForLag(WaitRequest request);
}
