package dev.crewchief.adapters.http;

import dev.crewchief.activities.HttpProbeActivities;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link HttpProbeActivities} with the JDK's {@link HttpClient}: the site asked as its users ask
 * it, from the worker, once per interval, to measure a read-only or maintenance period against the
 * METASPACE rule "no more than 1 minute of downtime without at least a visible message".
 *
 * <p><b>What an answer is.</b> Each answer is exactly one of:
 *
 * <ul>
 *   <li>{@code MESSAGE}: its body contains {@code messageText} (the read-only or maintenance
 *       banner), whatever its status (a maintenance page is often a 503): the site is degraded,
 *       with a message users see;
 *   <li>{@code UP_NEW}: status {@code upStatus} (200 when not set) and a body containing {@code
 *       upText}, the text only the new version's page has: the site is up, changed;
 *   <li>{@code UP_OLD}: status {@code upStatus} without {@code upText}: the site serves, but not
 *       yet the new version (the watch starts before the change, so the old version answers first).
 *       Neither downtime nor the end of the period;
 *   <li>{@code DOWN}: anything else: refused, reset, no answer within the request timeout (a hung
 *       site is down for its users too), a 5xx or any other status without the banner, a redirect
 *       (not followed: a redirect to an error page is not the site up).
 * </ul>
 *
 * <p><b>The figures.</b> Each answer stands for the time from its request to the next request
 * (about one interval; longer when the answer was slow, as a user would wait too); the last answer
 * of the watch, and the last one before a retried attempt, stand for one interval. {@code
 * messageMillis} is the time of the {@code MESSAGE} answers; {@code longestSilentMillis} the
 * longest run of consecutive {@code DOWN} answers, from the first of them to the next answer that
 * was not {@code DOWN} (so: its last minus its first, plus one interval). {@code firstDegraded} and
 * {@code lastDegraded} are the times of the first and last {@code MESSAGE} or {@code DOWN} answers.
 * The watch has settled after {@code settle} {@code UP_NEW} answers in a row; it ends unsettled
 * (not a failure: the figures are what it is for) when {@code maxDuration} has passed since the
 * first attempt began.
 *
 * <p><b>Retries.</b> Every probe heartbeats the counts ({@link WatchState}); a retried attempt (a
 * lost worker) goes on from the last counts that reached the server, and its time limit still runs
 * from the first attempt's start. The time between the attempts is not counted: nothing was asked
 * then.
 */
public final class HttpProbeActivitiesImpl implements HttpProbeActivities {
  private static final Logger log = LoggerFactory.getLogger(HttpProbeActivitiesImpl.class);

  /** Short, so that a hung site counts as down rather than stalling the watch. */
  public static final Duration TIMEOUT = Duration.ofSeconds(2);

  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
  static final Duration MIN_INTERVAL = Duration.ofMillis(10);
  static final Duration MAX_INTERVAL = Duration.ofMinutes(5);
  static final int DEFAULT_SETTLE = 3;
  private static final int BODY_MAX = 1 << 20;

  public enum Kind {
    UP_NEW,
    MESSAGE,
    UP_OLD,
    DOWN
  }

  /**
   * The counts so far, heartbeated after each probe. Times are epoch milliseconds; {@code lastKind}
   * and {@code lastAt} are the latest answer, whose time is counted once the next one comes; {@code
   * silentRunMillis} the counted time of the run of {@code DOWN} answers going on.
   */
  public record WatchState(
      long startedAt,
      int probes,
      int withMessage,
      int silentDown,
      long messageMillis,
      long longestSilentMillis,
      long silentRunMillis,
      Kind lastKind,
      long lastAt,
      int upInRow,
      Long firstDegraded,
      Long lastDegraded,
      String last) {

    static WatchState start(long now) {
      return new WatchState(now, 0, 0, 0, 0, 0, 0, null, 0, 0, null, null, "not asked yet");
    }

    /** The state with one more answer, of {@code kind} to the request sent at {@code at}. */
    WatchState answer(Kind kind, long at, String what) {
      WatchState s = settlePending(Math.max(0, at - lastAt));
      if (kind != Kind.DOWN) {
        s = s.endSilentRun();
      }
      boolean degraded = kind == Kind.MESSAGE || kind == Kind.DOWN;
      return new WatchState(
          startedAt,
          s.probes + 1,
          s.withMessage + (kind == Kind.MESSAGE ? 1 : 0),
          s.silentDown + (kind == Kind.DOWN ? 1 : 0),
          s.messageMillis,
          s.longestSilentMillis,
          s.silentRunMillis,
          kind,
          at,
          kind == Kind.UP_NEW ? s.upInRow + 1 : 0,
          degraded && s.firstDegraded == null ? Long.valueOf(at) : s.firstDegraded,
          degraded ? Long.valueOf(at) : s.lastDegraded,
          what);
    }

    /**
     * The latest answer's time counted as {@code span} (the time to the next request, or one
     * interval when there is none), and nothing pending.
     */
    WatchState settlePending(long span) {
      if (lastKind == null) {
        return this;
      }
      return new WatchState(
          startedAt,
          probes,
          withMessage,
          silentDown,
          messageMillis + (lastKind == Kind.MESSAGE ? span : 0),
          longestSilentMillis,
          silentRunMillis + (lastKind == Kind.DOWN ? span : 0),
          null,
          0,
          upInRow,
          firstDegraded,
          lastDegraded,
          last);
    }

    WatchState endSilentRun() {
      if (silentRunMillis == 0) {
        return this;
      }
      return new WatchState(
          startedAt,
          probes,
          withMessage,
          silentDown,
          messageMillis,
          Math.max(longestSilentMillis, silentRunMillis),
          0,
          lastKind,
          lastAt,
          upInRow,
          firstDegraded,
          lastDegraded,
          last);
    }

    PeriodWatch result(boolean settled) {
      return new PeriodWatch(
          probes,
          withMessage,
          silentDown,
          messageMillis,
          longestSilentMillis,
          firstDegraded == null ? null : Instant.ofEpochMilli(firstDegraded),
          lastDegraded == null ? null : Instant.ofEpochMilli(lastDegraded),
          settled,
          false);
    }
  }

  private final HttpClient http;
  private final Clock clock;
  private final Duration requestTimeout;

  /** A client of its own ({@link #newClient()}), the system clock, {@link #TIMEOUT} per request. */
  public HttpProbeActivitiesImpl() {
    this(newClient(), Clock.systemUTC(), TIMEOUT);
  }

  public HttpProbeActivitiesImpl(HttpClient http, Clock clock, Duration requestTimeout) {
    this.http = http;
    this.clock = clock;
    this.requestTimeout = requestTimeout;
  }

  /** HTTP/1.1, a {@link #TIMEOUT} connect timeout, redirects not followed. */
  public static HttpClient newClient() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  @Override
  public PeriodWatch watchPeriod(PeriodWatchRequest r) {
    URI uri = validate(r);
    if (r.dryRun()) {
      return new PeriodWatch(0, 0, 0, 0, 0, null, null, false, true);
    }
    int upStatus = r.upStatus() == null ? 200 : r.upStatus();
    long interval = (r.interval() == null ? DEFAULT_INTERVAL : r.interval()).toMillis();
    int settle = r.settle() < 1 ? DEFAULT_SETTLE : r.settle();

    Optional<WatchState> earlier = earlier();
    // An answer of the lost attempt that was not yet counted stands for one interval.
    WatchState s =
        earlier
            .map(e -> e.settlePending(interval))
            .orElseGet(() -> WatchState.start(clock.millis()));
    if (earlier.isPresent()) {
      log.info(
          "step '{}': watch of {} goes on from {} probes ({} with the message, {} down)",
          r.step(),
          uri,
          s.probes(),
          s.withMessage(),
          s.silentDown());
    }
    long deadline = s.startedAt() + r.maxDuration().toMillis();
    while (true) {
      long at = clock.millis();
      if (at >= deadline) {
        s = s.settlePending(interval).endSilentRun();
        PeriodWatch w = s.result(false);
        log.info("step '{}': watch of {} ended: {}", r.step(), uri, w.describe());
        return w;
      }
      Answer a = ask(uri);
      Kind kind = kind(a, upStatus, r.upText(), r.messageText());
      s = s.answer(kind, at, a.describe() + ": " + kind);
      // A heartbeat that reports the activity cancelled or timed out throws, and ends the watch.
      ActivityIo.heartbeat(s);
      if (s.upInRow() >= settle) {
        s = s.settlePending(interval).endSilentRun();
        PeriodWatch w = s.result(true);
        log.info("step '{}': watch of {} settled: {}", r.step(), uri, w.describe());
        return w;
      }
      long wait = Math.min(at + interval, deadline) - clock.millis();
      if (wait > 0) {
        try {
          Thread.sleep(wait); // the probe cadence
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw Activity.wrap(e);
        }
      }
    }
  }

  /** One answer: its status and body, or the error that stood for one (status -1). */
  record Answer(int status, String body, String error) {
    String describe() {
      return status < 0 ? error : String.valueOf(status);
    }
  }

  static Kind kind(Answer a, int upStatus, String upText, String messageText) {
    if (a.status() < 0) {
      return Kind.DOWN;
    }
    if (messageText != null && !messageText.isEmpty() && a.body().contains(messageText)) {
      return Kind.MESSAGE;
    }
    if (a.status() == upStatus) {
      return a.body().contains(upText) ? Kind.UP_NEW : Kind.UP_OLD;
    }
    return Kind.DOWN;
  }

  private Answer ask(URI uri) {
    HttpRequest req =
        HttpRequest.newBuilder(uri)
            .timeout(requestTimeout)
            // As a user's reload: a cache in front must not answer for the site.
            .header("Cache-Control", "no-cache")
            .GET()
            .build();
    try {
      HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = resp.body()) {
        // The banner and the version are near the top of a page; a huge page is not read whole.
        byte[] body = in.readNBytes(BODY_MAX);
        return new Answer(resp.statusCode(), new String(body, StandardCharsets.UTF_8), null);
      }
    } catch (IOException e) {
      return new Answer(-1, "", e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  private static Optional<WatchState> earlier() {
    ActivityExecutionContext ctx;
    try {
      ctx = Activity.getExecutionContext();
    } catch (IllegalStateException notInActivity) {
      return Optional.empty();
    }
    try {
      return ctx.getHeartbeatDetails(WatchState.class);
    } catch (RuntimeException e) {
      // Details of another version of this class: starting the counts again beats failing.
      log.warn("cannot read the earlier attempt's counts, starting again: {}", e.toString());
      return Optional.empty();
    }
  }

  private static URI validate(PeriodWatchRequest r) {
    URI uri;
    try {
      uri = new URI(r.url() == null ? "" : r.url());
    } catch (URISyntaxException e) {
      throw invalid("probe URL of step " + r.step() + " is not a URL: " + e.getReason());
    }
    if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
        || uri.getHost() == null) {
      throw invalid(
          "probe URL '" + r.url() + "' of step " + r.step() + " must be an absolute http(s) URL");
    }
    if (r.upText() == null || r.upText().isBlank()) {
      throw invalid(
          "upText of step "
              + r.step()
              + " is not set: give text only the new version's page has (its version number):"
              + " the watch starts before the change, so the old version answering must not end"
              + " it");
    }
    if (r.upStatus() != null && (r.upStatus() < 100 || r.upStatus() > 599)) {
      throw invalid("upStatus " + r.upStatus() + " of step " + r.step() + " is not an HTTP status");
    }
    if (r.interval() != null
        && (r.interval().compareTo(MIN_INTERVAL) < 0 || r.interval().compareTo(MAX_INTERVAL) > 0)) {
      throw invalid(
          "probe interval "
              + r.interval()
              + " of step "
              + r.step()
              + " must be between "
              + MIN_INTERVAL
              + " and "
              + MAX_INTERVAL);
    }
    if (r.maxDuration() == null || r.maxDuration().isNegative() || r.maxDuration().isZero()) {
      throw invalid(
          "maxDuration of step "
              + r.step()
              + " must be set: how long the period may last before the watch gives up");
    }
    return uri;
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
