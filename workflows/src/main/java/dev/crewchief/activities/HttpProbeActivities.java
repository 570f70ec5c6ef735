package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;
import java.time.Instant;

/**
 * A site watched from the worker (as its users reach it) while a release changes it. Failure types:
 * {@code InvalidInput} (not retryable). A site that does not answer is what is measured, not a
 * failure.
 */
@ActivityInterface
public interface HttpProbeActivities {

  /**
   * Ask {@code url} every {@code interval} until the period has ended: {@code settle} answers in a
   * row that are the site up ({@code upStatus}, 200 when null, with a body containing {@code
   * upText}, e.g. the new version, and not {@code messageText}) after the watch began, or {@code
   * maxDuration}. An answer whose body contains {@code messageText} (the read-only or maintenance
   * banner) is the site degraded with a visible message; any other answer (refused, an error, no
   * banner) is the site down without one. Heartbeats what it has seen so far; a retried attempt
   * goes on from those counts.
   */
  record PeriodWatchRequest(
      String step,
      String url,
      String upText,
      Integer upStatus,
      String messageText,
      Duration interval,
      int settle,
      Duration maxDuration,
      boolean dryRun) {}

  /**
   * What the watch saw: answers, those with the message, those down without it; the time with the
   * message shown ({@code messageMillis}), and the longest stretch down without a message ({@code
   * longestSilentMillis}, from the first such answer to the next answer that was not, plus one
   * interval).
   */
  record PeriodWatch(
      int probes,
      int withMessage,
      int silentDown,
      long messageMillis,
      long longestSilentMillis,
      Instant firstDegraded,
      Instant lastDegraded,
      boolean settled,
      boolean rehearsed) {

    public String describe() {
      if (rehearsed) {
        return "rehearsed: not watched";
      }
      String tail = settled ? "" : ", not settled when the watch ended";
      return "read-only or maintenance message shown "
          + messageMillis
          + " ms ("
          + withMessage
          + " of "
          + probes
          + " probes); longest down without a message "
          + longestSilentMillis
          + " ms ("
          + silentDown
          + " probes)"
          + tail;
    }
  }

  @ActivityMethod(name = "HttpProbe.watchPeriod")
  PeriodWatch watchPeriod(PeriodWatchRequest request);
}
