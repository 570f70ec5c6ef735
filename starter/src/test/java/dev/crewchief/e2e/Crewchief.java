package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The {@code crewchief} CLI, run as its own process against one Temporal server and config. */
final class Crewchief {
  record Result(int exit, String out) {}

  private final String config;
  private final Map<String, String> env = new HashMap<>();

  Crewchief(String config, String temporalAddress) {
    this.config = config;
    if (temporalAddress != null) {
      env.put("TEMPORAL_ADDRESS", temporalAddress);
    }
    env.put("CREWCHIEF_LOG_LEVEL", "WARN");
  }

  Map<String, String> env() {
    return env;
  }

  /**
   * Runs the CLI to its end, at most 10 minutes: one that has not ended by then is killed and the
   * test fails with what it printed (its output is read on a thread of its own, so a CLI that never
   * closes its output cannot hang the test past the limit).
   */
  Result run(String... args) throws Exception {
    Process p = start(args);
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    Thread reader =
        new Thread(
            () -> {
              try (InputStream in = p.getInputStream()) {
                in.transferTo(buffer);
              } catch (IOException e) {
                // the process was killed
              }
            },
            "cli-output");
    reader.setDaemon(true);
    reader.start();
    boolean ended = p.waitFor(10, TimeUnit.MINUTES);
    if (!ended) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    reader.join(10_000);
    String out;
    synchronized (buffer) {
      out = buffer.toString(StandardCharsets.UTF_8);
    }
    assertTrue(
        ended, "the CLI did not end within 10 minutes: " + String.join(" ", args) + "\n" + out);
    System.out.println(
        "$ crewchief " + String.join(" ", args) + "\n" + out + "(exit " + p.exitValue() + ")");
    return new Result(p.exitValue(), out);
  }

  /** Starts the CLI and returns the process, its output (stdout and stderr) to be read. */
  Process start(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Packaged.java(),
                "-cp",
                Packaged.classpath(),
                "dev.crewchief.cli.CrewChiefCli",
                "--config",
                config));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("TEMPORAL_ADDRESS");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Polls {@code crewchief status} until its output contains the text. */
  void awaitStatus(String release, String text, int seconds) throws Exception {
    String last = "";
    for (int i = 0; i < seconds; i++) {
      last = run("status", release).out();
      if (last.contains(text)) {
        return;
      }
      Thread.sleep(1000);
    }
    throw new AssertionError("status of " + release + " never showed '" + text + "':\n" + last);
  }
}
