package dev.crewchief.adapters.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.crewchief.activities.IndexerActivities;
import dev.crewchief.activities.IndexerActivities.IndexerState;
import dev.crewchief.activities.IndexerActivities.StatusRequest;
import dev.crewchief.activities.IndexerActivities.WaitRequest;
import dev.crewchief.activities.IndexerActivities.Waited;
import dev.crewchief.activities.Progress;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The indexer wait against a stand-in of ENCODE's {@code /_indexer} served in this JVM, answering
 * as snovault's es_index_listener does (naive UTC times, newest result first). Its answer depends
 * on how many times it was asked, so the indexer's state moves on as the activity polls: a bolus
 * that has been indexing for two hours (its lag growing with the clock), a wait after an
 * incremental bolus only, then a wait after the full indexing has finished.
 */
class IndexerAdapterTest {
  static final Duration POLL = Duration.ofMillis(20);
  static HttpServer server;
  static String url;
  static volatile IntFunction<String> answer;
  static final AtomicInteger asked = new AtomicInteger();

  final List<Progress> heartbeats = new CopyOnWriteArrayList<>();
  TestActivityEnvironment env;
  IndexerActivities indexer;

  @BeforeAll
  static void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/_indexer",
        exchange -> {
          byte[] body = answer.apply(asked.incrementAndGet()).getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/_indexer";
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  @BeforeEach
  void up() {
    asked.set(0);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new HttpIndexerActivities(
            HttpIndexerActivities.newClient(), Clock.systemUTC(), ZoneOffset.UTC));
    env.setActivityHeartbeatListener(Progress.class, heartbeats::add);
    indexer =
        env.newActivityStub(
            IndexerActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setHeartbeatTimeout(Duration.ofSeconds(30))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());
  }

  @AfterEach
  void down() {
    env.close();
  }

  static String naive(LocalDateTime t) {
    return t.toString(); // as Python's datetime.now().isoformat(): no zone
  }

  static final LocalDateTime BOLUS = LocalDateTime.now(ZoneOffset.UTC).minusHours(2);

  static String indexing() {
    return "{\"status\":\"indexing\",\"started\":\""
        + naive(BOLUS.minusDays(3))
        + "\",\"timestamp\":\""
        + naive(BOLUS)
        + "\",\"listening\":true,\"recovery\":false,\"max_xid\":9100,\"errors\":[],"
        + "\"results\":[]}";
  }

  static final String INCREMENTAL =
      "{\"title\":\"primary_indexer\",\"xmin\":9050,\"last_xmin\":9000,\"indexed\":42,"
          + "\"indexing_elapsed\":\"0:00:07.500000\",\"timestamp\":\"2026-01-01T10:00:00\"}";
  static final String FULL =
      "{\"title\":\"primary_indexer\",\"xmin\":9000,\"last_xmin\":null,\"indexed\":120000,"
          + "\"indexing_elapsed\":\"1 day, 2:00:03.250000\",\"timestamp\":\"2026-01-01T09:00:00\"}";

  static String waiting(String... results) {
    return "{\"status\":\"waiting\",\"started\":\""
        + naive(BOLUS.minusDays(3))
        + "\",\"timestamp\":\""
        + naive(LocalDateTime.now(ZoneOffset.UTC))
        + "\",\"listening\":true,\"errors\":[],\"results\":["
        + String.join(",", results)
        + "]}";
  }

  static WaitRequest waitFor(Duration limit) {
    return new WaitRequest("wait-indexer", url, true, Duration.ofMinutes(5), POLL, limit, false);
  }

  @Test
  void waitsUntilTheFullIndexingIsDoneAndTheLagIsSmall() {
    answer = n -> n <= 3 ? indexing() : n == 4 ? waiting(INCREMENTAL) : waiting(INCREMENTAL, FULL);

    IndexerState busy = indexer.status(new StatusRequest("look", url));
    IndexerState later = indexer.status(new StatusRequest("look", url));
    assertEquals("indexing", busy.status());
    assertTrue(busy.lag().compareTo(Duration.ofHours(2)) >= 0, busy.toString());
    assertTrue(later.lag().compareTo(busy.lag()) >= 0, "the lag grows while the bolus runs");
    assertFalse(busy.firstFullDone());

    Waited w = indexer.waitForLag(waitFor(null));

    // Polls 3 (indexing) and 4 (waiting, only incremental) are not ready; 5 is.
    assertEquals(3, w.polls());
    assertFalse(w.rehearsed());
    assertEquals("waiting", w.last().status());
    assertEquals(Duration.ZERO, w.last().lag());
    assertTrue(w.last().firstFullDone());
    assertEquals(Duration.ofMillis(7500), w.last().lastBolus());
    assertEquals(42, w.last().indexed());
    // Temporal throttles heartbeats (to 0.8 of the heartbeat timeout): the first poll's is sent,
    // later ones only when the throttle allows.
    assertEquals(1L, heartbeats.get(0).done());
    assertEquals("polls", heartbeats.get(0).unit());
    assertTrue(heartbeats.get(0).message().startsWith("indexing, lag PT2H"), heartbeats.toString());
    assertTrue(heartbeats.get(0).message().contains("full indexing not done"));
    assertTrue(heartbeats.stream().allMatch(p -> p.done() >= 1 && p.done() <= 3));
  }

  @Test
  void aRetryContinuesTheCountOfPolls() {
    answer = n -> waiting(FULL);
    env.setHeartbeatDetails(new Progress(7, 0, "polls", "indexing, lag PT3H"));

    Waited w = indexer.waitForLag(waitFor(null));

    assertEquals(8, w.polls());
    assertEquals(Duration.ofDays(1).plusHours(2).plusMillis(3250), w.last().lastBolus());
  }

  @Test
  void aDryRunReadsTheStateOnce() {
    answer = n -> indexing();
    WaitRequest r = waitFor(null);
    Waited w =
        indexer.waitForLag(new WaitRequest(r.step(), url, true, r.maxLag(), POLL, null, true));
    assertTrue(w.rehearsed());
    assertEquals(0, w.polls());
    assertEquals("indexing", w.last().status());
    assertEquals(1, asked.get());
  }

  @Test
  void notTheIndexersJsonIsIndexerBadResponse() {
    answer = n -> "<html><body>ENCODE portal</body></html>";
    ApplicationFailure f = failure(() -> indexer.waitForLag(waitFor(null)));
    assertEquals("IndexerBadResponse", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(url), f.getOriginalMessage());

    answer = n -> "{\"title\":\"ENCODE\"}";
    ApplicationFailure g = failure(() -> indexer.status(new StatusRequest("look", url)));
    assertEquals("IndexerBadResponse", g.getType());
    assertTrue(g.getOriginalMessage().contains("status"), g.getOriginalMessage());
  }

  @Test
  void aWaitPastItsLimitIsIndexerWaitExpired() {
    answer = n -> indexing();
    ApplicationFailure f = failure(() -> indexer.waitForLag(waitFor(Duration.ofMillis(200))));
    assertEquals("IndexerWaitExpired", f.getType());
    assertTrue(f.getOriginalMessage().contains("indexing, lag PT2H"), f.getOriginalMessage());
    assertTrue(asked.get() >= 1);
    assertFalse(heartbeats.isEmpty());
  }

  static ApplicationFailure failure(Executable call) {
    ActivityFailure e = assertThrows(ActivityFailure.class, call);
    return assertInstanceOf(ApplicationFailure.class, e.getCause());
  }
}
