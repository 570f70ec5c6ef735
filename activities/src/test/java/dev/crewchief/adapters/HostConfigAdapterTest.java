package dev.crewchief.adapters;

import static dev.crewchief.release.Shell.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostConfigActivities;
import dev.crewchief.activities.HostConfigActivities.CronRequest;
import dev.crewchief.activities.HostConfigActivities.Edit;
import dev.crewchief.activities.HostConfigActivities.LogWait;
import dev.crewchief.activities.HostConfigActivities.LogWaitRequest;
import dev.crewchief.activities.HostConfigActivities.ReplaceRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.HostConfigActivitiesImpl;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link HostConfigActivitiesImpl} against a real sandbox host: files edited and read back, the
 * user's real crontab (the sandbox's own user, ccconfig, so that emptying its crontab first
 * disturbs nobody), and logs written on the host while they are followed.
 */
class HostConfigAdapterTest {
  static Sandbox sandbox;
  static HostRef host;
  static RemoteHostActivitiesImpl remote;
  static HostConfigActivitiesImpl config;
  static String dir;

  @BeforeAll
  static void up() throws IOException {
    sandbox = Sandbox.get("ccconfig");
    host =
        new HostRef(
            "sandbox",
            "127.0.0.1",
            sandbox.sshPort(),
            sandbox.user(),
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    SshHosts ssh = new SshHosts(new SecretResolver(Map.of()));
    remote = new RemoteHostActivitiesImpl(ssh);
    config = new HostConfigActivitiesImpl(ssh);
    dir = sandbox.home() + "/hostconfig-" + System.nanoTime();
    // A crontab left by an earlier run of this user goes first. The spool outlives the user, and
    // a user made again may get another uid, so the user itself could not remove it: root does.
    Files.deleteIfExists(CRON_SPOOL.resolve(sandbox.user()));
    Files.deleteIfExists(CRON_SPOOL.resolve(CRON_TARGET));
    run("mkdir -p " + dir);
  }

  static String run(String command) {
    return remote.runCommand(new CommandRequest("test", host, command, false)).output();
  }

  /** The file's text exactly (a command's output comes back stripped). */
  static String cat(String path) {
    return new String(
        java.util.Base64.getDecoder().decode(run("base64 -w0 " + q(path)).strip()),
        java.nio.charset.StandardCharsets.UTF_8);
  }

  static ApplicationFailure failure(Throwable t) {
    return assertInstanceOf(
        ApplicationFailure.class, t instanceof ActivityFailure ? t.getCause() : t);
  }

  // --- replaceInFile

  @Test
  void replacesEveryOccurrenceKeepsABackupAndASecondCallChangesNothing() {
    String file = dir + "/app.conf";
    String before = "db = old-db.example:5432\nkeep = this\nreplica = old-db.example\n";
    run("printf '%s' " + q(before) + " > " + file + " && chmod 640 " + file);
    ReplaceRequest req =
        new ReplaceRequest(
            "indexer off", host, file, "old-db.example", "new-db.example", false, false);

    Edit e = config.replaceInFile(req);
    assertTrue(e.changed());
    assertEquals(2, e.replaced());
    assertFalse(e.rehearsed());
    assertEquals(file + ".crewchief-indexer-off", e.backupPath());
    assertEquals(before.replace("old-db.example", "new-db.example"), cat(file));
    assertEquals(before, cat(e.backupPath()), "the backup is the file before the edit");
    assertEquals("640", run("stat -c %a " + file).strip(), "the mode is kept");

    Edit again = config.replaceInFile(req);
    assertFalse(again.changed());
    assertEquals(0, again.replaced());
    assertEquals(before.replace("old-db.example", "new-db.example"), cat(file));
    assertEquals(before, cat(e.backupPath()), "a second call leaves the backup alone");
    assertEquals("", run("ls " + dir + " | grep crewchief-tmp || true").strip());
  }

  @Test
  void aReplacementThatContainsTheOriginalIsStillDoneOnce() {
    String file = dir + "/ports.conf";
    run("printf 'listen 808;\\n' > " + file);
    ReplaceRequest req = new ReplaceRequest("port", host, file, "808", "8080", false, false);
    assertEquals(1, config.replaceInFile(req).replaced());
    Edit again = config.replaceInFile(req);
    assertFalse(again.changed());
    assertEquals("listen 8080;\n", cat(file));
  }

  @Test
  void anEditThroughASymlinkChangesItsTarget() {
    String target = dir + "/real.conf";
    String link = dir + "/linked.conf";
    run("printf 'a=1\\n' > " + target + " && ln -sfn " + target + " " + link);
    Edit e = config.replaceInFile(new ReplaceRequest("s", host, link, "a=1", "a=2", false, false));
    assertTrue(e.changed());
    assertEquals(target, run("readlink " + link).strip(), "the link is still a link");
    assertEquals("a=2\n", cat(target));
  }

  @Test
  void neitherTextInTheFileIsEditNotFoundAndAMissingFileIsNoSuchFile() {
    String file = dir + "/other.conf";
    run("printf 'nothing here\\n' > " + file);
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                config.replaceInFile(
                    new ReplaceRequest("x", host, file, "old-db", "new-db", false, false)));
    assertEquals("EditNotFound", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(file), f.getOriginalMessage());
    assertEquals("nothing here\n", cat(file));

    ApplicationFailure missing =
        assertThrows(
            ApplicationFailure.class,
            () ->
                config.replaceInFile(
                    new ReplaceRequest("x", host, dir + "/nope.conf", "a", "b", false, false)));
    assertEquals("NoSuchFile", missing.getType());
    assertTrue(missing.isNonRetryable());
  }

  @Test
  void aDryRunChangesNothing() {
    String file = dir + "/dry.conf";
    run("printf 'x=old\\n' > " + file);
    int before = sandbox.commandsRun().size();
    Edit e = config.replaceInFile(new ReplaceRequest("dry", host, file, "old", "new", false, true));
    assertTrue(e.rehearsed());
    assertFalse(e.changed());
    assertEquals(before, sandbox.commandsRun().size(), "nothing ran on the host");
    assertEquals("x=old\n", cat(file));
  }

  // --- with sudo (the sandbox user given passwordless sudo for a moment, by a sudoers file)

  static final Path SUDOERS = Path.of("/etc/sudoers.d/crewchief-test-ccconfig");
  static final String CRON_TARGET = "cccrontarget";

  static final Path CRON_SPOOL = Path.of("/var/spool/cron/crontabs");

  /** A command on this machine, as root (the test's user, as for the sandbox itself). */
  static String local(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return out;
  }

  static void grantSudo() throws IOException {
    Files.writeString(SUDOERS, sandbox.user() + " ALL=(ALL) NOPASSWD: ALL\n");
    Files.setPosixFilePermissions(SUDOERS, PosixFilePermissions.fromString("r--r-----"));
  }

  @Test
  void aFileTheUserCannotWriteIsEditedWithSudoAndKeepsItsOwner() throws Exception {
    Path etc = Files.createDirectories(sandbox.dir.resolve("etc-" + System.nanoTime()));
    Path file = Files.writeString(etc.resolve("indexer.conf"), "indexer = on\n");
    Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    ReplaceRequest plain =
        new ReplaceRequest(
            "indexer off", host, file.toString(), "indexer = on", "indexer = off", false, false);
    ReplaceRequest withSudo =
        new ReplaceRequest(
            "indexer off", host, file.toString(), "indexer = on", "indexer = off", true, false);

    ApplicationFailure notWritable =
        assertThrows(ApplicationFailure.class, () -> config.replaceInFile(plain));
    assertEquals("HostAuth", notWritable.getType());
    assertTrue(notWritable.isNonRetryable());
    ApplicationFailure noSudo =
        assertThrows(ApplicationFailure.class, () -> config.replaceInFile(withSudo));
    assertEquals("HostAuth", noSudo.getType(), noSudo.getOriginalMessage());
    assertTrue(noSudo.getOriginalMessage().contains("password"), noSudo.getOriginalMessage());
    assertEquals("indexer = on\n", Files.readString(file));

    grantSudo();
    try {
      Edit e = config.replaceInFile(withSudo);
      assertTrue(e.changed());
      assertEquals("indexer = off\n", Files.readString(file));
      assertEquals("root", Files.getOwner(file).getName(), "still root's");
      assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      assertEquals("indexer = on\n", Files.readString(Path.of(e.backupPath())));
      assertFalse(config.replaceInFile(withSudo).changed());
    } finally {
      Files.deleteIfExists(SUDOERS);
    }
  }

  @Test
  void anotherUsersCrontabIsEditedWithSudo() throws Exception {
    local("userdel", CRON_TARGET);
    Files.deleteIfExists(CRON_SPOOL.resolve(CRON_TARGET));
    local("useradd", "-M", "-s", "/usr/sbin/nologin", CRON_TARGET);
    String line = "30 2 * * * /usr/local/bin/push-backup " + System.nanoTime();
    CronRequest req = new CronRequest("backup cron", host, CRON_TARGET, line, false);
    try {
      ApplicationFailure noSudo =
          assertThrows(ApplicationFailure.class, () -> config.ensureCronLine(req));
      assertEquals("HostAuth", noSudo.getType(), noSudo.getOriginalMessage());
      grantSudo();
      assertEquals("added the line", config.ensureCronLine(req).output());
      assertTrue(config.ensureCronLine(req).output().startsWith("unchanged"));
      assertEquals(1, count(local("crontab", "-u", CRON_TARGET, "-l"), line));
      assertEquals(0, count(run("crontab -l"), line), "not in the SSH user's own crontab");
    } finally {
      Files.deleteIfExists(SUDOERS);
      local("crontab", "-u", CRON_TARGET, "-r");
      local("userdel", CRON_TARGET);
    }
  }

  // --- ensureCronLine

  static long count(String crontab, String line) {
    return crontab.lines().filter(line::equals).count();
  }

  @Test
  void aCronLineIsAddedOnceAndDuplicatesGo() {
    String line = "17 3 * * * /usr/local/bin/backup --tag " + System.nanoTime();
    CronRequest req = new CronRequest("backup cron", host, null, line, false);

    ActionResult added = config.ensureCronLine(req);
    assertEquals("added the line", added.output());
    assertEquals(1, count(run("crontab -l"), line));

    ActionResult again = config.ensureCronLine(req);
    assertTrue(again.output().startsWith("unchanged"), again.output());
    assertEquals(1, count(run("crontab -l"), line));

    String other = "0 * * * * /bin/true # " + System.nanoTime();
    run("crontab -l | { cat; printf '%s\\n%s\\n' " + q(line) + " " + q(other) + "; } | crontab -");
    assertEquals(2, count(run("crontab -l"), line));
    ActionResult dedup = config.ensureCronLine(req);
    assertEquals("removed 1 duplicates of the line", dedup.output());
    String now = run("crontab -l");
    assertEquals(1, count(now, line));
    assertEquals(1, count(now, other), "the other lines stay");

    ActionResult dry =
        config.ensureCronLine(new CronRequest("c", host, null, "1 1 * * * /bin/false", true));
    assertTrue(dry.rehearsed());
    assertEquals(0, count(run("crontab -l"), "1 1 * * * /bin/false"));
  }

  // --- waitForLog

  static HostConfigActivities stub(List<Progress> heartbeats) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(config);
    env.setActivityHeartbeatListener(Progress.class, heartbeats::add);
    return env.newActivityStub(
        HostConfigActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .setHeartbeatTimeout(Duration.ofSeconds(10))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  /**
   * Starts a writer on the host, detached: after a moment (the log is not there yet when the wait
   * starts) it appends {@code lines} numbered lines a little apart, then {@code last}.
   */
  static void writer(String log, int lines, String last) {
    String script =
        "sleep 0.3; for i in $(seq 1 "
            + lines
            + "); do echo \"stage $i: running modules\"; sleep 0.02; done; "
            + (last == null ? "" : "echo " + q(last) + "; ")
            + "for i in 1 2 3; do echo \"after $i\"; done";
    run("(setsid nohup sh -c " + q(script) + " >> " + q(log) + " 2>/dev/null </dev/null &)");
  }

  static LogWaitRequest waitFor(String log, Duration limit) {
    return new LogWaitRequest(
        "cloud-init",
        host,
        log,
        "^Cloud-init v\\. \\S+ finished",
        "(?i)^(error|traceback)",
        Duration.ofMillis(200),
        limit,
        false);
  }

  @Test
  void waitsForALogThatIsNotThereYetUntilItsDoneLine() {
    String log = dir + "/cloud-init-done-" + System.nanoTime() + ".log";
    writer(log, 30, "Cloud-init v. 23.1 finished at Wed, 02 Dec 2026. Up 42.0 seconds");
    List<Progress> heartbeats = new CopyOnWriteArrayList<>();
    LogWait w = stub(heartbeats).waitForLog(waitFor(log, Duration.ofSeconds(60)));
    assertTrue(w.matchedLine().startsWith("Cloud-init v. 23.1 finished"), w.matchedLine());
    assertEquals(31, w.lines());
    assertTrue(w.tail().contains("stage 30: running modules"), w.tail());
    assertFalse(w.rehearsed());
    assertFalse(heartbeats.isEmpty());
    assertTrue(heartbeats.stream().allMatch(p -> p.unit().equals("lines")));
  }

  @Test
  void anErrorLineFailsWithTheLinesAroundIt() {
    String log = dir + "/cloud-init-error-" + System.nanoTime() + ".log";
    writer(log, 10, "ERROR: package installation failed: E: Unable to locate package esx");
    ActivityFailure e =
        assertThrows(
            ActivityFailure.class,
            () ->
                stub(new CopyOnWriteArrayList<>())
                    .waitForLog(waitFor(log, Duration.ofSeconds(60))));
    ApplicationFailure f = failure(e);
    assertEquals("LogShowsError", f.getType());
    assertTrue(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("Unable to locate package esx"), m);
    assertTrue(m.contains("at line 11"), m);
    assertTrue(m.contains("stage 10: running modules"), "the line before it: " + m);
  }

  @Test
  void aLogThatNeverCompletesExpiresAtTheLimit() {
    String log = dir + "/cloud-init-stuck-" + System.nanoTime() + ".log";
    run("printf 'stage 1\\nstage 2\\n' > " + q(log));
    ActivityFailure e =
        assertThrows(
            ActivityFailure.class,
            () ->
                stub(new CopyOnWriteArrayList<>()).waitForLog(waitFor(log, Duration.ofSeconds(1))));
    ApplicationFailure f = failure(e);
    assertEquals("LogWaitExpired", f.getType());
    assertTrue(f.getOriginalMessage().contains("2 lines"), f.getOriginalMessage());
  }

  @Test
  void aDryRunFollowsNothing() {
    LogWait w =
        config.waitForLog(
            new LogWaitRequest(
                "c", host, "/nonexistent", "done", null, null, Duration.ofSeconds(1), true));
    assertTrue(w.rehearsed());
    assertNull(w.matchedLine());
  }
}
