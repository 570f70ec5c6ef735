package dev.crewchief.adapters.ci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.crewchief.activities.CiActivities;
import dev.crewchief.activities.CiActivities.CiBuild;
import dev.crewchief.activities.CiActivities.CiRequest;
import dev.crewchief.activities.CiActivities.CiResult;
import dev.crewchief.activities.CiActivities.Provider;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.webhook.HttpWebhookActivities;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The CI adapter against an HTTP server in the test JVM that answers as CircleCI's API v2 and
 * GitHub's commit status API do (their documented JSON, their token headers checked: a request
 * without the right token gets their 401). The activity runs in Temporal's test activity
 * environment, so its heartbeats and a retry's heartbeat details are real.
 */
class CiAdapterTest {
  static final String TOKEN = "ci-token-0123456789abcdef";
  static final String COMMIT = "3c9e8bb7f00213612d0302902d13b91574591f8a";
  static final String OTHER = "7c541070c1364aa6756546a7812f26599ccaf6f7";
  static final String SLUG = "gh/metaspace2020/metaspace";
  static final String REPO = "metaspace2020/metaspace";
  static final ObjectMapper JSON = new ObjectMapper();

  record Job(String name, int number, String status) {}

  /** A workflow whose status at its pipeline's n-th look is the n-th (the last one after that). */
  record Workflow(String id, String name, List<String> statusByLook, List<Job> jobs) {}

  record Pipeline(String id, int number, String revision, String state, List<Workflow> workflows) {}

  record Status(String context, String state, String description) {}

  record Request(String host, String path, String circleToken, String authorization) {}

  HttpServer server;
  String base;
  final List<Request> requests = new CopyOnWriteArrayList<>();
  final List<Pipeline> pipelines = new CopyOnWriteArrayList<>();
  final Map<String, AtomicInteger> looks = new ConcurrentHashMap<>();
  // GitHub: the statuses of COMMIT at its n-th look (the last one after that).
  final List<List<Status>> statusByLook = new CopyOnWriteArrayList<>();
  volatile String redirectTo;
  volatile int failWith;

  final List<HttpCiActivities.CiWait> heartbeats = new CopyOnWriteArrayList<>();
  TestActivityEnvironment env;

  @BeforeEach
  void up() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/v2/", this::circleci);
    server.createContext("/gh/", this::github);
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
    env = TestActivityEnvironment.newInstance();
    env.setActivityHeartbeatListener(HttpCiActivities.CiWait.class, heartbeats::add);
    env.registerActivitiesImplementations(
        new HttpCiActivities(
            new SecretResolver(Map.of("CI_TOKEN", TOKEN, "WRONG_TOKEN", "not-the-token-42")),
            HttpWebhookActivities.newClient()));
  }

  @AfterEach
  void down() {
    env.close();
    server.stop(0);
  }

  // --- the fake APIs ---

  void circleci(HttpExchange x) throws IOException {
    String path = x.getRequestURI().getPath().substring("/api/v2".length());
    record(x);
    if (!answeredSpecially(x)) {
      if (!TOKEN.equals(x.getRequestHeaders().getFirst("Circle-Token"))) {
        send(x, 401, Map.of("message", "You must log in first."));
        return;
      }
      Map<String, String> query = query(x);
      if (path.equals("/project/" + SLUG + "/pipeline")) {
        List<Object> items = new ArrayList<>();
        for (Pipeline p : pipelines) {
          items.add(pipelineJson(p, query.get("branch")));
        }
        send(x, 200, page(items));
      } else if (path.matches("/pipeline/[^/]+/workflow")) {
        Pipeline p = pipeline(path.split("/")[2]);
        int n = looks.computeIfAbsent(p.id(), k -> new AtomicInteger()).getAndIncrement();
        List<Object> items = new ArrayList<>();
        for (Workflow w : p.workflows()) {
          items.add(workflowJson(p, w, n));
        }
        send(x, 200, page(items));
      } else if (path.matches("/workflow/[^/]+/job")) {
        Workflow w = workflow(path.split("/")[2]);
        List<Object> items = new ArrayList<>();
        for (Job j : w.jobs()) {
          Map<String, Object> job = new LinkedHashMap<>();
          job.put("dependencies", List.of());
          job.put("job_number", j.number());
          job.put("id", "job-" + j.number());
          job.put("started_at", "2024-05-02T10:00:00Z");
          job.put("name", j.name());
          job.put("project_slug", SLUG);
          job.put("status", j.status());
          job.put("type", "build");
          job.put("stopped_at", null);
          items.add(job);
        }
        send(x, 200, page(items));
      } else {
        send(x, 404, Map.of("message", "Not found."));
      }
    }
  }

  void github(HttpExchange x) throws IOException {
    String path = x.getRequestURI().getPath().substring("/gh".length());
    record(x);
    if (answeredSpecially(x)) {
      return;
    }
    if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
      send(
          x,
          401,
          Map.of(
              "message", "Bad credentials", "documentation_url", "https://docs.github.com/rest"));
      return;
    }
    if (!path.equals("/repos/" + REPO + "/commits/" + COMMIT + "/status")) {
      send(x, 404, Map.of("message", "Not Found"));
      return;
    }
    int n = looks.computeIfAbsent("github", k -> new AtomicInteger()).getAndIncrement();
    List<Status> now =
        statusByLook.isEmpty() ? List.of() : statusByLook.get(Math.min(n, statusByLook.size() - 1));
    List<Object> statuses = new ArrayList<>();
    int id = 1;
    for (Status s : now) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("url", base + "/gh/repos/" + REPO + "/statuses/" + COMMIT);
      m.put("id", id++);
      m.put("node_id", "SC_" + id);
      m.put("state", s.state());
      m.put("description", s.description());
      m.put("target_url", "https://ci.example.test/" + s.context());
      m.put("context", s.context());
      m.put("created_at", "2024-05-02T10:00:00Z");
      m.put("updated_at", "2024-05-02T10:05:00Z");
      statuses.add(m);
    }
    String combined =
        now.isEmpty() || now.stream().anyMatch(s -> s.state().equals("pending"))
            ? "pending"
            : now.stream().allMatch(s -> s.state().equals("success")) ? "success" : "failure";
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("state", combined);
    body.put("statuses", statuses);
    body.put("sha", COMMIT);
    body.put("total_count", statuses.size());
    body.put("repository", Map.of("full_name", REPO));
    body.put("commit_url", base + "/gh/repos/" + REPO + "/commits/" + COMMIT);
    send(x, 200, body);
  }

  private boolean answeredSpecially(HttpExchange x) throws IOException {
    if (redirectTo != null && !"localhost".equals(host(x))) {
      x.getResponseHeaders().add("Location", redirectTo + x.getRequestURI());
      x.sendResponseHeaders(302, -1);
      x.close();
      return true;
    }
    if (failWith != 0) {
      send(x, failWith, Map.of("message", "Service unavailable"));
      return true;
    }
    return false;
  }

  private void record(HttpExchange x) {
    requests.add(
        new Request(
            host(x),
            x.getRequestURI().getPath(),
            x.getRequestHeaders().getFirst("Circle-Token"),
            x.getRequestHeaders().getFirst("Authorization")));
  }

  private static String host(HttpExchange x) {
    String h = x.getRequestHeaders().getFirst("Host");
    return h == null ? "" : h.replaceAll(":\\d+$", "");
  }

  private Map<String, Object> pipelineJson(Pipeline p, String branch) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", p.id());
    m.put("errors", List.of());
    m.put("project_slug", SLUG);
    m.put("updated_at", "2024-05-02T10:00:00Z");
    m.put("number", p.number());
    m.put("state", p.state());
    m.put("created_at", "2024-05-02T10:00:00Z");
    m.put("trigger", Map.of("type", "webhook", "received_at", "2024-05-02T10:00:00Z"));
    m.put(
        "vcs",
        Map.of(
            "provider_name",
            "GitHub",
            "origin_repository_url",
            "https://github.com/" + REPO,
            "target_repository_url",
            "https://github.com/" + REPO,
            "revision",
            p.revision(),
            "branch",
            branch == null ? "master" : branch));
    return m;
  }

  private static Map<String, Object> workflowJson(Pipeline p, Workflow w, int look) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pipeline_id", p.id());
    m.put("id", w.id());
    m.put("name", w.name());
    m.put("project_slug", SLUG);
    m.put("status", w.statusByLook().get(Math.min(look, w.statusByLook().size() - 1)));
    m.put("started_by", "user-1");
    m.put("pipeline_number", p.number());
    m.put("created_at", "2024-05-02T10:00:00Z");
    m.put("stopped_at", null);
    return m;
  }

  private Pipeline pipeline(String id) {
    return pipelines.stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow();
  }

  private Workflow workflow(String id) {
    return pipelines.stream()
        .flatMap(p -> p.workflows().stream())
        .filter(w -> w.id().equals(id))
        .findFirst()
        .orElseThrow();
  }

  private static Map<String, Object> page(List<Object> items) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("items", items);
    m.put("next_page_token", null);
    return m;
  }

  private static Map<String, String> query(HttpExchange x) {
    Map<String, String> q = new LinkedHashMap<>();
    String raw = x.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String kv : raw.split("&")) {
        String[] p = kv.split("=", 2);
        q.put(
            URLDecoder.decode(p[0], StandardCharsets.UTF_8),
            p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
      }
    }
    return q;
  }

  private static void send(HttpExchange x, int status, Object body) throws IOException {
    byte[] out = JSON.writeValueAsBytes(body);
    x.getResponseHeaders().add("Content-Type", "application/json");
    x.sendResponseHeaders(status, out.length);
    x.getResponseBody().write(out);
    x.close();
  }

  // --- the activity ---

  CiActivities stub() {
    return env.newActivityStub(
        CiActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(1))
            .setHeartbeatTimeout(Duration.ofSeconds(10))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  CiRequest circle(List<String> required, String tokenRef, Duration limit, boolean dryRun) {
    return new CiRequest(
        "ci",
        Provider.CIRCLECI,
        base + "/api/v2",
        SLUG,
        "master",
        COMMIT,
        required,
        tokenRef,
        limit,
        Duration.ofMillis(50),
        dryRun);
  }

  CiRequest github(List<String> required, String tokenRef, Duration limit, boolean dryRun) {
    return new CiRequest(
        "ci",
        Provider.GITHUB,
        base + "/gh",
        REPO,
        "master",
        COMMIT,
        required,
        tokenRef,
        limit,
        Duration.ofMillis(50),
        dryRun);
  }

  static Workflow wf(String id, String name, List<String> statuses, Job... jobs) {
    return new Workflow(id, name, statuses, List.of(jobs));
  }

  /** The commit's pipeline with these workflows, and an older commit's red one beside it. */
  void circlePipeline(Workflow... workflows) {
    pipelines.add(new Pipeline("p-new", 102, COMMIT, "created", List.of(workflows)));
    pipelines.add(
        new Pipeline(
            "p-old",
            101,
            OTHER,
            "created",
            List.of(
                wf("w-old", "webapp", List.of("failed"), new Job("test-webapp", 7, "failed")))));
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ActivityFailure f = assertThrows(ActivityFailure.class, call);
    ApplicationFailure a = (ApplicationFailure) f.getCause();
    assertEquals(type, a.getType(), a.getOriginalMessage());
    assertFalse(a.getOriginalMessage().contains(TOKEN), a.getOriginalMessage());
    return a;
  }

  void assertEveryRequestCarriedTheToken() {
    assertFalse(requests.isEmpty());
    for (Request r : requests) {
      if (r.path().startsWith("/gh/")) {
        assertEquals("Bearer " + TOKEN, r.authorization(), r.toString());
        assertEquals(null, r.circleToken());
      } else {
        assertEquals(TOKEN, r.circleToken(), r.toString());
        assertEquals(null, r.authorization());
      }
    }
  }

  // --- CircleCI ---

  @Test
  void circleGreenCommitPasses() {
    circlePipeline(
        wf("w-web", "webapp", List.of("success"), new Job("test-webapp", 11, "success")),
        wf("w-gql", "graphql", List.of("success"), new Job("test-graphql", 12, "success")));
    CiResult r =
        stub()
            .awaitGreen(circle(List.of("webapp", "graphql"), "env:CI_TOKEN", Duration.ZERO, false));
    assertFalse(r.rehearsed());
    assertEquals(COMMIT, r.commit());
    assertEquals(
        List.of(
            new CiBuild("webapp", "success", base + "/api/v2/workflow/w-web"),
            new CiBuild("graphql", "success", base + "/api/v2/workflow/w-gql")),
        r.builds());
    assertEveryRequestCarriedTheToken();
    // The older commit's red pipeline was never asked about.
    assertTrue(requests.stream().noneMatch(q -> q.path().contains("p-old")), requests.toString());
  }

  @Test
  void circleRedNamesTheFailingWorkflowAndItsFailingJobs() {
    circlePipeline(
        wf("w-web", "webapp", List.of("success")),
        wf(
            "w-gql",
            "graphql",
            List.of("failed"),
            new Job("lint-graphql", 21, "success"),
            new Job("test-graphql", 22, "failed"),
            new Job("deploy-docs", 23, "not_run")));
    ApplicationFailure f =
        assertFailure(
            "CiRed",
            () ->
                stub().awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ofMinutes(1), false)));
    assertTrue(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("workflow graphql failed"), m);
    assertTrue(m.contains("test-graphql (failed)"), m);
    assertFalse(m.contains("lint-graphql"), m);
    assertFalse(m.contains("webapp"), m);
  }

  @Test
  void circleARequiredJobCountsByItsOwnStatus() {
    circlePipeline(
        wf(
            "w-all",
            "build-and-test",
            List.of("failing"),
            new Job("test-webapp", 31, "success"),
            new Job("test-graphql", 32, "running"),
            new Job("test-engine", 33, "failed")));
    CiResult r =
        stub().awaitGreen(circle(List.of("test-webapp"), "env:CI_TOKEN", Duration.ZERO, false));
    assertEquals(
        List.of(
            new CiBuild("test-webapp", "success", base + "/api/v2/project/" + SLUG + "/job/31")),
        r.builds());
    ApplicationFailure f =
        assertFailure(
            "CiRed",
            () ->
                stub()
                    .awaitGreen(
                        circle(List.of("test-engine"), "env:CI_TOKEN", Duration.ZERO, false)));
    assertTrue(f.getOriginalMessage().contains("job test-engine failed"), f.getOriginalMessage());
  }

  @Test
  void circlePendingThenGreenWaitsHeartbeatingWhatRuns() {
    circlePipeline(
        wf("w-web", "webapp", List.of("running", "running", "on_hold", "success")),
        wf("w-gql", "graphql", List.of("success")));
    CiResult r = stub().awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ofMinutes(1), false));
    assertEquals(List.of("success", "success"), r.builds().stream().map(CiBuild::state).toList());
    assertEquals(4, looks.get("p-new").get());
    assertFalse(heartbeats.isEmpty());
    HttpCiActivities.CiWait first = heartbeats.get(0);
    assertTrue(first.message().contains("webapp (running)"), first.message());
    assertFalse(first.message().contains("graphql"), first.message());
    assertEquals(60, first.total());
    // Later heartbeats are throttled by the SDK (to a fraction of the heartbeat timeout), so the
    // listener sees the first one and then one every few seconds, whatever they said.
    assertTrue(heartbeats.stream().allMatch(h -> h.waitBeganMillis() == first.waitBeganMillis()));
    assertTrue(heartbeats.stream().noneMatch(h -> h.message().contains(TOKEN)));
  }

  @Test
  void circleStillRunningAtTheLimitIsCiPendingNamingWhatRuns() {
    circlePipeline(
        wf("w-web", "webapp", List.of("on_hold")), wf("w-gql", "graphql", List.of("success")));
    ApplicationFailure f =
        assertFailure(
            "CiPending",
            () ->
                stub()
                    .awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ofMillis(300), false)));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("webapp (on_hold)"), f.getOriginalMessage());
    assertTrue(looks.get("p-new").get() >= 2, "looked again while waiting");
  }

  @Test
  void aRetriedWaitKeepsTheFirstAttemptsLimit() {
    circlePipeline(wf("w-web", "webapp", List.of("running")));
    // As the last heartbeat of an attempt that began the wait ten minutes ago.
    long tenMinutesAgo = System.currentTimeMillis() - Duration.ofMinutes(10).toMillis();
    env.setHeartbeatDetails(
        new HttpCiActivities.CiWait(600, 900, "s", "waiting for CI", tenMinutesAgo));
    ApplicationFailure f =
        assertFailure(
            "CiPending",
            () ->
                stub().awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ofMinutes(5), false)));
    // The limit had passed already: one look, no new five minutes.
    assertEquals(1, looks.get("p-new").get());
    assertTrue(f.getOriginalMessage().contains("after waiting PT10M"), f.getOriginalMessage());
    assertEquals(tenMinutesAgo, heartbeats.get(heartbeats.size() - 1).waitBeganMillis());
  }

  @Test
  void circleWithoutAPipelineOfTheCommitIsCiBuildMissingAfterTheWait() {
    pipelines.add(
        new Pipeline(
            "p-old", 101, OTHER, "created", List.of(wf("w", "webapp", List.of("success")))));
    ApplicationFailure f =
        assertFailure(
            "CiBuildMissing",
            () ->
                stub()
                    .awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ofMillis(200), false)));
    assertTrue(f.getOriginalMessage().contains("no pipeline of " + COMMIT), f.getOriginalMessage());
    assertTrue(
        requests.stream().filter(q -> q.path().endsWith("/pipeline")).count() >= 2,
        "kept looking until the limit");
  }

  @Test
  void circleWithTheWrongTokenIsCiAuthFailed() {
    circlePipeline(wf("w-web", "webapp", List.of("success")));
    ApplicationFailure f =
        assertFailure(
            "CiAuthFailed",
            () -> stub().awaitGreen(circle(List.of(), "env:WRONG_TOKEN", Duration.ZERO, false)));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("env:WRONG_TOKEN"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains("not-the-token-42"), f.getOriginalMessage());
  }

  @Test
  void aServiceThatIsDownIsRetryableCiUnreachable() {
    failWith = 503;
    ApplicationFailure f =
        assertFailure(
            "CiUnreachable",
            () -> stub().awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ZERO, false)));
    assertFalse(f.isNonRetryable());
    server.stop(0);
    ApplicationFailure g =
        assertFailure(
            "CiUnreachable",
            () -> stub().awaitGreen(github(List.of(), "env:CI_TOKEN", Duration.ZERO, false)));
    assertFalse(g.isNonRetryable());
  }

  @Test
  void aRedirectToAnotherHostIsNotFollowedWithTheToken() {
    circlePipeline(wf("w-web", "webapp", List.of("success")));
    redirectTo = "http://localhost:" + server.getAddress().getPort();
    ApplicationFailure f =
        assertFailure(
            "InvalidInput",
            () -> stub().awaitGreen(circle(List.of(), "env:CI_TOKEN", Duration.ZERO, false)));
    assertTrue(f.getOriginalMessage().contains("another host"), f.getOriginalMessage());
    assertTrue(requests.stream().noneMatch(r -> r.host().equals("localhost")), requests.toString());
  }

  // --- GitHub ---

  @Test
  void githubGreenCommitPasses() {
    statusByLook.add(
        List.of(
            new Status("ci/circleci: webapp", "success", "Your tests passed on CircleCI!"),
            new Status("ci/circleci: graphql", "success", "Your tests passed on CircleCI!"),
            new Status("codecov/patch", "failure", "60% of diff hit")));
    CiResult r =
        stub()
            .awaitGreen(
                github(
                    List.of("ci/circleci: webapp", "ci/circleci: graphql"),
                    "env:CI_TOKEN",
                    Duration.ZERO,
                    false));
    assertEquals(
        List.of(
            new CiBuild(
                "ci/circleci: webapp", "success", "https://ci.example.test/ci/circleci: webapp"),
            new CiBuild(
                "ci/circleci: graphql", "success", "https://ci.example.test/ci/circleci: graphql")),
        r.builds());
    assertEveryRequestCarriedTheToken();
  }

  @Test
  void githubRedNamesTheFailingContexts() {
    statusByLook.add(
        List.of(
            new Status("ci/circleci: webapp", "success", "passed"),
            new Status("ci/circleci: graphql", "failure", "Your tests failed on CircleCI")));
    ApplicationFailure f =
        assertFailure(
            "CiRed",
            () ->
                stub().awaitGreen(github(List.of(), "env:CI_TOKEN", Duration.ofMinutes(1), false)));
    String m = f.getOriginalMessage();
    assertTrue(m.contains("ci/circleci: graphql failure (Your tests failed on CircleCI)"), m);
    assertTrue(m.contains("https://ci.example.test/ci/circleci: graphql"), m);
    assertFalse(m.contains("webapp"), m);
  }

  @Test
  void githubPendingThenGreen() {
    statusByLook.add(List.of(new Status("ci/circleci: webapp", "pending", "running")));
    statusByLook.add(List.of(new Status("ci/circleci: webapp", "pending", "running")));
    statusByLook.add(List.of(new Status("ci/circleci: webapp", "success", "passed")));
    CiResult r =
        stub()
            .awaitGreen(
                github(
                    List.of("ci/circleci: webapp"), "env:CI_TOKEN", Duration.ofMinutes(1), false));
    assertEquals("success", r.builds().get(0).state());
    assertEquals(3, looks.get("github").get());
    assertTrue(heartbeats.get(0).message().contains("ci/circleci: webapp pending"));
  }

  @Test
  void githubPendingUntilTheLimitIsCiPending() {
    statusByLook.add(List.of(new Status("ci/circleci: webapp", "pending", "running")));
    ApplicationFailure f =
        assertFailure(
            "CiPending",
            () ->
                stub()
                    .awaitGreen(github(List.of(), "env:CI_TOKEN", Duration.ofMillis(300), false)));
    assertTrue(
        f.getOriginalMessage().contains("ci/circleci: webapp pending"), f.getOriginalMessage());
  }

  @Test
  void githubWithoutStatusesOrWithoutTheRequiredOneIsCiBuildMissing() {
    ApplicationFailure f =
        assertFailure(
            "CiBuildMissing",
            () ->
                stub()
                    .awaitGreen(github(List.of(), "env:CI_TOKEN", Duration.ofMillis(150), false)));
    assertTrue(f.getOriginalMessage().contains("no status of " + COMMIT), f.getOriginalMessage());
    statusByLook.add(List.of(new Status("ci/circleci: webapp", "success", "passed")));
    ApplicationFailure g =
        assertFailure(
            "CiBuildMissing",
            () ->
                stub()
                    .awaitGreen(
                        github(
                            List.of("ci/circleci: graphql"),
                            "env:CI_TOKEN",
                            Duration.ofMillis(150),
                            false)));
    assertTrue(g.getOriginalMessage().contains("ci/circleci: graphql"), g.getOriginalMessage());
  }

  @Test
  void githubWithTheWrongTokenIsCiAuthFailed() {
    statusByLook.add(List.of(new Status("ci/circleci: webapp", "success", "passed")));
    ApplicationFailure f =
        assertFailure(
            "CiAuthFailed",
            () -> stub().awaitGreen(github(List.of(), "env:WRONG_TOKEN", Duration.ZERO, false)));
    assertTrue(f.getOriginalMessage().contains("Bad credentials"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains("not-the-token-42"), f.getOriginalMessage());
  }

  // --- both ---

  @Test
  void aDryRunSendsNothingAndReadsNoSecret() {
    // The reference names a variable this worker does not have: a rehearsal does not read it.
    CiResult c =
        stub().awaitGreen(circle(List.of("webapp"), "env:NOT_SET_HERE", Duration.ofHours(1), true));
    CiResult g =
        stub().awaitGreen(github(List.of(), "env:NOT_SET_HERE", Duration.ofHours(1), true));
    assertTrue(c.rehearsed());
    assertTrue(g.rehearsed());
    assertEquals(
        List.of(
            new CiBuild(
                "webapp",
                "rehearsed",
                base + "/api/v2/project/" + SLUG + "/pipeline?branch=master")),
        c.builds());
    assertEquals("rehearsed", g.builds().get(0).state());
    assertTrue(g.builds().get(0).url().contains("/commits/" + COMMIT + "/status"));
    assertEquals(List.of(), requests);
    assertEquals(List.of(), heartbeats);
  }

  @Test
  void invalidInputIsRefusedBeforeAnyRequest() {
    assertFailure(
        "InvalidInput",
        () ->
            stub()
                .awaitGreen(
                    new CiRequest(
                        "ci",
                        Provider.CIRCLECI,
                        base + "/api/v2",
                        "metaspace",
                        "master",
                        COMMIT,
                        List.of(),
                        "env:CI_TOKEN",
                        Duration.ZERO,
                        Duration.ofMillis(50),
                        false)));
    assertFailure(
        "InvalidInput",
        () ->
            stub()
                .awaitGreen(
                    new CiRequest(
                        "ci",
                        Provider.GITHUB,
                        base + "/gh",
                        REPO,
                        "master",
                        "master",
                        List.of(),
                        TOKEN,
                        Duration.ZERO,
                        Duration.ofMillis(50),
                        false)));
    assertEquals(List.of(), requests);
  }
}
