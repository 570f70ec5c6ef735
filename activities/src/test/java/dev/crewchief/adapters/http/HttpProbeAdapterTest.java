package dev.crewchief.adapters.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.crewchief.activities.HttpProbeActivities;
import dev.crewchief.activities.HttpProbeActivities.PeriodWatch;
import dev.crewchief.activities.HttpProbeActivities.PeriodWatchRequest;
import dev.crewchief.adapters.http.HttpProbeActivitiesImpl.Kind;
import dev.crewchief.adapters.http.HttpProbeActivitiesImpl.WatchState;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The period watch against a real HTTP server in this JVM whose answer the test switches while the
 * activity runs (through Temporal's test activity environment, on another thread): the old version,
 * the read-only banner, a 503, nothing listening, the new version.
 */
class HttpProbeAdapterTest {
  static final Duration INTERVAL = Duration.ofMillis(50);
  static final String BANNER = "METASPACE is in read-only mode";

  enum Phase {
    OLD(200, "<title>METASPACE 1.7.5</title>"),
    READ_ONLY(200, "<title>METASPACE 1.7.5</title><div class=banner>" + BANNER + "</div>"),
    UNAVAILABLE(503, "Service Unavailable"),
    NEW(200, "<title>METASPACE 1.7.6</title>");

    final int status;
    final String body;

    Phase(int status, String body) {
      this.status = status;
      this.body = body;
    }
  }

  final AtomicReference<Phase> phase = new AtomicReference<>(Phase.OLD);
  final Map<Phase, AtomicInteger> served = new ConcurrentHashMap<>();
  HttpServer server;
  int port;
  String url;

  @BeforeEach
  void up() throws IOException {
    for (Phase p : Phase.values()) {
      served.put(p, new AtomicInteger());
    }
    server = serve(0);
    port = server.getAddress().getPort();
    url = "http://127.0.0.1:" + port + "/";
  }

  @AfterEach
  void down() {
    server.stop(0);
  }

  HttpServer serve(int port) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    s.createContext(
        "/",
        exchange -> {
          Phase p = phase.get();
          served.get(p).incrementAndGet();
          byte[] out = p.body.getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(p.status, out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    s.start();
    return s;
  }

  int served(Phase p) {
    return served.get(p).get();
  }

  PeriodWatchRequest request(String url, Duration maxDuration, boolean dryRun) {
    return new PeriodWatchRequest(
        "read-only period", url, "METASPACE 1.7.6", null, BANNER, INTERVAL, 3, maxDuration, dryRun);
  }

  /** Runs the watch as an activity on another thread, its heartbeats to {@code heartbeats}. */
  CompletableFuture<PeriodWatch> watch(
      PeriodWatchRequest r, List<WatchState> heartbeats, Consumer<TestActivityEnvironment> setup) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new HttpProbeActivitiesImpl());
    env.setActivityHeartbeatListener(WatchState.class, heartbeats::add);
    setup.accept(env);
    HttpProbeActivities stub =
        env.newActivityStub(
            HttpProbeActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(2))
                .setHeartbeatTimeout(Duration.ofSeconds(1))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());
    return CompletableFuture.supplyAsync(() -> stub.watchPeriod(r))
        .whenComplete((w, e) -> env.close());
  }

  @Test
  void measuresTheMessageAndTheSilentDowntimeUntilTheNewVersionAnswers() throws Exception {
    List<WatchState> heartbeats = new CopyOnWriteArrayList<>();
    long began = System.currentTimeMillis();
    CompletableFuture<PeriodWatch> run =
        watch(request(url, Duration.ofMinutes(1), false), heartbeats, env -> {});

    waitFor(() -> served(Phase.OLD) >= 3, "the old version to be asked");
    phase.set(Phase.READ_ONLY);
    waitFor(() -> served(Phase.READ_ONLY) >= 3, "the banner to be seen");
    phase.set(Phase.UNAVAILABLE);
    waitFor(() -> served(Phase.UNAVAILABLE) >= 3, "the 503 to be seen");
    // Nothing listening for a moment: until a heartbeat says a refused connection was counted.
    server.stop(0);
    waitFor(
        () ->
            heartbeats.stream()
                .anyMatch(
                    h -> h.last().startsWith("ConnectException") && h.lastKind() == Kind.DOWN),
        "a refused connection to be counted");
    phase.set(Phase.NEW);
    server = rebind(port);

    PeriodWatch w = run.get(60, TimeUnit.SECONDS);
    long elapsed = System.currentTimeMillis() - began;

    assertTrue(w.settled(), w.describe());
    assertFalse(w.rehearsed());
    assertEquals(3, served(Phase.NEW), "three new-version answers in a row settle it");
    assertEquals(served(Phase.READ_ONLY), w.withMessage(), w.describe());
    int refused = w.silentDown() - served(Phase.UNAVAILABLE);
    assertTrue(refused >= 1, w.describe());
    // Every probe is one answer; the old version's answers are neither message nor downtime.
    assertEquals(
        served(Phase.OLD)
            + served(Phase.READ_ONLY)
            + served(Phase.UNAVAILABLE)
            + refused
            + served(Phase.NEW),
        w.probes(),
        w.describe());
    // Each answer stands for at least one interval (requests are that far apart), and no figure
    // can exceed the watch's own length.
    assertTrue(w.messageMillis() >= w.withMessage() * INTERVAL.toMillis(), w.describe());
    assertTrue(w.messageMillis() <= elapsed, w.describe());
    assertTrue(w.longestSilentMillis() >= w.silentDown() * INTERVAL.toMillis(), w.describe());
    assertTrue(w.longestSilentMillis() <= elapsed, w.describe());
    assertNotNull(w.firstDegraded());
    assertFalse(w.lastDegraded().isBefore(w.firstDegraded()));
    assertFalse(w.firstDegraded().isBefore(Instant.ofEpochMilli(began)));
    assertTrue(w.describe().contains("longest down without a message"), w.describe());
  }

  @Test
  void aSiteThatNeverServesTheNewVersionEndsUnsettledAfterMaxDuration() throws Exception {
    // The old version throughout: neither downtime nor the end of the period.
    PeriodWatch w =
        watch(request(url, Duration.ofMillis(600), false), new CopyOnWriteArrayList<>(), e -> {})
            .get(30, TimeUnit.SECONDS);
    assertFalse(w.settled());
    assertTrue(w.probes() >= 1);
    assertEquals(served(Phase.OLD), w.probes());
    assertEquals(0, w.withMessage());
    assertEquals(0, w.silentDown());
    assertEquals(0, w.longestSilentMillis());
    assertNull(w.firstDegraded());
    assertTrue(w.describe().endsWith("not settled when the watch ended"), w.describe());

    // Nothing listening throughout: all of it is downtime without a message.
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    PeriodWatch gone =
        watch(
                request("http://127.0.0.1:" + closed + "/", Duration.ofMillis(600), false),
                new CopyOnWriteArrayList<>(),
                e -> {})
            .get(30, TimeUnit.SECONDS);
    assertFalse(gone.settled());
    assertTrue(gone.probes() >= 1);
    assertEquals(gone.probes(), gone.silentDown());
    assertTrue(gone.longestSilentMillis() >= gone.probes() * INTERVAL.toMillis(), gone.describe());
  }

  @Test
  void aRetriedAttemptGoesOnFromTheCountsOfTheLostOne() throws Exception {
    phase.set(Phase.NEW);
    long start = System.currentTimeMillis() - 5_000;
    // The lost attempt: 10 probes, the last one showing the banner, a 700 ms silent stretch.
    WatchState lost =
        new WatchState(
            start,
            10,
            4,
            2,
            400,
            700,
            0,
            Kind.MESSAGE,
            start + 4_000,
            0,
            start + 1_000,
            start + 4_000,
            "200: MESSAGE");
    PeriodWatch w =
        watch(
                request(url, Duration.ofMinutes(1), false),
                new CopyOnWriteArrayList<>(),
                env -> env.setHeartbeatDetails(lost))
            .get(30, TimeUnit.SECONDS);
    assertTrue(w.settled());
    assertEquals(13, w.probes());
    assertEquals(4, w.withMessage());
    assertEquals(2, w.silentDown());
    // The lost attempt's last answer stands for one interval; the gap between attempts for none.
    assertEquals(400 + INTERVAL.toMillis(), w.messageMillis());
    assertEquals(700, w.longestSilentMillis());
    assertEquals(Instant.ofEpochMilli(start + 1_000), w.firstDegraded());
    assertEquals(Instant.ofEpochMilli(start + 4_000), w.lastDegraded());
    assertEquals(3, served(Phase.NEW));

    // Its time limit runs from the first attempt's start: one that began long ago ends at once.
    WatchState old = WatchState.start(System.currentTimeMillis() - 120_000);
    PeriodWatch late =
        watch(
                request(url, Duration.ofMinutes(1), false),
                new CopyOnWriteArrayList<>(),
                env -> env.setHeartbeatDetails(old))
            .get(30, TimeUnit.SECONDS);
    assertFalse(late.settled());
    assertEquals(0, late.probes());
    assertEquals(3, served(Phase.NEW));
  }

  @Test
  void aRehearsalAsksNothing() {
    PeriodWatch w =
        new HttpProbeActivitiesImpl().watchPeriod(request(url, Duration.ofMinutes(1), true));
    assertTrue(w.rehearsed());
    assertEquals("rehearsed: not watched", w.describe());
    served.values().forEach(c -> assertEquals(0, c.get()));
  }

  @Test
  void inputsThatCannotBeWatchedAreInvalidInput() {
    HttpProbeActivitiesImpl probe = new HttpProbeActivitiesImpl();
    PeriodWatchRequest ok = request(url, Duration.ofMinutes(1), true);
    for (PeriodWatchRequest bad :
        List.of(
            request("ftp://example.org/", Duration.ofMinutes(1), true),
            request("not a url", Duration.ofMinutes(1), true),
            request(url, null, true),
            new PeriodWatchRequest(
                "s", url, null, null, BANNER, INTERVAL, 3, Duration.ofMinutes(1), true),
            new PeriodWatchRequest(
                "s", url, ok.upText(), 999, BANNER, INTERVAL, 3, Duration.ofMinutes(1), true),
            new PeriodWatchRequest(
                "s",
                url,
                ok.upText(),
                null,
                BANNER,
                Duration.ZERO,
                3,
                Duration.ofMinutes(1),
                true))) {
      ApplicationFailure f = assertFailure("InvalidInput", () -> probe.watchPeriod(bad));
      assertTrue(f.isNonRetryable());
    }
  }

  /** The server again on the same port (free again once the old one has stopped). */
  HttpServer rebind(int port) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        return serve(port);
      } catch (BindException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        pause();
      }
    }
  }

  static void waitFor(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      pause();
    }
  }

  static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }
}
