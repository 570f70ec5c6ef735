package dev.crewchief.adapters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The sandbox host of deploy/sandbox: a real sshd on loopback with its own host key, a key-only
 * user, nginx run by that user, supervisor and python3. Started once per test JVM by running the
 * sandbox script, and stopped when the JVM exits.
 */
public final class Sandbox {
  private static final Map<String, Sandbox> instances = new HashMap<>();

  public final Path dir;
  public final Map<String, String> env;

  private Sandbox(Path dir, Map<String, String> env) {
    this.dir = dir;
    this.env = env;
  }

  /** The shared sandbox of this test JVM (user {@code ccsandbox}). */
  public static Sandbox get() {
    return get("ccsandbox");
  }

  /**
   * A sandbox host of its own, run by another local user and named as an environment after it, for
   * tests that must not share state (releases, production domain, the one-release-at-a-time rule)
   * with the others.
   */
  public static synchronized Sandbox get(String user) {
    return instances.computeIfAbsent(user, Sandbox::start);
  }

  /** The environment name of this sandbox in its crewchief.yaml. */
  public String environment() {
    return env.get("SANDBOX_ENV");
  }

  public static Path repoRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("deploy/sandbox/sandbox.sh"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException(
          "deploy/sandbox/sandbox.sh not found above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  private static Sandbox start(String user) {
    try {
      Path dir = Files.createTempDirectory("crewchief-sandbox-");
      Path script = repoRoot().resolve("deploy/sandbox/sandbox.sh");
      run(
          Map.of("SANDBOX_USER", user, "SANDBOX_ENV", user.equals("ccsandbox") ? "sandbox" : user),
          script.toString(),
          "up",
          dir.toString());
      Map<String, String> env = new HashMap<>();
      for (String line : Files.readAllLines(dir.resolve("sandbox.env"))) {
        int eq = line.indexOf('=');
        if (eq > 0 && !line.startsWith("#")) {
          env.put(
              line.substring(0, eq).replace("export ", "").trim(),
              line.substring(eq + 1).replace("\"", "").replace("'", "").trim());
        }
      }
      Sandbox s = new Sandbox(dir, env);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      run(Map.of("SANDBOX_USER", user), script.toString(), "down", dir.toString());
                    } catch (RuntimeException e) {
                      System.err.println("sandbox down failed: " + e.getMessage());
                    }
                  }));
      return s;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static void run(String... cmd) {
    run(Map.of(), cmd);
  }

  static void run(Map<String, String> env, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Runs a command on this machine as the sandbox's user (the owner of what runs on the host). */
  public void runAs(String... cmd) {
    List<String> full = new ArrayList<>(List.of("runuser", "-u", user(), "--"));
    full.addAll(List.of(cmd));
    run(full.toArray(String[]::new));
  }

  /**
   * A known_hosts file in {@code dir} listing this sandbox's host key for 127.0.0.1 on another
   * port: what a rehearsal against a host nothing listens on needs to pass its checks.
   */
  public Path knownHostsFor(Path dir, int port) throws java.io.IOException {
    String line = Files.readAllLines(this.dir.resolve("known_hosts")).get(0);
    String key = line.substring(line.indexOf(' ') + 1);
    return Files.writeString(dir.resolve("known_hosts-" + port), "[127.0.0.1]:" + port + " " + key);
  }

  public int sshPort() {
    return Integer.parseInt(env.get("SSH_PORT"));
  }

  public int nginxPort() {
    return Integer.parseInt(env.get("NGINX_PORT"));
  }

  public String user() {
    return env.get("SANDBOX_USER");
  }

  public Path home() {
    return dir.resolve("home");
  }

  /**
   * Every command sshd ran on the sandbox host so far, in order (from the login shell's record in
   * commands.log); SFTP transfers run no command and are not listed.
   */
  public List<String> commandsRun() {
    try {
      List<String> out = new ArrayList<>();
      for (String line : Files.readAllLines(dir.resolve("commands.log"))) {
        int sp = line.indexOf(' ');
        if (sp > 0) {
          out.add(
              new String(
                  Base64.getDecoder().decode(line.substring(sp + 1).trim()),
                  StandardCharsets.UTF_8));
        }
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
