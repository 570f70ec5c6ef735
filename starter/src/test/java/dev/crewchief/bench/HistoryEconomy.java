package dev.crewchief.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crewchief.release.DecisionReply;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.SearchAttributes;
import dev.crewchief.worker.CrewChiefWorker;
import dev.crewchief.worker.WorkerTuning;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Benchmark 4, history economy: for every recorded release history (workflows' test resources,
 * written before the one-upsert change) and for fresh bench releases (the current code), the events
 * per runbook step, the search-attribute upserts per step transition and the upserts that change
 * nothing; then a 14-day reindex wait simulated on Temporal's time-skipping test server.
 */
public final class HistoryEconomy {
  private static final Set<String> ENDS = Set.of("done", "failed", "cancelled");
  private static final ObjectMapper JSON = new ObjectMapper();

  private HistoryEconomy() {}

  /** What one history writes. */
  record Economy(
      String name,
      int events,
      int transitions,
      int steps,
      int upserts,
      int unchanged,
      int projectedUpserts) {
    double eventsPerStep() {
      return events / (double) Math.max(1, steps);
    }

    double upsertsPerTransition() {
      return upserts / (double) Math.max(1, transitions);
    }

    /** The events the same release would write with one upsert per transition of what changed. */
    int projectedEvents() {
      return events - upserts + projectedUpserts;
    }

    /** One line of the benchmark's log. */
    String line() {
      return String.format(
          java.util.Locale.ROOT,
          "%-60s %4d events %3d steps %5.1f ev/step %3d upserts (%d unchanged) %.2f/transition",
          name,
          events,
          steps,
          eventsPerStep(),
          upserts,
          unchanged,
          upsertsPerTransition());
    }
  }

  public static void main(String[] args) throws Exception {
    Bench bench = new Bench("history");
    // The reindex's hourly "not yet" failures are expected: the SDK would log each with its trace.
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.temporal"))
        .setLevel(ch.qos.logback.classic.Level.ERROR);
    Path root = Path.of(System.getenv().getOrDefault("BENCH_ROOT", "."));
    List<Economy> recorded = new ArrayList<>();
    try (Stream<Path> files = Files.list(root.resolve("workflows/src/test/resources/histories"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        // Parsed as the protobuf JSON they are (the SDK's fromJson needs a library the CLI's
        // classpath does not carry).
        io.temporal.api.history.v1.History.Builder h =
            io.temporal.api.history.v1.History.newBuilder();
        com.google.protobuf.util.JsonFormat.parser()
            .ignoringUnknownFields()
            .merge(Files.readString(f), h);
        Economy e = economy(f.getFileName().toString(), h.getEventsList());
        recorded.add(e);
        Bench.log(
            "%s; with the fix: %d upserts, %.1f ev/step",
            e.line(), e.projectedUpserts, e.projectedEvents() / (double) Math.max(1, e.steps));
      }
    }
    // Histories recorded on a server without the search attributes (the embedded one) name no
    // steps: their events cannot be counted per step.
    List<Economy> withSteps = recorded.stream().filter(e -> e.steps > 0).toList();
    double worstRecordedEvents =
        withSteps.stream().mapToDouble(Economy::eventsPerStep).max().orElse(0);
    double worstRecordedUpserts =
        recorded.stream().mapToDouble(Economy::upsertsPerTransition).max().orElse(0);
    int recordedUnchanged = recorded.stream().mapToInt(Economy::unchanged).sum();
    int recordedUpserts = recorded.stream().mapToInt(Economy::upserts).sum();
    double projectedWorst =
        withSteps.stream()
            .mapToDouble(e -> e.projectedEvents() / (double) Math.max(1, e.steps))
            .max()
            .orElse(0);
    String before = recorded.size() + " recorded histories, written before the one-upsert change";
    bench.figure(
        "recorded: worst upserts per step transition",
        worstRecordedUpserts,
        "upserts",
        "<= 1",
        worstRecordedUpserts <= 1,
        before);
    bench.figure(
        "recorded: upserts that change nothing",
        recordedUnchanged,
        "upserts",
        "0",
        recordedUnchanged == 0,
        "of " + recordedUpserts + " upserts in " + before);
    bench.figure(
        "recorded: worst events per runbook step",
        worstRecordedEvents,
        "events",
        "<= 8",
        worstRecordedEvents <= 8,
        withSteps.size()
            + " of the "
            + before
            + " (the others name no steps); "
            + String.format("%.1f", projectedWorst)
            + " with one upsert per transition");

    // Fresh releases on the current code: one without gates, one that waits at gates.
    Bench.WorkerProcess worker = bench.startWorker("history-worker", Map.of());
    List<Economy> fresh = new ArrayList<>();
    try {
      WorkflowClient client = bench.client();
      fresh.add(freshRun(bench, client, "plain", new int[] {40, 10, 0}));
      fresh.add(freshRun(bench, client, "gated", new int[] {12, 4, 1}));
    } finally {
      worker.stop();
    }
    for (Economy e : fresh) {
      Bench.log("%s", e.line());
    }
    double freshUpserts = fresh.stream().mapToDouble(Economy::upsertsPerTransition).max().orElse(0);
    int freshUnchanged = fresh.stream().mapToInt(Economy::unchanged).sum();
    double freshEvents = fresh.stream().mapToDouble(Economy::eventsPerStep).max().orElse(0);
    String now =
        "fresh bench releases (40 steps, gates skipped; 12 steps, 2 gates taken, lane held)";
    bench.figure(
        "current: worst upserts per step transition",
        freshUpserts,
        "upserts",
        "<= 1",
        freshUpserts <= 1,
        now);
    bench.figure(
        "current: upserts that change nothing",
        freshUnchanged,
        "upserts",
        "0",
        freshUnchanged == 0,
        now);
    bench.figure(
        "current: worst events per runbook step",
        freshEvents,
        "events",
        "<= 8",
        freshEvents <= 8,
        now);

    Economy reindex = reindex(bench, 14);
    double perDay = reindex.events / 14.0;
    bench.figure(
        "14-day reindex wait: events per day",
        perDay,
        "events/day",
        "< 50",
        perDay < 50,
        "a 2-step release whose last step waits 14 days (hourly looks, heartbeats), on the"
            + " time-skipping test server: "
            + reindex.events
            + " events in all, far from the 10,240-event warning");
  }

  /** Runs one bench release to its end, deciding its gates by update, and reads its history. */
  private static Economy freshRun(Bench bench, WorkflowClient client, String name, int[] shape)
      throws InterruptedException {
    String id = "bench-history-" + name + "-" + bench.run;
    BenchRelease wf = client.newWorkflowStub(BenchRelease.class, bench.options(id));
    boolean gated = shape[2] == 1;
    WorkflowClient.start(
        wf::run,
        new BenchPlan(
            bench.context("history-" + name, bench.run), shape[0], shape[1], gated, gated));
    if (gated) {
      ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, id);
      for (int i = shape[1]; i < shape[0]; i += shape[1]) {
        String gate = BenchRelease.gateName(i);
        while (stub.progress().gates().stream()
            .noneMatch(g -> g.name().equals(gate) && g.status() == GateStatus.WAITING)) {
          Thread.sleep(10);
        }
        DecisionReply r =
            stub.decideGate(
                GateDecision.now(
                    gate, GateDecision.Decision.APPROVE, BenchRelease.APPROVER, "", Instant.now()));
        if (!r.accepted()) {
          throw new IllegalStateException(gate + " refused: " + r.reason());
        }
      }
    }
    client.newUntypedWorkflowStub(id).getResult(Object.class);
    return economy(id, client.fetchHistory(id).getEvents());
  }

  /** The reindex wait on the time-skipping test server, with the production worker. */
  private static Economy reindex(Bench bench, int days) throws Exception {
    try (TimeSkippingServer server = new TimeSkippingServer()) {
      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget("127.0.0.1:" + server.port())
                  .build());
      WorkflowClient client =
          WorkflowClient.newInstance(
              stubs, WorkflowClientOptions.newBuilder().setNamespace("default").build());
      CrewChiefWorker worker =
          CrewChiefWorker.start(
              client,
              new dev.crewchief.config.LoadedConfig(
                  "(benchmark)",
                  new dev.crewchief.config.CrewChiefConfig(Bench.TASK_QUEUE, Map.of())),
              Map.of(),
              WorkerTuning.DEFAULT,
              w -> {
                w.registerWorkflowImplementationTypes(
                    dev.crewchief.release.ReleaseWorkflow.implementationOptions(),
                    BenchReleaseImpl.class);
                w.registerActivitiesImplementations(new BenchActivities.Impl());
              });
      try {
        String id = "bench-reindex-" + bench.run;
        BenchRelease wf =
            client.newWorkflowStub(
                BenchRelease.class,
                io.temporal.client.WorkflowOptions.newBuilder()
                    .setWorkflowId(id)
                    .setTaskQueue(Bench.TASK_QUEUE)
                    .build());
        // The test server keeps no search attributes: the context names none, so the release
        // writes no upserts here (one per step transition on a real server).
        dev.crewchief.release.ReleaseContext ctx = bench.context("reindex", bench.run);
        ctx =
            new dev.crewchief.release.ReleaseContext(
                ctx.runbook(),
                ctx.environment(),
                ctx.version(),
                false,
                ctx.startedBy(),
                ctx.approvers(),
                ctx.gates(),
                List.of());
        wf.run(new BenchPlan(ctx, 1, 0, false, false, days));
        return economy(id, client.fetchHistory(id).getEvents());
      } finally {
        worker.shutdown(java.time.Duration.ofSeconds(5));
        stubs.shutdown();
      }
    }
  }

  /** Temporal's test server with time skipping (timers and retry backoffs fire at once). */
  private static final class TimeSkippingServer implements AutoCloseable {
    private final io.temporal.internal.testservice.TestServicesStarter services =
        new io.temporal.internal.testservice.TestServicesStarter(false, 0);
    private final io.grpc.Server grpc;

    TimeSkippingServer() throws java.io.IOException {
      io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder b =
          io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
              new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
      for (io.grpc.BindableService s : services.getServices()) {
        b.addService(s);
      }
      grpc = b.build().start();
    }

    int port() {
      return grpc.getPort();
    }

    @Override
    public void close() {
      grpc.shutdownNow();
      services.close();
    }
  }

  /** Counts what a history writes; see the class comment. */
  static Economy economy(String name, List<HistoryEvent> events) {
    Map<String, String> known = new HashMap<>();
    HistoryEvent first = events.get(0);
    if (first.hasWorkflowExecutionStartedEventAttributes()
        && first.getWorkflowExecutionStartedEventAttributes().hasSearchAttributes()) {
      first
          .getWorkflowExecutionStartedEventAttributes()
          .getSearchAttributes()
          .getIndexedFieldsMap()
          .forEach((k, v) -> known.put(k, text(v)));
    }
    int upserts = 0;
    int unchanged = 0;
    int transitions = 0;
    int steps = 0;
    int projected = 0;
    Map<String, String> group = null;
    long previousUpsert = -2;
    Map<String, String> projectedKnown = new HashMap<>(known);
    for (HistoryEvent e : events) {
      if (e.getEventType() != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
        continue;
      }
      upserts++;
      Map<String, String> set = new HashMap<>();
      e.getUpsertWorkflowSearchAttributesEventAttributes()
          .getSearchAttributes()
          .getIndexedFieldsMap()
          .forEach((k, v) -> set.put(k, text(v)));
      boolean changes = false;
      for (Map.Entry<String, String> s : set.entrySet()) {
        if (!s.getValue().equals(known.get(s.getKey()))) {
          changes = true;
        }
      }
      String step = set.get(SearchAttributes.STEP.getName());
      if (step != null && !step.equals(known.get(SearchAttributes.STEP.getName()))) {
        transitions++;
        if (!ENDS.contains(step) && !step.equals("starting")) {
          steps++;
        }
      }
      if (!changes) {
        unchanged++;
      }
      known.putAll(set);
      // The projection: upserts written back to back (a step and its status) as one, of what
      // changed only.
      if (group == null || e.getEventId() != previousUpsert + 1) {
        projected += flush(group, projectedKnown);
        group = new HashMap<>();
      }
      group.putAll(set);
      previousUpsert = e.getEventId();
    }
    projected += flush(group, projectedKnown);
    return new Economy(name, events.size(), transitions, steps, upserts, unchanged, projected);
  }

  private static int flush(Map<String, String> group, Map<String, String> known) {
    if (group == null) {
      return 0;
    }
    boolean changes = false;
    for (Map.Entry<String, String> s : group.entrySet()) {
      if (!s.getValue().equals(known.get(s.getKey()))) {
        changes = true;
      }
    }
    known.putAll(group);
    return changes ? 1 : 0;
  }

  private static String text(Payload p) {
    try {
      return JSON.readTree(p.getData().toByteArray()).toString();
    } catch (java.io.IOException e) {
      return p.getData().toStringUtf8();
    }
  }
}
