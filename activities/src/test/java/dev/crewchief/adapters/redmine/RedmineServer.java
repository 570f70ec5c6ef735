package dev.crewchief.adapters.redmine;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's Redmine (packages redmine and redmine-sqlite, installed by deploy/test.sh), started once
 * per test JVM on a copy of the database the package created, seeded by {@code redmine/seed.rb}
 * (REST API on, a "Release Ready" status, a private project "encode") and served by WEBrick on a
 * free loopback port. Debian's Gemfile has no web server, so a Gemfile of our own adds WEBrick
 * (ruby-webrick, a dependency of the package) to it.
 */
final class RedmineServer {
  static final Path HOME = Path.of("/usr/share/redmine");
  static final Path TEMPLATE_DB =
      Path.of("/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default");

  private static RedmineServer shared;

  final String url;
  final String apiKey;
  private final Process process;

  private RedmineServer(String url, String apiKey, Process process) {
    this.url = url;
    this.apiKey = apiKey;
    this.process = process;
  }

  static synchronized RedmineServer get() throws Exception {
    if (shared == null) {
      shared = start();
    }
    return shared;
  }

  private static RedmineServer start() throws Exception {
    if (!Files.isReadable(TEMPLATE_DB)) {
      throw new IllegalStateException(
          "Redmine is not installed: run deploy/test.sh (apt-get install redmine redmine-sqlite)");
    }
    Path dir = Files.createTempDirectory("redmine-test");
    Path db = dir.resolve("redmine.db");
    Files.copy(TEMPLATE_DB, db, StandardCopyOption.REPLACE_EXISTING);
    Path gemfile = dir.resolve("Gemfile");
    Files.writeString(gemfile, "eval_gemfile '" + HOME.resolve("Gemfile") + "'\ngem 'webrick'\n");
    Path seed = dir.resolve("seed.rb");
    try (InputStream in = RedmineServer.class.getResourceAsStream("/redmine/seed.rb")) {
      Files.copy(in, seed);
    }

    Process runner = rails(dir, db, gemfile, List.of("bin/rails", "runner", seed.toString()));
    String out = new String(runner.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!runner.waitFor(3, TimeUnit.MINUTES) || runner.exitValue() != 0) {
      throw new IllegalStateException("seeding Redmine failed:\n" + out);
    }
    Matcher m = Pattern.compile("API_KEY=(\\w+)").matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("seed printed no API key:\n" + out);
    }
    String key = m.group(1);

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process server =
        rails(
            dir,
            db,
            gemfile,
            List.of(
                "bin/rails",
                "server",
                "-u",
                "webrick",
                "-b",
                "127.0.0.1",
                "-p",
                String.valueOf(port),
                "-P",
                dir.resolve("server.pid").toString()));
    // Its log goes to a file; a pipe nobody reads would block it.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.destroy();
                  try {
                    server.waitFor(10, TimeUnit.SECONDS);
                    try (var files = Files.walk(dir)) {
                      files
                          .sorted(java.util.Comparator.reverseOrder())
                          .forEach(p -> p.toFile().delete());
                    }
                  } catch (IOException | InterruptedException e) {
                    // a temporary directory left behind
                  }
                }));
    String url = "http://127.0.0.1:" + port;
    awaitUp(url, key, server, dir.resolve("server.log"));
    return new RedmineServer(url, key, server);
  }

  private static Process rails(Path dir, Path db, Path gemfile, List<String> command)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(HOME.toFile());
    pb.environment().put("RAILS_ENV", "production");
    pb.environment().put("DATABASE_URL", "sqlite3:" + db);
    pb.environment().put("BUNDLE_GEMFILE", gemfile.toString());
    if (command.contains("server")) {
      pb.redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
    } else {
      pb.redirectErrorStream(true);
    }
    return pb.start();
  }

  private static void awaitUp(String url, String key, Process server, Path log) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException("Redmine exited:\n" + Files.readString(log));
      }
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url + "/users/current.json"))
                    .header("X-Redmine-API-Key", key)
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    server.destroy();
    throw new IllegalStateException(
        "Redmine did not answer within 2 minutes:\n" + Files.readString(log));
  }

  boolean alive() {
    return process.isAlive();
  }
}
