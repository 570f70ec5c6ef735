package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ArchiveRequest;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.InspectRequest;
import dev.crewchief.activities.LinkSiteRequest;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.PathFacts;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.SyncRequest;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.NginxConfig;
import dev.crewchief.randopony.PromoteRequest;
import dev.crewchief.randopony.PromoteToProduction;
import dev.crewchief.randopony.RandoPonySite;
import dev.crewchief.randopony.StagingDeploy;
import dev.crewchief.randopony.StagingDeployRequest;
import dev.crewchief.release.Person;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.worker.TemporalActivitiesImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the platform promises every runbook, on the real Temporal server, with stand-in activities
 * (this is about the workflows and the CLI, not the host):
 *
 * <ul>
 *   <li>one release per lane, for starts from any client: two staging deploys of RandoPony in one
 *       environment started at the same instant by two clients, twenty times; each time exactly one
 *       holds the lane and the other fails at once with LaneBusy naming it (the winner's first host
 *       step blocks until the round is over, so both releases overlap for certain);
 *   <li>a long step's progress, and a step waiting on retries, shown by {@code crewchief status}.
 * </ul>
 */
class PlatformIT {
  static final String QUEUE = "platform-it";
  static TemporalDevServer temporal;
  static WorkflowServiceStubs stubs;
  static WorkflowClient client;
  static WorkerFactory factory;
  static final FakeHost host = new FakeHost();

  @BeforeAll
  static void start() {
    temporal = TemporalDevServer.get();
    stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(temporal.address()).build());
    client = WorkflowClient.newInstance(stubs);
    factory = WorkerFactory.newInstance(client);
    var worker = factory.newWorker(QUEUE);
    worker.registerWorkflowImplementationTypes(
        ReleaseWorkflow.implementationOptions(), Runbooks.all().workflowImplementations());
    worker.registerActivitiesImplementations(
        host, new FakeProxy(), new QuietNotify(), new TemporalActivitiesImpl(client));
    factory.start();
  }

  @AfterAll
  static void stop() {
    factory.shutdown();
    factory.awaitTermination(10, TimeUnit.SECONDS);
    stubs.shutdown();
  }

  @Test
  void twoStartsAtTheSameInstantNeverBothRun() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 20; round++) {
        String a = "20" + (30 + round) + "r1";
        String b = "20" + (30 + round) + "r2";
        host.block = new CountDownLatch(1);
        host.entered = new CountDownLatch(1);
        CyclicBarrier together = new CyclicBarrier(2);
        Future<WorkflowStub> fa = pool.submit(() -> start(a, together));
        Future<WorkflowStub> fb = pool.submit(() -> start(b, together));
        WorkflowStub sa = fa.get(30, TimeUnit.SECONDS);
        WorkflowStub sb = fb.get(30, TimeUnit.SECONDS);

        // Exactly one gets through to its first host step; the other is refused by its lane.
        assertTrue(host.entered.await(30, TimeUnit.SECONDS), "round " + round + ": nobody ran");
        List<String> refused = new ArrayList<>();
        List<WorkflowStub> running = new ArrayList<>();
        for (WorkflowStub s : List.of(sa, sb)) {
          String outcome = outcomeWithin(s);
          if (outcome == null) {
            running.add(s);
          } else {
            refused.add(outcome);
          }
        }
        assertEquals(1, running.size(), "round " + round + ": " + refused);
        assertEquals(1, refused.size(), "round " + round);
        String winner = running.get(0).getExecution().getWorkflowId();
        assertTrue(
            refused.get(0).contains("[LaneBusy]")
                && refused
                    .get(0)
                    .contains(winner + " is running and holds lane-randopony-staging-"),
            "round " + round + ": " + refused.get(0));
        assertEquals(1, host.inspected.getAndSet(0), "round " + round + ": one release inspected");

        // The winner finishes; its lane is free for the next round.
        host.block.countDown();
        ReleaseResult done = running.get(0).getResult(60, TimeUnit.SECONDS, ReleaseResult.class);
        assertTrue(done.summary().contains("deployed to staging"), done.summary());
        assertTrue(!done.progress().laneHeld(), "let go of the lane at the end");
      }
    } finally {
      host.block.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void statusShowsTheProgressOfALongStepAndARetryWithItsReason() throws Exception {
    host.block = new CountDownLatch(1);
    host.entered = new CountDownLatch(1);
    host.progress = true;
    host.failFirst.set(3);
    try {
      WorkflowStub s = start("2099r1", new CyclicBarrier(1));
      String id = s.getExecution().getWorkflowId();
      // Three attempts fail, the retry policy waits 8 s before the fourth: status says so.
      String retrying = awaitStatus(id, "attempt 4 of 6, next in");
      assertTrue(
          retrying.matches("(?s).*now: attempt 4 of 6, next in [0-9]+ s: host busy.*"), retrying);
      // The fourth attempt works and reports its progress in its heartbeats.
      assertTrue(host.entered.await(30, TimeUnit.SECONDS));
      String working = awaitStatus(id, "30% (3 of 10 files)");
      assertTrue(
          working.matches(
              "(?s).*now: attempt 4, running for [0-9]+ m?s: 30% \\(3 of 10 files\\) looking at the app.*"),
          working);
      host.block.countDown();
      s.getResult(60, TimeUnit.SECONDS, ReleaseResult.class);
    } finally {
      host.progress = false;
      host.failFirst.set(0);
      host.block.countDown();
    }
  }

  @Test
  void aDecisionIsNotSentWithoutAWorkerAndASignedOneIsCheckedByTheGate(@TempDir Path dir)
      throws Exception {
    Path alice = dir.resolve("alice");
    Path mallory = dir.resolve("mallory");
    for (Path k : List.of(alice, mallory)) {
      Process p =
          new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k.toString())
              .redirectErrorStream(true)
              .start();
      assertEquals(0, p.waitFor());
    }
    String queue = "platform-it-gates";
    String id = ReleaseIds.workflowId(PromoteToProduction.RUNBOOK, "gates", "2098r1");
    WorkerFactory own = workerOn(queue);
    ReleaseContext ctx =
        new ReleaseContext(
            PromoteToProduction.RUNBOOK,
            "gates",
            "2098r1",
            false,
            "platform-it",
            Map.of("crew-chief", List.of("alice")),
            Map.of(
                PromoteToProduction.CONFIRM_GATE,
                new GateConfig(
                    List.of("crew-chief"),
                    Duration.ofHours(1),
                    Duration.ofMinutes(30),
                    GateConfig.OnTimeout.FAIL,
                    true,
                    null)),
            List.of(),
            Map.of(
                "alice",
                new Person("alice@example.org", Files.readString(Path.of(alice + ".pub")).strip())),
            null);
    WorkflowStub stub =
        client.newUntypedWorkflowStub(
            PromoteToProduction.TYPE,
            WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(queue).build());
    stub.start(new PromoteRequest(ctx, site("2098r1"), null));
    awaitStatus(id, "gate confirm-release: WAITING");

    // The worker goes away (its pollers may still look recent): nothing is sent, and quickly.
    own.shutdown();
    own.awaitTermination(30, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    Cli refused =
        cli("approve", id, "confirm-release", "--as", "alice", "--sign-with", alice.toString());
    long took = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    assertEquals(1, refused.exit(), refused.out());
    assertTrue(
        refused.out().contains("no worker answered") && refused.out().contains("was not sent"),
        refused.out());
    assertTrue(took < 15, "refused within seconds, took " + took + " s");

    // A worker again: a decision signed with another key is refused by the gate, alice's passes.
    own = workerOn(queue);
    try {
      Cli wrong =
          cli("approve", id, "confirm-release", "--as", "alice", "--sign-with", mallory.toString());
      assertEquals(1, wrong.exit(), wrong.out());
      assertTrue(wrong.out().contains("refused: signature refused for alice"), wrong.out());
      Cli signed =
          cli("approve", id, "confirm-release", "--as", "alice", "--sign-with", alice.toString());
      assertEquals(0, signed.exit(), signed.out());
      assertTrue(signed.out().contains("APPROVED by alice (signed)"), signed.out());
      ReleaseResult done = stub.getResult(60, TimeUnit.SECONDS, ReleaseResult.class);
      assertTrue(done.summary().contains("is production"), done.summary());
      String report = cli("report", id).out();
      assertTrue(report.contains("-> refused: signature refused for alice"), report);
      assertTrue(
          report.contains("approved by alice via update (signed)")
              || report.contains("| confirm-release | APPROVED | alice |"),
          report);
    } finally {
      own.shutdown();
      own.awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  record Cli(int exit, String out) {}

  /** The CLI in this JVM, as a person runs it: its output and exit code. */
  static Cli cli(String... args) {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    java.io.PrintStream out = System.out;
    java.io.PrintStream err = System.err;
    java.io.PrintStream both = new java.io.PrintStream(buf, true);
    System.setOut(both);
    System.setErr(both);
    int code;
    try {
      Map<String, String> env = new java.util.HashMap<>(System.getenv());
      env.put("TEMPORAL_ADDRESS", temporal.address());
      code = dev.crewchief.cli.CrewChiefCli.run(args, env);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    System.out.println(
        "$ crewchief " + String.join(" ", args) + "\n" + buf + "(exit " + code + ")");
    return new Cli(code, buf.toString());
  }

  static WorkerFactory workerOn(String queue) {
    WorkerFactory f = WorkerFactory.newInstance(client);
    var w = f.newWorker(queue);
    w.registerWorkflowImplementationTypes(
        ReleaseWorkflow.implementationOptions(), Runbooks.all().workflowImplementations());
    w.registerActivitiesImplementations(
        new FakeHost(), new FakeProxy(), new QuietNotify(), new TemporalActivitiesImpl(client));
    f.start();
    return f;
  }

  /** Runs `crewchief status` until its output contains the text; returns that output. */
  static String awaitStatus(String id, String text) throws Exception {
    String last = "";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      last = cli("status", id).out();
      if (last.contains(text)) {
        return last;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("status of " + id + " never showed '" + text + "':\n" + last);
  }

  /** null while it runs (half a second to tell), else its failure. */
  static String outcomeWithin(WorkflowStub s) throws Exception {
    try {
      s.getResult(1500, TimeUnit.MILLISECONDS, ReleaseResult.class);
      return "completed";
    } catch (java.util.concurrent.TimeoutException stillRunning) {
      return null;
    } catch (WorkflowFailedException e) {
      ApplicationFailure af = assertInstanceOf(ApplicationFailure.class, e.getCause());
      return af.getOriginalMessage() + " [" + af.getType() + "]";
    }
  }

  static WorkflowStub start(String version, CyclicBarrier together) throws Exception {
    // A client of its own, as two people (or the CLI and the Web UI) would each have.
    WorkflowClient own = WorkflowClient.newInstance(stubs);
    String id = ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "lanes", version);
    WorkflowStub stub =
        own.newUntypedWorkflowStub(
            StagingDeploy.TYPE,
            WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(QUEUE).build());
    ReleaseContext ctx =
        new ReleaseContext(
            StagingDeploy.RUNBOOK,
            "lanes",
            version,
            false,
            "lane-it",
            Map.of("crew-chief", List.of("alice")),
            Map.of(),
            List.of());
    StagingDeployRequest req = new StagingDeployRequest(ctx, site(version));
    together.await(30, TimeUnit.SECONDS);
    stub.start(req);
    return stub;
  }

  static RandoPonySite site(String version) {
    return new RandoPonySite(
        new HostRef("web", "127.0.0.1", 22, "rp", "file:/nonexistent/key", "/nonexistent/known"),
        "randopony",
        "/home/rp/webapps",
        "/src/randopony-tetra",
        "randopony-tetra",
        "python3",
        "supervisord",
        "supervisorctl",
        "/home/rp/archive",
        "staging.test",
        "prod.test",
        List.of(),
        Map.of(version, 19000),
        new NginxConfig(
            "/n/sites", "127.0.0.1:8080", "/n/pid", "nginx -t", "nginx -s reload", "http://x/"));
  }

  /** A host whose first look blocks until the round lets it go. */
  static final class FakeHost implements RemoteHostActivities {
    volatile CountDownLatch block = new CountDownLatch(0);
    volatile CountDownLatch entered = new CountDownLatch(0);
    volatile boolean progress;
    final java.util.concurrent.atomic.AtomicInteger failFirst =
        new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.atomic.AtomicInteger inspected =
        new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public PathFacts inspect(InspectRequest r) {
      if (failFirst.getAndDecrement() > 0) {
        throw ApplicationFailure.newFailure("host busy", "SshUnreachable");
      }
      inspected.incrementAndGet();
      if (progress) {
        io.temporal.activity.Activity.getExecutionContext()
            .heartbeat(new dev.crewchief.activities.Progress(3, 10, "files", "looking at the app"));
      }
      entered.countDown();
      try {
        block.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      String app = r.paths().get(0);
      return new PathFacts(true, List.of(app));
    }

    @Override
    public SyncResult syncDirectory(SyncRequest r) {
      return new SyncResult("synced", false, List.of(), 0);
    }

    @Override
    public ActionResult runCommand(CommandRequest r) {
      return new ActionResult(r.command(), false, "");
    }

    @Override
    public dev.crewchief.activities.JobResult runJob(dev.crewchief.activities.JobRequest r) {
      throw new UnsupportedOperationException("this release runs no host job");
    }

    @Override
    public ActionResult archiveAndDelete(ArchiveRequest r) {
      return new ActionResult("archived", false, "");
    }
  }

  static final class FakeProxy implements ProxyActivities {
    @Override
    public SwitchResult switchSite(SiteRequest r) {
      return new SwitchResult("switched", false, "", null);
    }

    @Override
    public SwitchResult linkSite(LinkSiteRequest r) {
      return new SwitchResult("linked", false, "", null);
    }

    @Override
    public ActionResult probe(ProbeRequest r) {
      return new ActionResult("probed", false, "200");
    }

    @Override
    public SwitchResult switchUpstream(UpstreamSwitchRequest r) {
      return new SwitchResult("switched " + r.from() + " to " + r.to(), false, "", null);
    }
  }

  static final class QuietNotify implements NotifyActivities {
    @Override
    public void notify(Notification n) {}
  }
}
