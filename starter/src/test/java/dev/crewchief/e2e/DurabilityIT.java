package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.StepState;
import dev.crewchief.release.StepStatus;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Durability on the real Temporal server: the worker is killed with SIGKILL inside a long step,
 * right after a step completes and while a release waits at its gate, and restarted; then the
 * Temporal server itself is killed and restarted on the same SQLite file mid-release. Every release
 * completes, and the sandbox host's own record of the commands it ran shows each step done once:
 * only a step that was running when the worker died may have run a second time (it is retried, and
 * the steps are idempotent). This test has a sandbox host of its own (user ccdurable).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DurabilityIT {
  static final String ENV = "ccdurable";
  static TemporalDevServer temporal;
  static Sandbox sandbox;
  static WorkerProcess worker;
  static Crewchief cc;
  static Histories histories;

  /** The command the host was running (or had just run) at each kill. */
  static final Set<String> inFlightAtKill = new HashSet<>();

  /** Every release run on this test's sandbox so far. */
  static final List<String> releases = new ArrayList<>();

  static Stack stack;

  @BeforeAll
  static void up() throws Exception {
    sandbox = Sandbox.get(ENV);
    stack = Stack.start(sandbox);
    temporal = stack.temporal;
    worker = stack.worker;
    cc = stack.cc;
    histories = stack.histories;
  }

  @AfterAll
  static void down() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  @Order(1)
  void workerKilledInsideAStepAfterAStepAndAtTheGate() throws Exception {
    String staging = "release-randopony-staging-" + ENV + "-2013r1";
    assertEquals(
        0, cc.run("start", "randopony-staging", "--env", ENV, "--version", "2013r1").exit());

    // Inside a long step: the moment the host starts building the virtualenv.
    awaitHostCommand(c -> c.contains(" -m venv "));
    killAndRestartWorker();

    // Right after a step completes, as the release moves on to the next one.
    awaitStep(staging, "credentials to mode 400", StepStatus.DONE);
    killAndRestartWorker();

    Crewchief.Result watched = cc.run("watch", staging);
    assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + worker.logText());

    // While the release waits at its gate.
    String promote = "release-randopony-promote-" + ENV + "-2013r1";
    assertEquals(
        0,
        cc.run(
                "start",
                "randopony-promote",
                "--env",
                ENV,
                "--version",
                "2013r1",
                "--previous",
                "none")
            .exit());
    cc.awaitStatus(promote, "gate confirm-release: WAITING", 120);
    killAndRestartWorker();
    assertTrue(cc.run("status", promote).out().contains(promote + ": RUNNING"));
    assertEquals(
        0,
        cc.run("approve", promote, "confirm-release", "--as", "alice", "-m", "after a crash")
            .exit());
    Crewchief.Result promoted = cc.run("watch", promote);
    assertEquals(0, promoted.exit(), promoted.out() + "\nworker:\n" + worker.logText());

    String page =
        Packaged.curl(
            "-H",
            "Host: randopony.production.test",
            "http://127.0.0.1:" + sandbox.nginxPort() + "/");
    assertTrue(page.contains("randopony2013r1"), page);
    assertEachStepRanOnce(staging, promote);
    assertEquals(1, archives("randopony2013r1-staging-").length, "one archive of staging data");
    assertTrue(cc.run("report", promote).out().contains("| confirm-release | APPROVED | alice |"));
    histories.replayAndKeep(staging);
    histories.replayAndKeep(promote);
  }

  @Test
  @Order(2)
  void temporalServerRestartedMidRelease() throws Exception {
    String staging = "release-randopony-staging-" + ENV + "-2014r1";
    assertEquals(
        0, cc.run("start", "randopony-staging", "--env", ENV, "--version", "2014r1").exit());
    awaitHostCommand(c -> c.contains("/bin/pip") && c.contains("install") && c.contains("2014r1"));
    restartTemporal();
    Crewchief.Result watched = cc.run("watch", staging);
    assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + worker.logText());

    String prodUrl = "http://127.0.0.1:" + sandbox.nginxPort() + "/";
    String prodHost = "Host: randopony.production.test";
    Packaged.curl("-H", prodHost, "--data", "name=Grace Hopper", prodUrl + "register");

    String promote = "release-randopony-promote-" + ENV + "-2014r1";
    assertEquals(
        0,
        cc.run(
                "start",
                "randopony-promote",
                "--env",
                ENV,
                "--version",
                "2014r1",
                "--previous",
                "2013r1")
            .exit());
    cc.awaitStatus(promote, "gate confirm-release: WAITING", 120);
    restartTemporal();
    cc.awaitStatus(promote, "gate confirm-release: WAITING", 120);
    assertEquals(0, cc.run("approve", promote, "confirm-release", "--as", "alice").exit());
    Crewchief.Result promoted = cc.run("watch", promote);
    assertEquals(0, promoted.exit(), promoted.out() + "\nworker:\n" + worker.logText());

    String page = Packaged.curl("-H", prodHost, prodUrl);
    assertTrue(page.contains("randopony2014r1") && page.contains("Grace Hopper"), page);
    assertEachStepRanOnce(staging, promote);
    histories.replayAndKeep(staging);
    histories.replayAndKeep(promote);
  }

  @Test
  @Order(3)
  void cancelledMidPromotionRollsBackToTheOldProduction() throws Exception {
    String staging = "release-randopony-staging-" + ENV + "-2015r1";
    assertEquals(
        0,
        cc.run("start", "randopony-staging", "--env", ENV, "--version", "2015r1", "--wait").exit());
    String promote = "release-randopony-promote-" + ENV + "-2015r1";
    assertEquals(
        0,
        cc.run(
                "start",
                "randopony-promote",
                "--env",
                ENV,
                "--version",
                "2015r1",
                "--previous",
                "2014r1")
            .exit());
    cc.awaitStatus(promote, "gate confirm-release: WAITING", 120);
    // The cancel must find the promotion mid-way: the new app's start (after the old production
    // was stopped and detached) is held on the host until the test lets go, and then gives up
    // without starting anything, as a start interrupted by the cancellation would.
    Path hold = sandbox.home().resolve("hold-start-2015r1");
    Path start = sandbox.home().resolve("webapps/randopony2015r1/bin/start");
    String script = Files.readString(start);
    Files.writeString(hold, "held by DurabilityIT\n");
    int firstLine = script.indexOf('\n') + 1;
    Files.writeString(
        start,
        script.substring(0, firstLine)
            + "if [ -f "
            + hold
            + " ]; then i=0; while [ -f "
            + hold
            + " ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo held; exit 1; fi\n"
            + script.substring(firstLine));
    try {
      assertEquals(0, cc.run("approve", promote, "confirm-release", "--as", "alice").exit());
      awaitStep(promote, "start app", StepStatus.RUNNING);
      Crewchief.Result cancelled = cc.run("cancel", promote, "--wait");
      assertEquals(0, cancelled.exit(), cancelled.out());
    } finally {
      Files.deleteIfExists(hold);
    }
    Files.writeString(start, script);
    assertTrue(cc.run("status", promote).out().contains(promote + ": CANCELED"));

    // The old production is back: its app and data serve the production domain again.
    String page =
        Packaged.curl(
            "-H",
            "Host: randopony.production.test",
            "http://127.0.0.1:" + sandbox.nginxPort() + "/");
    assertTrue(page.contains("randopony2014r1") && page.contains("Grace Hopper"), page);
    String report = cc.run("report", promote).out();
    assertTrue(report.contains("Outcome: CANCELLED"), report);
    // The compensations ran as steps of their own, recorded in the history.
    for (String undo :
        List.of(
            "| production domain back to 2014r1 |",
            "| start old production supervisor |",
            "| start old production app |")) {
      assertTrue(report.contains(undo), undo + "\n" + report);
    }
    assertEachStepRanOnce(staging, promote);
    histories.replayAndKeep(promote);
  }

  /** Waits until the host has been asked to run a matching command; returns it. */
  static String awaitHostCommand(Predicate<String> match) throws InterruptedException {
    for (int i = 0; i < 1200; i++) {
      for (String c : sandbox.commandsRun()) {
        if (match.test(c)) {
          return c;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the host never ran the expected command:\n" + sandbox.commandsRun());
  }

  static void awaitStep(String release, String step, StepStatus status) throws Exception {
    ReleaseControl stub = histories.client.newWorkflowStub(ReleaseControl.class, release);
    for (int i = 0; i < 1200; i++) {
      try {
        ReleaseProgress p = stub.progress();
        for (StepState s : p.steps()) {
          if (s.name().equals(step) && s.status() == status) {
            return;
          }
        }
      } catch (RuntimeException e) {
        // The worker is still coming up.
      }
      Thread.sleep(50);
    }
    throw new AssertionError(step + " never reached " + status + "\n" + worker.logText());
  }

  static void killAndRestartWorker() throws Exception {
    worker.kill();
    noteInFlight();
    worker.start();
  }

  /**
   * Kills the Temporal server (SIGKILL) and starts it again on the same SQLite file. A step running
   * meanwhile may not be able to report its completion and is then retried, like one whose worker
   * died.
   */
  static void restartTemporal() {
    temporal.kill();
    noteInFlight();
    temporal.start();
  }

  static void noteInFlight() {
    List<String> ran = sandbox.commandsRun();
    if (!ran.isEmpty()) {
      inFlightAtKill.add(ran.get(ran.size() - 1));
    }
  }

  /**
   * Every command step that the releases run so far on this sandbox scheduled ran on the host
   * exactly as often as it was scheduled; a step that was running when the worker or the server was
   * killed may have run once more. All releases are counted together because a rollback step can
   * run the very command a staging deploy ran (start the staging app, say).
   */
  static void assertEachStepRanOnce(String... latest) throws Exception {
    for (String id : latest) {
      if (!releases.contains(id)) {
        releases.add(id);
      }
    }
    Map<String, Integer> expected = new HashMap<>();
    for (String release : releases) {
      List<String> scheduled = histories.commandsScheduled(release);
      assertTrue(scheduled.size() >= 4, "command steps in " + release + ": " + scheduled);
      scheduled.forEach(c -> expected.merge(c, 1, Integer::sum));
    }
    Map<String, Integer> ran = new HashMap<>();
    sandbox.commandsRun().forEach(c -> ran.merge(c, 1, Integer::sum));
    List<String> wrong = new ArrayList<>();
    for (Map.Entry<String, Integer> e : expected.entrySet()) {
      int n = ran.getOrDefault(e.getKey(), 0);
      boolean ok =
          n == e.getValue() || (n == e.getValue() + 1 && inFlightAtKill.contains(e.getKey()));
      if (!ok) {
        wrong.add(n + "x (expected " + e.getValue() + "): " + e.getKey());
      }
    }
    assertTrue(wrong.isEmpty(), releases + ": steps not run exactly once:\n" + wrong);
  }

  static File[] archives(String prefix) {
    File[] found =
        sandbox.home().resolve("archive").toFile().listFiles((d, n) -> n.startsWith(prefix));
    return found == null ? new File[0] : found;
  }
}
