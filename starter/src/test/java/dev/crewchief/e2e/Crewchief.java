package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

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

  Result run(String... args) throws Exception {
    Process p = start(args);
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "CLI timed out: " + String.join(" ", args));
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
