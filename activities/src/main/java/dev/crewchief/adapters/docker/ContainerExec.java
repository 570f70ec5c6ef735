package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.ComposeLabels.number;
import static dev.crewchief.adapters.docker.ComposeLabels.requireContainers;
import static dev.crewchief.adapters.docker.ComposeLabels.requireService;
import static dev.crewchief.adapters.docker.Containers.name;
import static dev.crewchief.adapters.docker.Containers.running;
import static dev.crewchief.adapters.docker.Containers.tail;
import static dev.crewchief.adapters.docker.DockerFailures.guard;
import static dev.crewchief.adapters.docker.DockerFailures.invalid;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.ExecRequest;
import dev.crewchief.activities.ServiceRef;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.release.Shell;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Docker.exec}: a command run in a running container of a service through the engine's exec
 * API, its output collected while the activity heartbeats (a migration may run for minutes), its
 * exit code read once the engine has recorded it. A non-zero exit is a non-retryable {@code
 * ContainerExecFailed} unless the step allows failure; a command still running after ten minutes is
 * a retryable one.
 */
final class ContainerExec {
  private static final Logger log = LoggerFactory.getLogger(ContainerExec.class);

  private static final Duration EXEC_TIMEOUT = Duration.ofMinutes(10);

  private final DockerEngines engines;

  ContainerExec(DockerEngines engines) {
    this.engines = engines;
  }

  ExecOutcome exec(ExecRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.command() == null
        || r.command().isEmpty()
        || r.command().stream().allMatch(a -> a == null || a.isBlank())) {
      throw invalid("no command given for step '" + r.step() + "': configure the command to run");
    }
    if (r.number() < 0) {
      throw invalid("container number " + r.number() + " of " + s.describe() + " is negative");
    }
    String cmd = r.command().stream().map(Shell::q).collect(Collectors.joining(" "));
    String which =
        r.number() == 0
            ? "the lowest-numbered running container of " + s.describe()
            : "container number " + r.number() + " of " + s.describe();
    if (r.dryRun()) {
      return new ExecOutcome("in " + which + ": " + cmd, true, null, 0, "");
    }
    DockerClient c = engines.engine(s.engine()).client();
    return guard(
        s,
        s.engine(),
        () -> {
          List<InspectContainerResponse> all = requireContainers(c, s);
          InspectContainerResponse target =
              all.stream()
                  .filter(x -> running(x) && (r.number() == 0 || number(x) == r.number()))
                  .findFirst()
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newNonRetryableFailure(
                              "no running "
                                  + (r.number() == 0 ? "container" : "container " + r.number())
                                  + " of "
                                  + s.describe()
                                  + " to run the command in; its containers: "
                                  + ComposeLabels.summary(all),
                              "ServiceNotFound"));
          String action = "in " + name(target) + " (" + s.describe() + "): " + cmd;
          log.info("step '{}' {}", r.step(), action);
          Exec e = run(c, target.getId(), r.command());
          if (e.exitCode != 0 && !r.allowFailure()) {
            throw ApplicationFailure.newNonRetryableFailure(
                "command exited with " + e.exitCode + " " + action + ": " + tail(e.output, 1500),
                "ContainerExecFailed");
          }
          return new ExecOutcome(action, false, name(target), e.exitCode, tail(e.output, 8000));
        });
  }

  private record Exec(int exitCode, String output) {}

  /** Runs a command through the engine's exec API, heartbeating until it ends. */
  private Exec run(DockerClient c, String containerId, List<String> command) {
    String execId =
        c.execCreateCmd(containerId)
            .withCmd(command.toArray(String[]::new))
            .withAttachStdout(true)
            .withAttachStderr(true)
            .exec()
            .getId();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Streaming<Frame> frames =
        new Streaming<>() {
          @Override
          public void onNext(Frame f) {
            byte[] p = f.getPayload();
            if (p != null) {
              synchronized (this) {
                (f.getStreamType() == StreamType.STDERR ? err : out).write(p, 0, p.length);
              }
            }
          }
        };
    c.execStartCmd(execId).exec(frames);
    long deadline = System.nanoTime() + EXEC_TIMEOUT.toNanos();
    try {
      while (!frames.awaitEnd(Duration.ofSeconds(2))) {
        ActivityIo.heartbeat("running " + String.join(" ", command));
        if (System.nanoTime() > deadline) {
          closeQuietly(frames);
          throw ApplicationFailure.newFailure(
              "command did not finish within " + EXEC_TIMEOUT + ": " + String.join(" ", command),
              "ContainerExecFailed");
        }
      }
      frames.awaitCompletion();
      // The output ends before the engine records the exit code (podman in particular): poll the
      // exec briefly until it no longer runs.
      InspectExecResponse ex = c.inspectExecCmd(execId).exec();
      for (int i = 0; i < 100 && Boolean.TRUE.equals(ex.isRunning()); i++) {
        Thread.sleep(50);
        ex = c.inspectExecCmd(execId).exec();
      }
      Long code = ex.getExitCodeLong();
      if (Boolean.TRUE.equals(ex.isRunning()) || code == null) {
        throw ApplicationFailure.newFailure(
            "command ended its output but no exit code was recorded: " + String.join(" ", command),
            "DockerEngineError");
      }
      String output;
      synchronized (frames) {
        output = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
      }
      return new Exec(code.intValue(), output);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure(
          "interrupted while running a command", "DockerEngineError");
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      log.debug("closing a stream: {}", e.getMessage());
    }
  }
}
