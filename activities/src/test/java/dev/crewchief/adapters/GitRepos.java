package dev.crewchief.adapters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * git for the tests' own setup and checks of real repositories. Nothing touches the machine's
 * global git configuration: repositories carry their own identity.
 */
public final class GitRepos {
  private GitRepos() {}

  /** The repository's own identity: set in its config, never in the global one. */
  public static void identify(Path repo) {
    git(repo, "config", "user.name", "Test Dev");
    git(repo, "config", "user.email", "dev@example.test");
  }

  /** Runs git for the test's own setup and checks, and returns its stdout, stripped. */
  public static String git(Path dir, String... args) {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      // Independent of whatever the machine's user has configured globally.
      pb.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
      pb.environment().put("GIT_TERMINAL_PROMPT", "0");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
      }
      return out.strip();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
