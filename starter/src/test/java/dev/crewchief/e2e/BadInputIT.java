package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import dev.crewchief.randopony.StagingDeploy;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.runbook.Runbooks;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad Temporal-connection input, and the CLI's own bad inputs, refused in one sentence that
 * says what is wrong and how to fix it: the CLI and the worker as the processes a person runs, the
 * real Temporal server where one is needed. Each case checks the whole output, so a stack trace or
 * a screen of gRPC warnings before the sentence fails it. Exit 2 for usage and configuration, 1 for
 * a refused request.
 */
class BadInputIT {
  static final String CONFIG =
      Sandbox.repoRoot().resolve("deploy/examples/randopony-demo.yaml").toString();
  static final String EXPECTED_ADDRESS =
      "Expected the Temporal frontend's host and gRPC port, e.g. 127.0.0.1:7233,"
          + " temporal.example.org:7233 or [::1]:7233";

  static TemporalDevServer temporal;
  static WorkflowServiceStubs stubs;
  static WorkflowClient client;

  @BeforeAll
  static void start() {
    temporal = TemporalDevServer.get();
    stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget(temporal.address()).build());
    client = WorkflowClient.newInstance(stubs);
  }

  @AfterAll
  static void stop() {
    stubs.shutdown();
  }

  static Crewchief cli(String... env) {
    Crewchief c = new Crewchief(CONFIG, temporal.address());
    for (int i = 0; i < env.length; i += 2) {
      c.env().put(env[i], env[i + 1]);
    }
    return c;
  }

  static void assertRefused(int exit, String message, Crewchief.Result r) {
    assertEquals(message + "\n", r.out());
    assertEquals(exit, r.exit(), r.out());
  }

  @Test
  void anAddressThatIsNotHostAndPortIsRefusedWithoutConnecting() throws Exception {
    Map<String, String> cases =
        Map.of(
            "nohost:port:x", "it has more than one ':' (an IPv6 address goes in brackets)",
            ":::", "it has more than one ':' (an IPv6 address goes in brackets)",
            "host:99999", "the port 99999 is not between 1 and 65535");
    for (var c : cases.entrySet()) {
      assertRefused(
          2,
          "crewchief: configuration error: TEMPORAL_ADDRESS is '"
              + c.getKey()
              + "', which is not HOST:PORT: "
              + c.getValue()
              + ". "
              + EXPECTED_ADDRESS,
          cli("TEMPORAL_ADDRESS", c.getKey()).run("list"));
    }
  }

  @Test
  void anUnknownHostIsNamedBeforeGrpcSaysAnything() throws Exception {
    assertRefused(
        2,
        "crewchief: configuration error: TEMPORAL_ADDRESS is 'no-such-host.invalid:7233', but no"
            + " address is known for the host no-such-host.invalid: check the name (and this"
            + " machine's DNS), or set TEMPORAL_ADDRESS to HOST:PORT of your Temporal frontend",
        cli("TEMPORAL_ADDRESS", "no-such-host.invalid:7233").run("status", "release-x-y-1"));
  }

  @Test
  void aNamespaceThatDoesNotExistIsNamedNotAnsweredWithNoRelease() throws Exception {
    String refusal =
        "crewchief: configuration error: namespace 'no-such-ns' does not exist on Temporal at "
            + temporal.address()
            + " (chosen by TEMPORAL_NAMESPACE): create it with `temporal operator namespace create"
            + " --namespace no-such-ns --address "
            + temporal.address()
            + "`, or set TEMPORAL_NAMESPACE to a namespace that exists (`temporal operator"
            + " namespace list`)";
    Crewchief c = cli("TEMPORAL_NAMESPACE", "no-such-ns");
    assertRefused(2, refusal, c.run("list"));
    assertRefused(2, refusal, c.run("status", "release-randopony-staging-demo-2014r1"));
    assertRefused(
        2,
        refusal,
        c.run("start", "randopony-staging", "--env", "demo", "--version", "2014r1", "--dry-run"));
  }

  @Test
  void missingTlsFilesAreNamedWithTheirVariableAndPath(@TempDir Path dir) throws Exception {
    Path cert = Files.writeString(dir.resolve("client.pem"), "unused");
    Path key = Files.writeString(dir.resolve("client.key"), "unused");
    assertRefused(
        2,
        "crewchief: configuration error: TEMPORAL_TLS_CLIENT_CERT_PATH names "
            + dir.resolve("missing.pem")
            + ", which does not exist: it must name the client certificate (PEM)",
        cli(
                "TEMPORAL_TLS_CLIENT_CERT_PATH", dir.resolve("missing.pem").toString(),
                "TEMPORAL_TLS_CLIENT_KEY_PATH", key.toString())
            .run("list"));
    assertRefused(
        2,
        "crewchief: configuration error: TEMPORAL_TLS_CLIENT_KEY_PATH names "
            + dir.resolve("missing.key")
            + ", which does not exist: it must name the client certificate's private key (PEM)",
        cli(
                "TEMPORAL_TLS_CLIENT_CERT_PATH", cert.toString(),
                "TEMPORAL_TLS_CLIENT_KEY_PATH", dir.resolve("missing.key").toString())
            .run("list"));
    assertRefused(
        2,
        "crewchief: configuration error: TEMPORAL_TLS_SERVER_CA_CERT_PATH names "
            + dir.resolve("ca.pem")
            + ", which does not exist: it must name the CA certificate (PEM) that signed the"
            + " server's certificate",
        cli("TEMPORAL_TLS_SERVER_CA_CERT_PATH", dir.resolve("ca.pem").toString()).run("list"));
  }

  @Test
  void aConfigFileVariableThatPointsNowhereIsRefused(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("temporal.toml");
    assertRefused(
        2,
        "crewchief: configuration error: TEMPORAL_CONFIG_FILE names "
            + missing
            + ", which does not exist: set it to your temporal.toml file, or unset it to use"
            + " TEMPORAL_ADDRESS and the other TEMPORAL_* variables alone",
        cli("TEMPORAL_CONFIG_FILE", missing.toString()).run("list"));
  }

  @Test
  void theWorkerExitsTwoWithTheSameSentence(@TempDir Path dir) throws Exception {
    assertEquals(
        "crewchief-worker: configuration error: namespace 'no-such-ns' does not exist on Temporal"
            + " at "
            + temporal.address()
            + " (chosen by TEMPORAL_NAMESPACE): create it with `temporal operator namespace create"
            + " --namespace no-such-ns --address "
            + temporal.address()
            + "`, or set TEMPORAL_NAMESPACE to a namespace that exists (`temporal operator"
            + " namespace list`)\n",
        workerRefusal(CONFIG, "TEMPORAL_NAMESPACE", "no-such-ns"));
    Path ca = dir.resolve("ca.pem");
    assertEquals(
        "crewchief-worker: configuration error: TEMPORAL_TLS_SERVER_CA_CERT_PATH names "
            + ca
            + ", which does not exist: it must name the CA certificate (PEM) that signed the"
            + " server's certificate\n",
        workerRefusal(CONFIG, "TEMPORAL_TLS_SERVER_CA_CERT_PATH", ca.toString()));
    Path bad =
        Files.writeString(dir.resolve("crewchief.yaml"), "environments: {x: {approvers: 5}}\n");
    assertEquals(
        "crewchief-worker: configuration error: "
            + bad
            + ": environments.x.approvers: expected a mapping (key: value), found the number 5\n",
        workerRefusal(bad.toString()));
    // A config the CLI refuses for its runbook section (no webappsDir) is refused by the worker.
    Path example = Sandbox.repoRoot().resolve("deploy/examples/randopony.yaml");
    Path noWebapps =
        Files.writeString(
            dir.resolve("no-webapps.yaml"),
            Files.readString(example).replaceFirst("(?m)^ *webappsDir: .*\n", ""));
    String refusal = workerRefusal(noWebapps.toString());
    assertTrue(
        refusal.startsWith(
            "crewchief-worker: configuration error: "
                + noWebapps
                + ": environments.prod.randopony.webappsDir: missing"),
        refusal);
    assertTrue(refusal.endsWith("\n") && refusal.lines().count() == 1, refusal);
  }

  /** The worker's whole output when it refuses to start; exit code 2 is asserted. */
  static String workerRefusal(String config, String... env) throws Exception {
    Map<String, String> vars = new java.util.HashMap<>();
    vars.put("TEMPORAL_ADDRESS", temporal.address());
    vars.put("CREWCHIEF_LOG_LEVEL", "WARN");
    for (int i = 0; i < env.length; i += 2) {
      vars.put(env[i], env[i + 1]);
    }
    WorkerProcess w = new WorkerProcess(config, vars);
    w.start();
    int exit = w.awaitExit(120);
    String out = w.logText().replaceFirst("---- worker start 1\n", "");
    System.out.println(
        "$ crewchief-worker --config " + config + "\n" + out + "(exit " + exit + ")");
    assertEquals(2, exit, out);
    return out;
  }

  @Test
  void statusWithoutAWorkerSaysSoAtOnce() throws Exception {
    String id = ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "bad-input", "2099r1");
    WorkflowStub release = startNobodyRuns(id, "bad-input-nobody");
    try {
      assertRefused(
          0,
          id
              + ": RUNNING\n"
              + "no worker to answer: none has polled task queue 'bad-input-nobody' in the last two"
              + " minutes. The release waits, losing nothing, until a worker runs"
              + " (deploy/bin/crewchief-worker); its steps and gates show then. `crewchief report "
              + id
              + "` reads its history now.",
          cli().run("status", id));
    } finally {
      release.terminate("bad-input-it: done");
    }
  }

  @Test
  void statusWithAWorkerJustGoneDoesNotWaitForTheSdksMinute() throws Exception {
    String queue = "bad-input-gone";
    WorkerFactory factory = WorkerFactory.newInstance(client);
    factory
        .newWorker(queue)
        .registerWorkflowImplementationTypes(
            ReleaseWorkflow.implementationOptions(), Runbooks.all().workflowImplementations());
    factory.start();
    awaitPoller(queue);
    factory.shutdown();
    factory.awaitTermination(30, TimeUnit.SECONDS);
    // The worker polled a moment ago, so the server still lists it: only the bounded query
    // tells that nobody answers (unbounded, the SDK would retry it for a minute).
    String id = ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "bad-input", "2098r1");
    WorkflowStub release = startNobodyRuns(id, queue);
    try {
      assertRefused(
          0,
          id
              + ": RUNNING\n"
              + "no worker answered within 5 s (one polls task queue 'bad-input-gone', but is busy"
              + " or has just gone). The release waits, losing nothing, until a worker runs"
              + " (deploy/bin/crewchief-worker); its steps and gates show then. `crewchief report "
              + id
              + "` reads its history now.",
          cli().run("status", id));
    } finally {
      release.terminate("bad-input-it: done");
    }
  }

  @Test
  void startWaitWithNoWorkerYetWaitsForTheReleasesEnd() throws Exception {
    // A queue no worker has ever polled: the release is started and waits for one. `--wait` must
    // then wait for the release's end, not return 0 at once as if the release were done.
    String queue = "bad-input-wait-" + ProcessHandle.current().pid();
    String id = ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "demo", "2013r1");
    Crewchief c = cli("CREWCHIEF__taskQueue", queue);
    try (Output out =
        new Output(
            c.start(
                "start", "randopony-staging", "--env", "demo", "--version", "2013r1", "--wait"))) {
      out.await(
          l ->
              l.equals(
                  "started "
                      + id
                      + ", but no worker polls task queue '"
                      + queue
                      + "': it begins when one does (deploy/bin/crewchief-worker); --wait: waiting"
                      + " for its end"));
      client.newUntypedWorkflowStub(id).terminate("bad-input-it: ended while start --wait waited");
      assertEquals(1, out.exit(), out.text());
      assertTrue(
          out.lines().stream()
              .anyMatch(
                  l ->
                      l.endsWith(
                          "release "
                              + id
                              + " TERMINATED: bad-input-it: ended while start --wait waited")),
          out.text());
    } finally {
      try {
        client.newUntypedWorkflowStub(id).terminate("bad-input-it: cleanup");
      } catch (io.temporal.client.WorkflowException ended) {
        // Terminated by the test already.
      }
    }
  }

  @Test
  void listOfAnUnknownRunbookNamesTheKnownOnes() throws Exception {
    assertRefused(
        2,
        "crewchief: --runbook 'nosuch' is not a runbook this crewchief knows; the known runbooks"
            + " are: "
            + String.join(", ", Runbooks.all().names()),
        cli().run("list", "--runbook", "nosuch"));
  }

  @Test
  void aReportIsNotWrittenOntoADirectoryNorIntoAFolderThatIsNotThere(@TempDir Path dir)
      throws Exception {
    String id = "release-randopony-staging-demo-2014r1";
    assertRefused(
        2,
        "crewchief: cannot write the report to "
            + dir
            + ": it is a directory; name a file in it, e.g. "
            + dir.resolve("report.md")
            + " or "
            + dir.resolve("report.html"),
        cli().run("report", id, "-o", dir.toString()));
    Path nowhere = dir.resolve("no-such-folder/report.html");
    assertRefused(
        2,
        "crewchief: cannot write the report to "
            + nowhere
            + ": the folder "
            + nowhere.getParent()
            + " does not exist; create it first, or name a file in a folder that exists",
        cli().run("report", id, "-o", nowhere.toString()));
    try (Stream<Path> left = Files.list(dir)) {
      assertEquals(List.of(), left.toList(), "nothing written");
    }
  }

  /**
   * A watch rides out a server that goes away and comes back (SIGKILL, then a start on the same
   * SQLite file), and one told to give up after two seconds does so with a clear refusal. A server
   * of the test's own, so the shared one keeps serving the other tests.
   */
  @Test
  void watchSaysTheServerIsUnreachableRidesOutARestartAndGivesUpAfterItsBound() throws Exception {
    TemporalDevServer own =
        TemporalDevServer.startOwn(Path.of("target", "temporal-dev-outage").toAbsolutePath());
    String id = ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "outage", "2099r1");
    WorkflowServiceStubs ownStubs = stubsFor(own);
    try {
      startNobodyRuns(WorkflowClient.newInstance(ownStubs), id, "bad-input-outage");
      Crewchief c = new Crewchief(CONFIG, own.address());
      try (Output rides = new Output(c.start("watch", id));
          Output givesUp = new Output(c.start("watch", id, "--give-up-after", "PT2S"))) {
        Predicate<String> watching = l -> l.contains(" started StagingDeploy by ");
        rides.await(watching);
        givesUp.await(watching);

        own.kill();
        String lost =
            "[0-9:]{8} Temporal at "
                + own.address().replace(".", "\\.")
                + " is unreachable \\(.+\\): trying again every 2 s for up to %s \\(Ctrl-C to stop"
                + " watching; the release does not depend on it\\)";
        rides.await(l -> l.matches(String.format(lost, "5 min")));
        givesUp.await(l -> l.matches(String.format(lost, "2 s")));
        assertEquals(1, givesUp.exit(), givesUp.text());
        String last = givesUp.lines().get(givesUp.lines().size() - 1);
        assertTrue(
            last.matches(
                "crewchief: Temporal at "
                    + own.address().replace(".", "\\.")
                    + " has been unreachable since [0-9:]{8} UTC \\(more than 2 s\\): stopped"
                    + " watching\\. The release itself is not affected; once the server is back,"
                    + " `crewchief watch "
                    + id
                    + "` again, or `crewchief status "
                    + id
                    + "`"),
            last);

        own.start();
        ownStubs.shutdownNow();
        ownStubs = stubsFor(own);
        WorkflowClient.newInstance(ownStubs)
            .newUntypedWorkflowStub(id)
            .terminate("bad-input-it: the watch has seen enough");
        rides.await(l -> l.matches("[0-9:]{8} reached Temporal again after [0-9]+ (ms|s)"));
        rides.await(
            l ->
                l.matches(
                    "[0-9:]{8} release "
                        + id
                        + " TERMINATED: bad-input-it: the watch has seen enough"));
        assertEquals(1, rides.exit(), rides.text());
        assertTrue(
            rides.lines().stream().noneMatch(l -> l.contains("Exception") || l.contains("\tat ")),
            rides.text());
      }
    } finally {
      ownStubs.shutdownNow();
      own.kill();
    }
  }

  static WorkflowServiceStubs stubsFor(TemporalDevServer server) {
    return WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder().setTarget(server.address()).build());
  }

  static WorkflowStub startNobodyRuns(String id, String queue) {
    return startNobodyRuns(client, id, queue);
  }

  /** A release on a task queue no worker polls: it stays RUNNING, at its start. */
  static WorkflowStub startNobodyRuns(WorkflowClient on, String id, String queue) {
    WorkflowStub stub =
        on.newUntypedWorkflowStub(
            StagingDeploy.TYPE,
            WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(queue).build());
    stub.start();
    return stub;
  }

  /** Until the server lists a poller of the queue's workflow tasks. */
  static void awaitPoller(String queue) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      var pollers =
          stubs
              .blockingStub()
              .describeTaskQueue(
                  DescribeTaskQueueRequest.newBuilder()
                      .setNamespace("default")
                      .setTaskQueue(TaskQueue.newBuilder().setName(queue))
                      .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
                      .build())
              .getPollersList();
      if (!pollers.isEmpty()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no poller of " + queue + " within 60 s");
  }

  /** A running CLI's output, line by line as it comes, for waiting on what it says. */
  static final class Output implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    Output(Process process) {
      this.process = process;
      this.reader =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String l = r.readLine(); l != null; l = r.readLine()) {
                    System.out.println("[watch " + process.pid() + "] " + l);
                    synchronized (this) {
                      lines.add(l);
                      notifyAll();
                    }
                  }
                } catch (java.io.IOException e) {
                  // The process ended.
                }
                synchronized (this) {
                  notifyAll();
                }
              });
      reader.setDaemon(true);
      reader.start();
    }

    /** Waits (up to two minutes) until a line matches; fails with what was said otherwise. */
    synchronized void await(Predicate<String> line) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (lines.stream().noneMatch(line)) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
          throw new AssertionError("never said what was waited for:\n" + text());
        }
        wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 1000)));
      }
    }

    int exit() throws InterruptedException {
      assertTrue(process.waitFor(2, TimeUnit.MINUTES), "still running:\n" + text());
      reader.join(10_000);
      return process.exitValue();
    }

    synchronized List<String> lines() {
      return new ArrayList<>(lines);
    }

    synchronized String text() {
      return String.join("\n", lines);
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }
}
