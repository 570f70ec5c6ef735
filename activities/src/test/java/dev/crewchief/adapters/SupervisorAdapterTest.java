package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.SupervisorActivities;
import dev.crewchief.activities.SupervisorActivities.ProgramState;
import dev.crewchief.activities.SupervisorActivities.ProgramsRequest;
import dev.crewchief.activities.SupervisorActivities.ProgramsResult;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.adapters.supervisor.SupervisorActivitiesImpl;
import dev.crewchief.adapters.supervisor.SupervisorActivitiesImpl.Restarting;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code Supervisor.checkPrograms} against a real supervisord the test starts for the sandbox user
 * (its own config dir in the user's home), over SSH: a program that runs, stopped ones that run
 * once restarted, and one that exits at once and ends FATAL with its log.
 */
class SupervisorAdapterTest {
  static Sandbox sandbox;
  static HostRef host;
  static RemoteHostActivitiesImpl remote;
  static SupervisorActivitiesImpl supervisor;
  static Path conf;
  static String ctl;

  @BeforeAll
  static void up() throws IOException {
    sandbox = Sandbox.get();
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
    supervisor = new SupervisorActivitiesImpl(ssh);

    Path dir = sandbox.home().resolve("supervisor-test");
    Files.createDirectories(dir);
    conf = dir.resolve("supervisord.conf");
    Files.writeString(
        conf,
        """
        [supervisord]
        logfile=%(here)s/supervisord.log
        pidfile=%(here)s/supervisord.pid
        childlogdir=%(here)s

        [unix_http_server]
        file=%(here)s/supervisor.sock

        [supervisorctl]
        serverurl=unix://%(here)s/supervisor.sock

        [rpcinterface:supervisor]
        supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

        [program:good]
        command=sleep 100000
        startsecs=1

        [program:idle]
        command=sleep 100000
        autostart=false
        startsecs=1

        [program:idle-dry]
        command=sleep 100000
        autostart=false
        startsecs=1

        [program:idle-retried]
        command=sleep 100000
        autostart=false
        startsecs=1

        [program:flaky]
        command=sh -c 'if [ -f %(here)s/flaky.ok ]; then exec sleep 100000; fi; touch %(here)s/flaky.ok; echo first start fails; exit 1'
        autostart=false
        startsecs=1
        startretries=3

        [program:crash]
        command=sh -c 'echo crash-out-line: cannot open config.yml; echo crash-err-line >&2; exit 1'
        startsecs=1
        startretries=1
        stdout_logfile=%(here)s/crash.out.log
        stderr_logfile=%(here)s/crash.err.log
        """);
    // A config whose supervisorctl reaches no supervisord (none listens on its socket).
    Files.writeString(
        dir.resolve("nobody.conf"), "[supervisorctl]\nserverurl=unix://%(here)s/nobody.sock\n");
    Sandbox.run("chown", "-R", sandbox.user() + ":", dir.toString());
    ctl = "/usr/bin/supervisorctl -c " + conf;
    run("/usr/bin/supervisord -c " + conf);
    awaitStatus("good", "RUNNING");
  }

  @AfterAll
  static void down() {
    run(ctl + " shutdown");
  }

  static String run(String command) {
    return remote.runCommand(new CommandRequest("test", host, command, false)).output();
  }

  /** The state of a program as supervisorctl tells it, read independently of the adapter. */
  static String stateOf(String program) {
    String line = run(ctl + " status " + program + " || true").strip();
    String[] words = line.split("\\s+");
    return words.length > 1 ? words[1] : line;
  }

  static void awaitStatus(String program, String state) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!stateOf(program).equals(state)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(program + " did not become " + state);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static ProgramsRequest request(boolean dryRun, String... programs) {
    return new ProgramsRequest(
        "post-deploy", host, ctl, List.of(programs), Duration.ofSeconds(20), 2000, dryRun);
  }

  static List<String> restartsRun(String program) {
    return sandbox.commandsRun().stream()
        .filter(c -> c.contains(" restart ") && c.endsWith(" " + program))
        .toList();
  }

  static ProgramState in(List<ProgramState> states, String name) {
    return states.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  static SupervisorActivities stub(TestActivityEnvironment env) {
    return env.newActivityStub(
        SupervisorActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .setHeartbeatTimeout(Duration.ofSeconds(1))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  @Test
  void allRunningRestartsNothing() {
    ProgramsResult r = supervisor.checkPrograms(request(false, "good"));
    assertEquals(List.of(), r.restarted());
    assertEquals("RUNNING", in(r.before(), "good").state());
    assertTrue(in(r.before(), "good").description().startsWith("pid "), r.before().toString());
    assertFalse(r.rehearsed());
    assertEquals(List.of(), restartsRun("good"));
  }

  @Test
  void aStoppedProgramIsRestartedOnceAndRunsAfter() {
    List<Restarting> heartbeats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(supervisor);
      env.setActivityHeartbeatListener(Restarting.class, heartbeats::add);
      ProgramsResult r = stub(env).checkPrograms(request(false, "good", "idle"));
      assertEquals("STOPPED", in(r.before(), "idle").state());
      assertEquals(List.of("idle"), r.restarted());
      assertEquals("RUNNING", in(r.after(), "idle").state());
      assertFalse(heartbeats.isEmpty());
      assertTrue(
          heartbeats.stream().anyMatch(h -> h.message().contains("idle")), heartbeats.toString());
    } finally {
      env.close();
    }
    // Read back: supervisord runs it, and it was restarted once.
    assertEquals("RUNNING", stateOf("idle"));
    assertEquals(1, restartsRun("idle").size());
  }

  @Test
  void aProgramThatBacksOffThenRunsIsWaitedForNotRestartedAgain() {
    // Its first start fails and supervisord retries it after a backoff; the second start runs.
    // Whether restart returns during the backoff or after it, the step ends with it RUNNING and
    // restarts it once.
    ProgramsResult r = supervisor.checkPrograms(request(false, "flaky"));
    assertEquals(List.of("flaky"), r.restarted());
    assertEquals("RUNNING", in(r.after(), "flaky").state());
    assertEquals("RUNNING", stateOf("flaky"));
    assertEquals(1, restartsRun("flaky").size());
  }

  @Test
  void aProgramThatWillNotStayUpIsProgramDownWithItsLogTail() {
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> supervisor.checkPrograms(request(false, "good", "crash")));
    assertEquals("ProgramDown", f.getType());
    assertTrue(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("program crash"), m);
    assertTrue(m.contains("FATAL"), m);
    assertTrue(m.contains("crash-out-line: cannot open config.yml"), m);
    assertTrue(m.contains("crash-err-line"), m);
    assertFalse(m.contains("program good"), m);
    assertEquals("FATAL", stateOf("crash"));
    assertEquals(1, restartsRun("crash").size());
  }

  @Test
  void aProgramSupervisorDoesNotKnowIsProgramDown() {
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> supervisor.checkPrograms(request(false, "good", "idle-dry", "sm-ghost")));
    assertEquals("ProgramDown", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("sm-ghost"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("no such process"), f.getOriginalMessage());
    // Nothing was restarted for a step that cannot succeed.
    assertEquals(List.of(), restartsRun("idle-dry"));
    assertEquals("STOPPED", stateOf("idle-dry"));
  }

  @Test
  void aDryRunReadsTheStatusAndSaysWhatItWouldRestart() {
    // No programs listed: every program supervisord runs is checked.
    ProgramsResult r = supervisor.checkPrograms(request(true));
    assertTrue(r.rehearsed());
    assertTrue(r.restarted().contains("idle-dry"), r.restarted().toString());
    assertTrue(r.restarted().contains("crash"), r.restarted().toString());
    assertFalse(r.restarted().contains("good"), r.restarted().toString());
    assertEquals(r.before(), r.after());
    assertEquals("STOPPED", stateOf("idle-dry"));
    assertEquals(List.of(), restartsRun("idle-dry"));
  }

  @Test
  void aRetriedAttemptDoesNotRestartWhatAnEarlierAttemptRestarted() {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(supervisor);
      // The last heartbeat of an earlier attempt that restarted idle-retried (which is down
      // again): a retry does not restart it a second time, it reports it down.
      env.setHeartbeatDetails(
          new Restarting(1, 1, "programs", "restarted idle-retried", List.of("idle-retried")));
      ActivityFailure f =
          assertThrows(
              ActivityFailure.class,
              () -> stub(env).checkPrograms(request(false, "good", "idle-retried")));
      ApplicationFailure cause = assertInstanceOf(ApplicationFailure.class, f.getCause());
      assertEquals("ProgramDown", cause.getType());
      assertTrue(cause.getOriginalMessage().contains("idle-retried"), cause.getOriginalMessage());
    } finally {
      env.close();
    }
    assertEquals(List.of(), restartsRun("idle-retried"));
    assertEquals("STOPPED", stateOf("idle-retried"));
  }

  @Test
  void aSupervisorctlThatReachesNoSupervisordOrIsNotThereFails() {
    ProgramsRequest nobody =
        new ProgramsRequest(
            "post-deploy",
            host,
            "/usr/bin/supervisorctl -c " + conf.resolveSibling("nobody.conf"),
            List.of(),
            Duration.ofSeconds(5),
            100,
            false);
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> supervisor.checkPrograms(nobody));
    assertEquals("RemoteCommandFailed", f.getType());
    assertTrue(f.getOriginalMessage().contains("is supervisord running"), f.getOriginalMessage());

    ProgramsRequest missing =
        new ProgramsRequest(
            "post-deploy",
            host,
            "/opt/nowhere/supervisorctl",
            List.of(),
            Duration.ofSeconds(5),
            100,
            false);
    ApplicationFailure m =
        assertThrows(ApplicationFailure.class, () -> supervisor.checkPrograms(missing));
    assertEquals("RemoteToolMissing", m.getType());
    assertTrue(m.isNonRetryable());
    assertTrue(
        m.getOriginalMessage().contains("/opt/nowhere/supervisorctl"), m.getOriginalMessage());
  }
}
