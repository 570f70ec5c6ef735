package dev.crewchief.adapters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL 15 from deploy/sandbox/postgres.sh: user {@code atmo_app} with a password
 * (scram over TCP on 127.0.0.1), databases {@code atmo_prod} and {@code troposphere} with a few
 * tables and rows. Started once per test JVM, stopped (fast shutdown) when the JVM exits.
 */
public final class PostgresServer {
  private static PostgresServer instance;

  public final Path dir;
  public final Map<String, String> env;

  private PostgresServer(Path dir, Map<String, String> env) {
    this.dir = dir;
    this.env = env;
  }

  public static synchronized PostgresServer get() {
    if (instance == null) {
      instance = start();
    }
    return instance;
  }

  private static PostgresServer start() {
    try {
      // The script hands this directory to the postgres user (server tools refuse root).
      Path dir = Files.createTempDirectory("crewchief-postgres-");
      String script = Sandbox.repoRoot().resolve("deploy/sandbox/postgres.sh").toString();
      exec(Map.of(), script, "up", dir.toString());
      Map<String, String> env = new HashMap<>();
      for (String line : Files.readAllLines(dir.resolve("postgres.env"))) {
        int eq = line.indexOf('=');
        if (eq > 0 && !line.startsWith("#")) {
          env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
      }
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      exec(Map.of(), script, "down", dir.toString());
                      // The script keeps the log and env for a sandbox; a test JVM leaves nothing.
                      exec(Map.of(), "rm", "-rf", dir.toString());
                    } catch (RuntimeException e) {
                      System.err.println("postgres down failed: " + e.getMessage());
                    }
                  }));
      return new PostgresServer(dir, env);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public int port() {
    return Integer.parseInt(env.get("PG_PORT"));
  }

  public String user() {
    return env.get("PG_USER");
  }

  public Path passwordFile() {
    return Path.of(env.get("PG_PASSWORD_FILE"));
  }

  public String password() {
    try {
      return Files.readString(passwordFile()).strip();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The absolute path of a PostgreSQL 15 tool ({@code pg_dump}, {@code psql}, ...). */
  public String bin(String tool) {
    return env.get("PG_BIN") + "/" + tool;
  }

  /**
   * Runs a client tool as {@code atmo_app} over TCP: {@code tool -h 127.0.0.1 -p PORT -U atmo_app
   * ARGS}.
   */
  public String client(String tool, String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(bin(tool), "-h", "127.0.0.1", "-p", String.valueOf(port()), "-U", user()));
    cmd.addAll(List.of(args));
    return exec(Map.of("PGPASSWORD", password()), cmd.toArray(String[]::new));
  }

  /** One query's result as unaligned text, as {@code atmo_app}. */
  public String query(String database, String sql) {
    return client(
            "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql)
        .strip();
  }

  /** Runs a command, returning its output; fails on a non-zero exit. */
  public static String exec(Map<String, String> env, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
