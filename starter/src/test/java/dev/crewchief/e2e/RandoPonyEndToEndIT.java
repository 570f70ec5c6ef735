package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole RandoPony runbook end to end: the worker and the crewchief CLI as separate processes
 * against the real Temporal server (temporal server start-dev) and the sandbox host (real sshd,
 * nginx, supervisor, python venvs). Deploys 2013r1 to staging and promotes it with a fresh
 * database, registers a rider on production, then deploys 2014r1 and promotes it with 2013r1's
 * data, passing the gate from the CLI.
 */
class RandoPonyEndToEndIT {
  static Sandbox sandbox;
  static TemporalDevServer temporal;
  static WorkerProcess worker;
  static Crewchief cc;
  static Histories histories;

  static Stack stack;

  @BeforeAll
  static void up() throws Exception {
    sandbox = Sandbox.get();
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

  static Crewchief.Result cli(String... args) throws Exception {
    return cc.run(args);
  }

  static String curl(String... args) throws Exception {
    return Packaged.curl(args);
  }

  static void waitForGate(String release) throws Exception {
    cc.awaitStatus(release, "gate confirm-release: WAITING", 120);
  }

  @Test
  void stagingThenPromotionTwiceKeepsProductionData() throws Exception {
    String prodUrl = "http://127.0.0.1:" + sandbox.nginxPort() + "/";
    String prodHost = "Host: randopony.production.test";

    Crewchief.Result staging1 =
        cli("start", "randopony-staging", "--env", "sandbox", "--version", "2013r1", "--wait");
    assertEquals(0, staging1.exit(), staging1.out() + "\nworker:\n" + worker.logText());

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
    Crewchief.Result watched1 = cli("watch", promote1);
    assertEquals(0, watched1.exit(), watched1.out() + "\nworker:\n" + worker.logText());
    assertTrue(curl("-H", prodHost, prodUrl).contains("randopony2013r1"));

    // Production data that must survive the next promotion.
    curl("-H", prodHost, "--data", "name=Ada Lovelace", prodUrl + "register");
    assertTrue(curl("-H", prodHost, prodUrl).contains("Ada Lovelace"));

    Crewchief.Result staging2 =
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
    Crewchief.Result second =
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
    Crewchief.Result wrong = cli("approve", promote2, "confirm-release", "--as", "bob");
    assertEquals(1, wrong.exit());
    assertTrue(wrong.out().contains("may not decide"), wrong.out());
    assertTrue(cli("status", promote2).out().contains("gate confirm-release: WAITING"));
    assertEquals(
        0,
        cli("approve", promote2, "confirm-release", "--as", "alice", "-m", "tested on staging")
            .exit());
    Crewchief.Result watched2 = cli("watch", promote2);
    assertEquals(0, watched2.exit(), watched2.out() + "\nworker:\n" + worker.logText());

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

    Crewchief.Result report = cli("report", promote2);
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

    // The HTML export of the closed release: a timeline with a bar per step and per gate.
    Path html = Path.of("target", "report-" + promote2 + ".html").toAbsolutePath();
    Crewchief.Result exported = cli("report", promote2, "-o", html.toString());
    assertEquals(0, exported.exit(), exported.out());
    String page2 = Files.readString(html);
    assertTrue(page2.startsWith("<!DOCTYPE html>") && page2.contains("<svg"), page2);
    assertTrue(page2.contains("gate: confirm-release") && page2.contains("tested on staging"));
    long bars = page2.lines().filter(l -> l.contains("<rect class=")).count();
    long rows = md.lines().filter(l -> l.matches("\\| [0-9]+ \\|.*")).count();
    assertEquals(rows + 1, bars, "one bar per step plus the gate:\n" + page2);

    // Listing through the search attributes of the real server.
    String promotions = cli("list", "--runbook", "randopony-promote", "--env", "sandbox").out();
    assertTrue(promotions.contains(promote1) && promotions.contains(promote2), promotions);
    assertFalse(promotions.contains("release-randopony-staging-"), promotions);
    String v2014 = cli("list", "--version", "2014r1", "--status", "completed").out();
    assertTrue(
        v2014.contains("release-randopony-staging-sandbox-2014r1") && v2014.contains(promote2),
        v2014);
    assertFalse(v2014.contains("2013r1"), v2014);
    String succeeded = cli("list", "--state", "SUCCEEDED", "--runbook", "randopony-promote").out();
    assertTrue(succeeded.contains(promote2) && succeeded.contains("SUCCEEDED"), succeeded);
    assertFalse(cli("list", "--status", "running").out().contains(promote2));
    assertEquals(2, cli("list", "--status", "sideways").exit());
    // The newest only, saying that more match (staging 2014r1 matches too, started before).
    String newest = cli("list", "--env", "sandbox", "--version", "2014r1", "--limit", "1").out();
    assertTrue(newest.contains(promote2) && !newest.contains("staging-sandbox-2014r1"), newest);
    assertTrue(newest.contains("(the 1 newest shown; more releases match"), newest);
    String both = cli("list", "--env", "sandbox", "--version", "2014r1", "--limit", "2").out();
    assertTrue(
        both.contains(promote2)
            && both.contains("release-randopony-staging-sandbox-2014r1")
            && !both.contains("newest shown"),
        both);
    assertEquals(2, cli("list", "--limit", "-1").exit());

    // No secret in any history: the private key stays on the worker; only its reference is there.
    String key = Files.readString(sandbox.dir.resolve("client_ed25519"));
    for (String id :
        List.of(
            "release-randopony-staging-sandbox-2013r1",
            promote1,
            "release-randopony-staging-sandbox-2014r1",
            promote2)) {
      assertTrue(histories.everything(id).contains("client_ed25519"), "the key reference is there");
      histories.assertNoSecret(id, key);
      histories.replayAndKeep(id);
    }
  }

  @Test
  void unknownEnvironmentAndBadVersionAreUsageErrors() throws Exception {
    Crewchief.Result env =
        cli("start", "randopony-staging", "--env", "nowhere", "--version", "2014r1");
    assertEquals(2, env.exit());
    assertTrue(
        env.out().contains("unknown environment 'nowhere'") && env.out().contains("sandbox"),
        env.out());
    Crewchief.Result version =
        cli("start", "randopony-staging", "--env", "sandbox", "--version", "36-1");
    assertEquals(2, version.exit());
    assertTrue(version.out().contains("not a RandoPony release id"), version.out());
    Crewchief.Result none =
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
