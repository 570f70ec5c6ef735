package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import dev.crewchief.worker.EmbeddedRuntime;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole RandoPony runbook end to end: the worker and the crewchief CLI as separate processes
 * against a Temporal server and the sandbox host (real sshd, nginx, supervisor, python venvs).
 * Deploys 2013r1 to staging and promotes it with a fresh database, registers a rider on production,
 * then deploys 2014r1 and promotes it with 2013r1's data, passing the gate from the CLI.
 */
class RandoPonyEndToEndIT {
  static Sandbox sandbox;
  static EmbeddedRuntime.EmbeddedServer server;
  static int temporalPort;
  static Process worker;
  static Path workerLog;
  static Path root;

  @BeforeAll
  static void up() throws Exception {
    root = Sandbox.repoRoot();
    sandbox = Sandbox.get();
    try (ServerSocket s = new ServerSocket(0)) {
      temporalPort = s.getLocalPort();
    }
    server = EmbeddedRuntime.EmbeddedServer.start(temporalPort);
    workerLog = Files.createTempFile("crewchief-worker", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
                java(), "-cp", libs(), "dev.crewchief.worker.WorkerMain", "--config", config())
            .redirectErrorStream(true)
            .redirectOutput(workerLog.toFile());
    pb.environment().put("TEMPORAL_ADDRESS", "127.0.0.1:" + temporalPort);
    worker = pb.start();
  }

  @AfterAll
  static void down() throws Exception {
    if (worker != null) {
      worker.destroy();
      worker.waitFor(30, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static String libs() {
    Path target = root.resolve("starter/target");
    File[] jars =
        target
            .toFile()
            .listFiles(
                (d, n) ->
                    n.startsWith("crewchief-starter-")
                        && n.endsWith(".jar")
                        && !n.contains("tests"));
    assertTrue(jars != null && jars.length == 1, "package the starter first (mvn verify does)");
    return jars[0] + File.pathSeparator + target.resolve("lib") + File.separator + "*";
  }

  static String config() {
    return sandbox.dir.resolve("crewchief.yaml").toString();
  }

  record Result(int exit, String out) {}

  static Result cli(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(java(), "-cp", libs(), "dev.crewchief.cli.CrewChiefCli", "--config", config()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("TEMPORAL_ADDRESS", "127.0.0.1:" + temporalPort);
    pb.environment().put("CREWCHIEF_LOG_LEVEL", "WARN");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "CLI timed out: " + String.join(" ", args));
    System.out.println(
        "$ crewchief " + String.join(" ", args) + "\n" + out + "(exit " + p.exitValue() + ")");
    return new Result(p.exitValue(), out);
  }

  static String curl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-m", "10"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(20, TimeUnit.SECONDS);
    return out;
  }

  static void waitForGate(String release) throws Exception {
    for (int i = 0; i < 120; i++) {
      Result r = cli("status", release);
      if (r.out().contains("gate confirm-release: WAITING")) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError(
        "release never waited at its gate; worker log:\n" + Files.readString(workerLog));
  }

  @Test
  void stagingThenPromotionTwiceKeepsProductionData() throws Exception {
    String prodUrl = "http://127.0.0.1:" + sandbox.nginxPort() + "/";
    String prodHost = "Host: randopony.production.test";

    Result staging1 =
        cli("start", "randopony-staging", "--env", "sandbox", "--version", "2013r1", "--wait");
    assertEquals(0, staging1.exit(), staging1.out() + "\nworker:\n" + Files.readString(workerLog));

    String promote1 = "release-randopony-promote-sandbox-2013r1";
    assertEquals(
        0,
        cli(
                "start",
                "randopony-promote",
                "--env",
                "sandbox",
                "--version",
                "2013r1",
                "--previous",
                "none")
            .exit());
    waitForGate(promote1);
    assertEquals(
        0,
        cli("approve", promote1, "confirm-release", "--as", "alice", "-m", "first production")
            .exit());
    Result watched1 = cli("watch", promote1);
    assertEquals(0, watched1.exit(), watched1.out() + "\nworker:\n" + Files.readString(workerLog));
    assertTrue(curl("-H", prodHost, prodUrl).contains("randopony2013r1"));

    // Production data that must survive the next promotion.
    curl("-H", prodHost, "--data", "name=Ada Lovelace", prodUrl + "register");
    assertTrue(curl("-H", prodHost, prodUrl).contains("Ada Lovelace"));

    Result staging2 =
        cli("start", "randopony-staging", "--env", "sandbox", "--version", "2014r1", "--wait");
    assertEquals(0, staging2.exit(), staging2.out());

    String promote2 = "release-randopony-promote-sandbox-2014r1";
    assertEquals(
        0,
        cli(
                "start",
                "randopony-promote",
                "--env",
                "sandbox",
                "--version",
                "2014r1",
                "--previous",
                "2013r1")
            .exit());
    Result second =
        cli(
            "start",
            "randopony-promote",
            "--env",
            "sandbox",
            "--version",
            "2014r1",
            "--previous",
            "2013r1");
    assertEquals(1, second.exit());
    assertTrue(second.out().contains("already running"), second.out());
    waitForGate(promote2);
    Result wrong = cli("approve", promote2, "confirm-release", "--as", "bob");
    assertEquals(1, wrong.exit());
    assertTrue(wrong.out().contains("may not decide"), wrong.out());
    assertTrue(cli("status", promote2).out().contains("gate confirm-release: WAITING"));
    assertEquals(
        0,
        cli("approve", promote2, "confirm-release", "--as", "alice", "-m", "tested on staging")
            .exit());
    Result watched2 = cli("watch", promote2);
    assertEquals(0, watched2.exit(), watched2.out() + "\nworker:\n" + Files.readString(workerLog));

    String page = curl("-H", prodHost, prodUrl);
    assertTrue(page.contains("randopony2014r1"), page);
    assertTrue(page.contains("Ada Lovelace"), page);
    assertTrue(
        Files.readString(sandbox.home().resolve("webapps/.randopony-production-release"))
            .contains("2014r1"));
    File[] archives =
        sandbox
            .home()
            .resolve("archive")
            .toFile()
            .listFiles((d, n) -> n.startsWith("randopony2014r1-staging-"));
    assertTrue(archives != null && archives.length == 1, "staging data archived before deletion");

    Result report = cli("report", promote2);
    assertEquals(0, report.exit());
    String md = report.out();
    List<String> order =
        List.of(
            "stop staging app",
            "stop staging supervisor",
            "archive then delete staging",
            "replace staging.ini",
            "stop old production app 2013r1",
            "detach production domain from 2013r1",
            "copy production and celery databases",
            "attach production domain to 2014r1",
            "start app",
            "start production supervisor",
            "production domain serves 2014r1");
    int at = -1;
    for (String step : order) {
      int next = md.indexOf("| " + step, at + 1);
      assertTrue(next > at, "step '" + step + "' in order in report:\n" + md);
      at = next;
    }
    assertTrue(md.contains("| confirm-release | APPROVED | alice |"), md);
    assertTrue(md.contains("tested on staging"), md);
    assertTrue(md.contains("Outcome: COMPLETED"), md);

    // No secret in any history: the private key stays on the worker.
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder()
                .setTarget("127.0.0.1:" + temporalPort)
                .build());
    try {
      WorkflowClient client = WorkflowClient.newInstance(stubs);
      String key = Files.readString(sandbox.dir.resolve("client_ed25519"));
      List<String> keyLines =
          key.lines().filter(l -> !l.startsWith("-----") && l.length() > 20).toList();
      assertFalse(keyLines.isEmpty());
      for (String id :
          List.of(
              "release-randopony-staging-sandbox-2013r1",
              promote1,
              "release-randopony-staging-sandbox-2014r1",
              promote2)) {
        StringBuilder decoded = new StringBuilder();
        for (var event : client.fetchHistory(id).getHistory().getEventsList()) {
          collect(event, decoded);
        }
        String json = decoded + client.fetchHistory(id).toJson(true);
        assertTrue(json.contains("client_ed25519"), "the key reference is there");
        assertFalse(json.contains("PRIVATE KEY"), id);
        for (String line : keyLines) {
          assertFalse(json.contains(line), "key material in history of " + id);
        }
      }
    } finally {
      stubs.shutdown();
    }
  }

  /** Every string and every payload (decoded as UTF-8) in a history event, recursively. */
  static void collect(com.google.protobuf.Message m, StringBuilder sb) {
    if (m instanceof io.temporal.api.common.v1.Payload p) {
      sb.append(p.getData().toStringUtf8()).append('\n');
    }
    for (Object v : m.getAllFields().values()) {
      if (v instanceof com.google.protobuf.Message mm) {
        collect(mm, sb);
      } else if (v instanceof List<?> list) {
        for (Object o : list) {
          if (o instanceof com.google.protobuf.Message mm) {
            collect(mm, sb);
          } else {
            sb.append(o).append('\n');
          }
        }
      } else {
        sb.append(v).append('\n');
      }
    }
  }

  @Test
  void unknownEnvironmentAndBadVersionAreUsageErrors() throws Exception {
    Result env = cli("start", "randopony-staging", "--env", "nowhere", "--version", "2014r1");
    assertEquals(2, env.exit());
    assertTrue(
        env.out().contains("unknown environment 'nowhere'") && env.out().contains("sandbox"),
        env.out());
    Result version = cli("start", "randopony-staging", "--env", "sandbox", "--version", "36-1");
    assertEquals(2, version.exit());
    assertTrue(version.out().contains("not a RandoPony release id"), version.out());
    Result none =
        cli(
            "approve",
            "release-randopony-promote-sandbox-1999r1",
            "confirm-release",
            "--as",
            "alice");
    assertEquals(1, none.exit());
    assertTrue(none.out().contains("no release"), none.out());
  }
}
