package dev.crewchief.cli;

import dev.crewchief.worker.ConfigLoader;
import dev.crewchief.worker.EmbeddedRuntime;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The training run of the CLI's class-data-sharing archive (deploy/bin/crewchief runs it with
 * -XX:ArchiveClassesAtExit once after each build): the commands people run most, in one JVM,
 * against an embedded server and worker of its own on a free loopback port, so that the archive
 * holds what status, list, approve, report and start load whichever command comes first. A
 * rehearsed staging deploy of the demo config gives them a release to act on (it fails at its first
 * host step, since the demo's SSH key variable is unset: that is a release too). Its output is of
 * no use to anyone and goes nowhere.
 *
 * <p>Usage: {@code CdsTraining ROOT} (the tree: deploy/examples/randopony-demo.yaml is its config,
 * deploy/sandbox/randopony-tetra its source, as for deploy/demo.sh).
 */
public final class CdsTraining {
  private CdsTraining() {}

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args[0]).toAbsolutePath().normalize();
    Path config = root.resolve("deploy/examples/randopony-demo.yaml");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Map<String, String> env = new HashMap<>();
    env.put("CREWCHIEF_CONFIG", config.toString());
    env.put("TEMPORAL_ADDRESS", "127.0.0.1:" + port);
    env.put(
        "CREWCHIEF__environments__demo__randopony__sourceDir",
        root.resolve("deploy/sandbox/randopony-tetra").toString());
    String id = "release-randopony-staging-demo-2014r1";
    try (EmbeddedRuntime.Handle runtime =
        EmbeddedRuntime.start(
            port, "default", new ConfigLoader(env).load(config), Map.copyOf(env))) {
      for (List<String> line :
          List.of(
              List.of("--help"),
              List.of("start", "randopony-promote", "--help"),
              List.of("list"),
              List.of(
                  "start",
                  "randopony-staging",
                  "--env",
                  "demo",
                  "--version",
                  "2014r1",
                  "--dry-run"),
              List.of("status", id),
              List.of("watch", id),
              List.of("list", "--runbook", "randopony-staging"),
              List.of("approve", id, "confirm-release", "--as", "alice"),
              List.of("report", id),
              List.of("status", "release-randopony-staging-demo-2099r1"))) {
        try {
          CrewChiefCli.run(line.toArray(String[]::new), env);
        } catch (RuntimeException e) {
          // A command that fails still loaded its classes.
        }
      }
    }
    System.exit(0);
  }
}
