package dev.crewchief.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code crewchief-worker} as a separate JVM. Killed with SIGKILL to test durability: nothing in it
 * gets to run on the way out, as when a machine loses power.
 */
final class WorkerProcess implements AutoCloseable {
  private final String config;
  private final Map<String, String> env;
  final Path log;
  private Process process;
  private int starts;

  WorkerProcess(String config, Map<String, String> env) throws IOException {
    this.config = config;
    this.env = env;
    this.log = Files.createTempFile("crewchief-worker", ".log");
  }

  synchronized void start() throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(
                Packaged.java(),
                "-cp",
                Packaged.classpath(),
                "dev.crewchief.worker.WorkerMain",
                "--config",
                config)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    Files.writeString(
        log, "---- worker start " + ++starts + "\n", java.nio.file.StandardOpenOption.APPEND);
    process = pb.start();
  }

  /** SIGKILL, then wait until the process is gone. */
  synchronized void kill() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Waits for the worker to end by itself; its exit code. */
  int awaitExit(int seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new AssertionError("the worker did not exit within " + seconds + " s:\n" + logText());
    }
    return process.exitValue();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no worker log: " + e.getMessage() + ")";
    }
  }

  /** SIGTERM: the worker finishes the tasks in hand and exits. */
  @Override
  public synchronized void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(40, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
