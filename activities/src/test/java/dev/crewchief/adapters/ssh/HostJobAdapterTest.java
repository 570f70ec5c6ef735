package dev.crewchief.adapters.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.JobRequest;
import dev.crewchief.activities.JobResult;
import dev.crewchief.activities.Progress;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code RemoteHost.runJob} against the real sandbox host: jobs run detached under {@code
 * ~/.crewchief/jobs}, are followed through their output and pid, and are never started twice. The
 * jobs wait for a file the test creates when it has seen what it checks, so nothing here depends on
 * how fast the host runs them.
 */
class HostJobAdapterTest {
  static final String PROGRESS = "indexed (?<done>\\d+)/(?<total>\\d+)";
  static final Duration POLL = Duration.ofMillis(200);

  static Sandbox sandbox;
  static HostRef host;
  static RemoteHostActivitiesImpl remote;

  @BeforeAll
  static void up() {
    sandbox = Sandbox.get();
    host =
        new HostRef(
            "sandbox",
            "127.0.0.1",
            sandbox.sshPort(),
            sandbox.user(),
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    remote = new RemoteHostActivitiesImpl(new SshHosts(new SecretResolver(Map.of())));
  }

  static String newId(String name) {
    return "test-" + name + "-" + Long.toString(System.nanoTime(), 36);
  }

  static Path jobDir(String id) {
    return sandbox.home().resolve(".crewchief/jobs/" + id);
  }

  /** A file in the sandbox user's home the job waits for: created by the test, read by the job. */
  static Path goFile(String id) {
    return sandbox.home().resolve("go-" + id);
  }

  /** A shell snippet that waits (at most a minute) for the test's go file. */
  static String waitForGo(String id) {
    return "i=0; while [ ! -f \"$HOME/go-"
        + id
        + "\" ] && [ $i -lt 600 ]; do sleep 0.1;"
        + " i=$((i+1)); done; ";
  }

  static JobRequest job(String id, String command) {
    return new JobRequest("reindex", host, id, command, PROGRESS, POLL, false);
  }

  static TestActivityEnvironment environment(List<Progress> heartbeats) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(remote);
    env.setActivityHeartbeatListener(Progress.class, heartbeats::add);
    return env;
  }

  static RemoteHostActivities stub(TestActivityEnvironment env) {
    return env.newActivityStub(
        RemoteHostActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            // Heartbeats are sent at most every 0.8 of this: often enough to see each stage.
            .setHeartbeatTimeout(Duration.ofSeconds(1))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static void touch(Path file) {
    try {
      Files.writeString(file, "go\n");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aJobReportsItsProgressInHeartbeatsAndEndsWithItsOutput() throws Exception {
    String id = newId("progress");
    String command =
        "echo indexed 0/50; echo indexed 10/50; echo indexed 20/50; "
            + waitForGo(id)
            + "for n in 30 40 50; do echo \"indexed $n/50\"; done; echo all done";
    List<Progress> heartbeats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = environment(heartbeats);
    try {
      CompletableFuture<JobResult> run =
          CompletableFuture.supplyAsync(() -> stub(env).runJob(job(id, command)));
      await(
          "a heartbeat shows the job part-way",
          () -> heartbeats.stream().anyMatch(p -> p.done() > 0 && p.done() < p.total()));
      touch(goFile(id));
      JobResult r = run.get(2, TimeUnit.MINUTES);
      assertEquals(0, r.exitCode());
      assertEquals(50, r.done());
      assertEquals(50, r.total());
      assertFalse(r.resumed());
      assertFalse(r.rehearsed());
      assertTrue(r.outputTail().endsWith("indexed 50/50\nall done"), r.outputTail());
      Progress partWay =
          heartbeats.stream().filter(p -> p.done() > 0 && p.done() < p.total()).findFirst().get();
      assertEquals(50, partWay.total());
      assertEquals("items", partWay.unit());
      assertTrue(partWay.message().contains("indexed"), partWay.message());
      // What the host holds: the script, the whole output and the exit status.
      assertEquals("0", read(jobDir(id).resolve("exit")).strip());
      assertEquals(command + "\n", read(jobDir(id).resolve("script")));
      assertTrue(read(jobDir(id).resolve("out")).contains("indexed 30/50"));
    } finally {
      env.close();
    }
  }

  @Test
  void aSecondAttemptFollowsTheRunningJobInsteadOfStartingItAgain() throws Exception {
    String id = newId("resume");
    String counter = "$HOME/counter-" + id;
    String command =
        "echo started >> \""
            + counter
            + "\"; echo indexed 1/3; "
            + waitForGo(id)
            + "echo indexed 3/3";

    // The first attempt starts the job and is cancelled once it has reported it running.
    List<Progress> first = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env1 = environment(first);
    try {
      CompletableFuture<JobResult> attempt =
          CompletableFuture.supplyAsync(() -> stub(env1).runJob(job(id, command)));
      await(
          "the first attempt reports the job running",
          () -> first.stream().anyMatch(p -> p.done() == 1));
      env1.requestCancelActivity();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> attempt.get(1, TimeUnit.MINUTES));
      // The test environment reports the cancelled attempt as the CanceledFailure itself.
      assertInstanceOf(CanceledFailure.class, e.getCause());
    } finally {
      env1.close();
    }
    // The job went on without its follower.
    assertFalse(Files.exists(jobDir(id).resolve("exit")));

    List<Progress> second = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env2 = environment(second);
    try {
      CompletableFuture<JobResult> attempt =
          CompletableFuture.supplyAsync(() -> stub(env2).runJob(job(id, command)));
      await(
          "the second attempt follows the job", () -> second.stream().anyMatch(p -> p.done() == 1));
      touch(goFile(id));
      JobResult r = attempt.get(2, TimeUnit.MINUTES);
      assertTrue(r.resumed());
      assertEquals(0, r.exitCode());
      assertEquals(3, r.done());
    } finally {
      env2.close();
    }
    // Once more after its end: the finished job's result, and still one start.
    JobResult again = remote.runJob(job(id, command));
    assertTrue(again.resumed());
    assertEquals(3, again.done());
    Path counterFile = sandbox.home().resolve("counter-" + id);
    assertEquals(List.of("started"), Files.readAllLines(counterFile));
  }

  @Test
  void aFailingJobIsRemoteJobFailedWithItsOutputsEnd() {
    String id = newId("fail");
    String command = "echo indexed 2/5; echo 'mapping conflict on field x' >&2; exit 3";
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> remote.runJob(job(id, command)));
    assertEquals("RemoteJobFailed", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("exited 3"), f.getOriginalMessage());
    assertTrue(
        f.getOriginalMessage().contains("mapping conflict on field x"), f.getOriginalMessage());
    assertEquals("3", read(jobDir(id).resolve("exit")).strip());
    // A retry does not run it again: it fails the same way, from the job's record.
    Path out = jobDir(id).resolve("out");
    String before = read(out);
    ApplicationFailure again =
        assertThrows(ApplicationFailure.class, () -> remote.runJob(job(id, command)));
    assertEquals("RemoteJobFailed", again.getType());
    assertEquals(before, read(out));
  }

  @Test
  void aKilledJobIsRemoteJobFailedSayingItDied() throws Exception {
    String id = newId("killed");
    CompletableFuture<JobResult> run =
        CompletableFuture.supplyAsync(
            () -> remote.runJob(job(id, "echo indexed 1/9; " + waitForGo(id) + "echo never")));
    Path pidFile = jobDir(id).resolve("pid");
    await(
        "the job runs",
        () -> Files.exists(pidFile) && read(jobDir(id).resolve("out")).contains("indexed 1/9"));
    String pid = read(pidFile).strip();
    // The job's process group (its wrapper leads its own session): what a reboot or an OOM kill of
    // the whole job leaves, no exit status.
    Sandbox.run("kill", "-KILL", "--", "-" + pid);
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> run.get(1, TimeUnit.MINUTES));
    ApplicationFailure f = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals("RemoteJobFailed", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(
        f.getOriginalMessage().contains("died without an exit status"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains(pid), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("indexed 1/9"), f.getOriginalMessage());
    assertFalse(Files.exists(jobDir(id).resolve("exit")));
  }

  @Test
  void anotherCommandUnderAnExistingJobIdIsRefused() {
    String id = newId("same-id");
    remote.runJob(job(id, "echo indexed 1/1"));
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> remote.runJob(job(id, "echo something else")));
    assertEquals("InvalidInput", f.getType());
    assertTrue(f.isNonRetryable());
    assertEquals("echo indexed 1/1\n", read(jobDir(id).resolve("script")));
  }

  @Test
  void invalidJobIdsAreRefusedBeforeAnythingRuns() {
    for (String id : List.of("../escape", "a b", "..", "x;rm -rf ~", "")) {
      ApplicationFailure f =
          assertThrows(ApplicationFailure.class, () -> remote.runJob(job(id, "touch $HOME/bad")));
      assertEquals("InvalidInput", f.getType(), id);
      assertTrue(f.isNonRetryable());
    }
    assertFalse(Files.exists(sandbox.home().resolve("bad")));
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                remote.runJob(
                    new JobRequest(
                        "reindex", host, newId("regex"), "true", "indexed \\d+", POLL, false)));
    assertEquals("InvalidInput", f.getType());
  }

  @Test
  void aDryRunSaysWhatWouldRunAndRunsNothing(@TempDir Path tmp) throws IOException {
    // Nothing listens on port 1: a rehearsal that connected would fail.
    HostRef nowhere =
        new HostRef(
            "nowhere",
            "127.0.0.1",
            1,
            "x",
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.knownHostsFor(tmp, 1).toString());
    String id = newId("dry");
    JobResult r =
        remote.runJob(
            new JobRequest("reindex", nowhere, id, "python -m reindex", PROGRESS, POLL, true));
    assertTrue(r.rehearsed());
    assertTrue(r.outputTail().contains("python -m reindex"), r.outputTail());
    assertTrue(r.outputTail().contains(id), r.outputTail());
    assertFalse(Files.exists(jobDir(id)));
  }
}
