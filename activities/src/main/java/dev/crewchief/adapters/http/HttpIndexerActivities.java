package dev.crewchief.adapters.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crewchief.activities.IndexerActivities;
import dev.crewchief.activities.Progress;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link IndexerActivities} for the ENCODE app's {@code /_indexer} status endpoint, with the JDK's
 * {@link HttpClient} and Jackson.
 *
 * <p>The fields relied on are those written by snovault's {@code es_index_listener.py} (the app
 * behind {@code /_indexer}): {@code status} ("indexing" while a bolus runs, "waiting" between them;
 * other values such as "connecting" or "sleeping" count as not ready), {@code timestamp} (set when
 * the status last changed, so while indexing it is the start of the current bolus; the listener
 * sets {@code started} once, when it starts, and that is only the fallback when {@code timestamp}
 * is absent) and {@code results}, the finished boluses that indexed something, newest first, each
 * with {@code indexing_elapsed} (Python's {@code str(timedelta)}, "H:MM:SS.ffffff" or "N days,
 * H:MM:SS"), {@code indexed} and {@code last_xmin} (null or absent for a full indexing). Other
 * fields are ignored. The listener writes naive local times ({@code datetime.now()}); they are read
 * in the zone given to the constructor (UTC on ENCODE's servers).
 */
public final class HttpIndexerActivities implements IndexerActivities {
  private static final Logger log = LoggerFactory.getLogger(HttpIndexerActivities.class);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  // Heartbeats while sleeping between polls, so that a long pollEvery stays within any sensible
  // heartbeat timeout.
  private static final Duration BEAT = Duration.ofSeconds(5);
  private static final Pattern ELAPSED =
      Pattern.compile("(?:(-?\\d+) days?, )?(\\d+):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?");

  private final HttpClient http;
  private final Clock clock;
  private final ZoneId serverZone;
  private final ObjectMapper json = new ObjectMapper();

  /**
   * @param serverZone the zone of the indexer host's clock, for its naive timestamps
   */
  public HttpIndexerActivities(HttpClient http, Clock clock, ZoneId serverZone) {
    this.http = http;
    this.clock = clock;
    this.serverZone = serverZone;
  }

  /** A client with a 30 s connect timeout that follows redirects within the scheme. */
  public static HttpClient newClient() {
    return HttpClient.newBuilder()
        .connectTimeout(REQUEST_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
  }

  @Override
  public IndexerState status(StatusRequest r) {
    return read(uri(r.step(), r.url()));
  }

  @Override
  public Waited waitForLag(WaitRequest r) {
    URI uri = uri(r.step(), r.url());
    if (r.maxLag() == null || r.maxLag().isNegative()) {
      throw invalid("maxLag of step " + r.step() + " must be zero or more, such as PT5M");
    }
    if (r.pollEvery() == null || r.pollEvery().isZero() || r.pollEvery().isNegative()) {
      throw invalid("pollEvery of step " + r.step() + " must be positive, such as PT1M");
    }
    if (r.dryRun()) {
      // Reading the status changes nothing; it shows what the wait would start from.
      return new Waited(read(uri), 0, Duration.ZERO, true);
    }
    Optional<ActivityExecutionContext> ctx = context();
    int polls =
        ctx.flatMap(c -> c.getHeartbeatDetails(Progress.class)).map(p -> (int) p.done()).orElse(0);
    // The wait and its limit count from when the step was first scheduled, so retries do not
    // extend it.
    Instant begun =
        ctx.map(c -> Instant.ofEpochMilli(c.getInfo().getScheduledTimestamp()))
            .filter(t -> t.toEpochMilli() > 0 && !t.isAfter(clock.instant()))
            .orElse(clock.instant());
    if (polls > 0) {
      log.info("step '{}': resuming the wait for {} after {} polls", r.step(), uri, polls);
    }
    while (true) {
      IndexerState state = read(uri);
      polls++;
      Duration waited = Duration.between(begun, clock.instant());
      boolean ready = (!r.requireFirstFull() || state.firstFullDone()) && !later(state, r);
      heartbeat(new Progress(polls, 0, "polls", describe(state, r)));
      if (ready) {
        log.info(
            "step '{}': indexer ready after {} polls: {}", r.step(), polls, describe(state, r));
        return new Waited(state, polls, waited, false);
      }
      if (r.limit() != null && waited.plus(r.pollEvery()).compareTo(r.limit()) > 0) {
        throw ApplicationFailure.newNonRetryableFailure(
            "the indexer at "
                + uri
                + " was not ready within "
                + r.limit()
                + " ("
                + polls
                + " polls; last: "
                + describe(state, r)
                + "): raise the step's limit or look at the indexer",
            "IndexerWaitExpired",
            state);
      }
      pause(r.pollEvery(), new Progress(polls, 0, "polls", describe(state, r)));
    }
  }

  private static boolean later(IndexerState s, WaitRequest r) {
    boolean known = "waiting".equals(s.status()) || "indexing".equals(s.status());
    return !known || s.lag().compareTo(r.maxLag()) > 0;
  }

  private static String describe(IndexerState s, WaitRequest r) {
    return s.status()
        + ", lag "
        + s.lag().withNanos(0)
        + " (at most "
        + r.maxLag()
        + "), last bolus "
        + s.lastBolus().withNanos(0)
        + (s.firstFullDone() ? ", full indexing done" : ", full indexing not done");
  }

  private IndexerState read(URI uri) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(REQUEST_TIMEOUT)
            .header("Accept", "application/json")
            .GET()
            .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot reach the indexer at " + uri + ": " + e, "IndexerUnreachable");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
    int code = response.statusCode();
    if (code == 408 || code == 429 || code >= 500) {
      throw ApplicationFailure.newFailure(
          "the indexer at " + uri + " answered " + code + ", try again later",
          "IndexerUnreachable");
    }
    if (code != 200) {
      throw bad(uri, "answered " + code);
    }
    JsonNode root;
    try {
      root = json.readTree(response.body());
    } catch (IOException e) {
      throw bad(uri, "did not answer JSON");
    }
    if (root == null || !root.isObject() || !root.path("status").isTextual()) {
      throw bad(uri, "answered JSON without a \"status\"");
    }
    Instant now = clock.instant();
    String status = root.get("status").asText();
    Duration lag = Duration.ZERO;
    if ("indexing".equals(status)) {
      String since = root.path("timestamp").asText(root.path("started").asText(""));
      Instant began = time(since).orElseThrow(() -> bad(uri, "has no readable timestamp"));
      lag = Duration.between(began, now);
      if (lag.isNegative()) {
        lag = Duration.ZERO; // clocks a little apart
      }
    }
    JsonNode results = root.path("results");
    JsonNode newest = results.isArray() && !results.isEmpty() ? results.get(0) : null;
    Duration lastBolus =
        newest == null ? Duration.ZERO : elapsed(newest.path("indexing_elapsed").asText(""));
    long indexed = newest == null ? 0 : newest.path("indexed").asLong(0);
    boolean fullDone = false;
    if (results.isArray()) {
      for (JsonNode result : results) {
        // Only finished boluses are in results; one with no last_xmin started from nothing.
        JsonNode lastXmin = result.path("last_xmin");
        fullDone |= result.isObject() && (lastXmin.isMissingNode() || lastXmin.isNull());
      }
    }
    return new IndexerState(uri.toString(), status, lag, lastBolus, indexed, fullDone, now);
  }

  private Optional<Instant> time(String text) {
    if (text.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(OffsetDateTime.parse(text).toInstant());
    } catch (DateTimeParseException withoutOffset) {
      try {
        return Optional.of(LocalDateTime.parse(text).atZone(serverZone).toInstant());
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
  }

  /** Python's {@code str(timedelta)}; zero for what it cannot read (the field is advisory). */
  static Duration elapsed(String text) {
    Matcher m = ELAPSED.matcher(text.strip());
    if (!m.matches()) {
      return Duration.ZERO;
    }
    Duration d =
        Duration.ofHours(Long.parseLong(m.group(2)))
            .plusMinutes(Long.parseLong(m.group(3)))
            .plusSeconds(Long.parseLong(m.group(4)));
    if (m.group(1) != null) {
      d = d.plusDays(Long.parseLong(m.group(1)));
    }
    if (m.group(5) != null) {
      String nanos = (m.group(5) + "000000000").substring(0, 9);
      d = d.plusNanos(Long.parseLong(nanos));
    }
    return d;
  }

  private void pause(Duration total, Progress details) {
    Instant until = clock.instant().plus(total);
    while (true) {
      Duration left = Duration.between(clock.instant(), until);
      if (left.isNegative() || left.isZero()) {
        return;
      }
      try {
        Thread.sleep(Math.max(1, Math.min(left.toMillis(), BEAT.toMillis())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
      if (left.compareTo(BEAT) > 0) {
        heartbeat(details);
      }
    }
  }

  private static Optional<ActivityExecutionContext> context() {
    try {
      return Optional.of(Activity.getExecutionContext());
    } catch (IllegalStateException notInActivity) {
      return Optional.empty();
    }
  }

  private static void heartbeat(Progress p) {
    context().ifPresent(c -> c.heartbeat(p));
  }

  private static URI uri(String step, String url) {
    try {
      URI uri = new URI(url == null ? "" : url);
      if (("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
          && uri.getHost() != null) {
        return uri;
      }
    } catch (java.net.URISyntaxException e) {
      // reported below
    }
    throw invalid(
        "the indexer URL of step "
            + step
            + " must be an absolute http(s) URL, such as http://indexer-host:6543/_indexer");
  }

  private static ApplicationFailure bad(URI uri, String what) {
    return ApplicationFailure.newNonRetryableFailure(
        uri
            + " "
            + what
            + ": it is not the ENCODE indexer's status endpoint; configure the URL of /_indexer"
            + " on the indexer host",
        "IndexerBadResponse");
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
