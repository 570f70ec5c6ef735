package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RandoPony's runbook on an app laid out unlike the project's own stand-in (deploy/sandbox/
 * pony-express): a pyproject.toml and no setup.py, a src/ layout, the distribution pony-express
 * (not the app's name), a real dependency (cuesheet) installed from the wheelhouse uploaded with
 * the code, supervisor's config under etc/, and a page that names no app dir (the probe expects its
 * title). Deployed to staging twice with a file deleted from the source in between (it must be gone
 * from the host and from the page), then promoted with a fresh database: the worker and the CLI as
 * separate processes, the real Temporal server and the sandbox host.
 */
class PonyExpressEndToEndIT {
  static final String RELEASE = "2015r1";
  static final String TITLE = "<title>Pony Express</title>";
  static Sandbox sandbox;
  static Stack stack;
  static String env;
  static Path source;

  @BeforeAll
  static void up() throws Exception {
    sandbox = Sandbox.get();
    env = sandbox.env.get("EXPRESS_ENV");
    source = Path.of(sandbox.env.get("EXPRESS_SOURCE"));
    stack = Stack.start(sandbox);
  }

  @AfterAll
  static void down() throws Exception {
    if (stack != null) {
      stack.close();
    }
  }

  static Crewchief.Result cli(String... args) throws Exception {
    return stack.cc.run(args);
  }

  static String staging(String path) throws Exception {
    return Packaged.curl(
        "-H", "Host: express.staging.test", "http://127.0.0.1:" + sandbox.nginxPort() + "/" + path);
  }

  static String production(String path) throws Exception {
    return Packaged.curl(
        "-H",
        "Host: express.production.test",
        "http://127.0.0.1:" + sandbox.nginxPort() + "/" + path);
  }

  @Test
  void aPyprojectAppWithItsOwnNameAndDependenciesDeploysAndPromotes() throws Exception {
    Path banner = source.resolve("src/ponyexpress/banner.txt");
    Files.writeString(banner, "Entries for the Fraser Valley 200 close on Friday\n");
    Path codeDir = sandbox.home().resolve("webapps/ponyexpress" + RELEASE + "/pony-express");

    Crewchief.Result first =
        cli("start", "randopony-staging", "--env", env, "--version", RELEASE, "--wait");
    assertEquals(0, first.exit(), first.out() + "\nworker:\n" + stack.worker.logText());
    String page = staging("");
    assertTrue(page.contains(TITLE) && page.contains("close on Friday"), page);
    // Installed by pip from the wheelhouse, dependency and all, under the distribution's own name.
    String version = staging("version");
    assertTrue(
        version.contains("pony-express 2015.1") && version.contains("cuesheet 1.2.0"), version);
    assertTrue(Files.exists(codeDir.resolve("src/ponyexpress/banner.txt")));
    // Staging data, which the update must keep.
    Packaged.curl(
        "-H",
        "Host: express.staging.test",
        "--data",
        "name=Eddy Merckx",
        "http://127.0.0.1:" + sandbox.nginxPort() + "/register");

    // The banner is deleted from the source: the next upload deletes it on the host too.
    Files.delete(banner);
    Crewchief.Result update =
        cli("start", "randopony-staging", "--env", env, "--version", RELEASE, "--wait");
    assertEquals(0, update.exit(), update.out() + "\nworker:\n" + stack.worker.logText());
    assertFalse(Files.exists(codeDir.resolve("src/ponyexpress/banner.txt")), "deleted on the host");
    page = staging("");
    assertTrue(page.contains(TITLE) && !page.contains("close on Friday"), page);
    assertTrue(page.contains("Eddy Merckx"), "the staging database is kept:\n" + page);
    assertTrue(Files.exists(codeDir.resolve("etc/supervisord.conf")));

    String stagingId = "release-randopony-staging-" + env + "-" + RELEASE;
    Crewchief.Result report = cli("report", stagingId);
    assertEquals(0, report.exit(), report.out());
    assertTrue(report.out().contains("update of " + RELEASE), report.out());
    assertTrue(
        report.out().contains("banner.txt"), "the deletion is in the report:\n" + report.out());

    String promote = "release-randopony-promote-" + env + "-" + RELEASE;
    Crewchief.Result started =
        cli("start", "randopony-promote", "--env", env, "--version", RELEASE, "--previous", "none");
    assertEquals(0, started.exit(), started.out());
    stack.cc.awaitStatus(promote, "gate confirm-release: WAITING", 120);
    assertEquals(
        0,
        cli("approve", promote, "confirm-release", "--as", "alice", "-m", "express to production")
            .exit());
    Crewchief.Result watched = cli("watch", promote);
    assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + stack.worker.logText());
    String prod = production("");
    assertTrue(prod.contains(TITLE), prod);
    assertFalse(prod.contains("Eddy Merckx"), "a fresh production database:\n" + prod);
    String prodVersion = production("version");
    assertTrue(
        prodVersion.contains("app ponyexpress" + RELEASE) && prodVersion.contains("cuesheet 1.2.0"),
        prodVersion);

    for (String id : new String[] {stagingId, promote}) {
      stack.histories.replayAndKeep(id);
    }
  }
}
