package dev.crewchief.adapters.aws;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * moto's server (PyPI {@code moto[server]}, installed by deploy/test.sh into {@code
 * $CREWCHIEF_TOOLS}, default /opt/crewchief/tools): AWS's APIs on 127.0.0.1 and a free port,
 * started once per test JVM on first use and killed when the JVM exits. Any region, any
 * credentials; all tests of a JVM share its state, so each makes resources of its own.
 *
 * <p>Public for the end-to-end tests of the starter module, which point a worker at {@link
 * #endpoint()}.
 */
public final class MotoServer {
  /** The region the tests use. */
  public static final String REGION = "us-east-1";

  /** Credentials moto accepts (it accepts any); not secrets. */
  public static final String ACCESS_KEY = "AKIAMOTOTESTING00001";

  public static final String SECRET_KEY = "moto-testing-secret-access-key";

  private static final Duration START_LIMIT = Duration.ofSeconds(60);
  private static String endpoint;

  private MotoServer() {}

  /** The server's URL, {@code http://127.0.0.1:PORT}, starting it on first call. */
  public static synchronized String endpoint() {
    if (endpoint == null) {
      endpoint = start();
    }
    return endpoint;
  }

  private static String start() {
    Path bin =
        Path.of(System.getenv().getOrDefault("CREWCHIEF_TOOLS", "/opt/crewchief/tools"))
            .resolve("bin/moto_server");
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(
          bin + " is missing: deploy/test.sh installs moto[server] from PyPI into the tools venv");
    }
    IllegalStateException last = null;
    // A free port found here may be taken by someone else before moto binds it: try again then.
    for (int attempt = 0; attempt < 3; attempt++) {
      try {
        return startOn(bin, freePort());
      } catch (IllegalStateException e) {
        last = e;
      }
    }
    throw last;
  }

  private static String startOn(Path bin, int port) {
    Path logFile;
    Process p;
    try {
      logFile = Files.createTempFile("moto-server-", ".log");
      p =
          new ProcessBuilder(bin.toString(), "-H", "127.0.0.1", "-p", String.valueOf(port))
              .redirectErrorStream(true)
              .redirectOutput(logFile.toFile())
              .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + bin, e);
    }
    Process server = p;
    Path log = logFile;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.destroy();
                  try {
                    if (!server.waitFor(5, TimeUnit.SECONDS)) {
                      server.destroyForcibly();
                    }
                    Files.deleteIfExists(log);
                  } catch (InterruptedException | IOException e) {
                    server.destroyForcibly();
                  }
                }));
    String url = "http://127.0.0.1:" + port;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest ping =
        HttpRequest.newBuilder(URI.create(url + "/moto-api/data.json"))
            .timeout(Duration.ofSeconds(5))
            .build();
    Instant deadline = Instant.now().plus(START_LIMIT);
    while (Instant.now().isBefore(deadline)) {
      if (!p.isAlive()) {
        throw new IllegalStateException("moto_server exited " + p.exitValue() + ":\n" + tail(log));
      }
      try {
        if (http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return url;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      try {
        // Polls for the condition (it answers) with a deadline; this only paces the polls.
        p.waitFor(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException(
        "moto_server did not answer on " + url + " within " + START_LIMIT + ":\n" + tail(log));
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String tail(Path log) {
    try {
      String s = Files.readString(log, StandardCharsets.UTF_8);
      return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
