package dev.crewchief.adapters.git;

import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the git command-line tool in a clone.
 *
 * <p>Why the git CLI and not JGit: the clones this adapter works on are the ones people also use by
 * hand on the same machine, so the worker should see exactly what {@code git} shows them, with the
 * same configuration, hooks, credential helpers and SSH setup; git is already installed wherever a
 * clone is; and JGit would add a library (and its SSH stack) to the activities module for a handful
 * of commands.
 *
 * <p>Every command runs with {@code GIT_TERMINAL_PROMPT=0} and stdin from {@code /dev/null}, so a
 * missing credential fails instead of waiting for a person; with {@code LC_ALL=C}, so the messages
 * classified here are English; and with a timeout, heartbeating while it waits. SSH options (such
 * as {@code BatchMode}) are left to the worker's configuration: overriding {@code GIT_SSH_COMMAND}
 * here would silently replace a clone's {@code core.sshCommand}.
 */
public final class GitCli {
  private static final Logger log = LoggerFactory.getLogger(GitCli.class);
  private static final long HEARTBEAT_MILLIS = 2_000;

  private final String executable;
  private final Duration localTimeout;
  private final Duration networkTimeout;

  /** {@code git} from the PATH; two minutes for local commands, five for fetch and push. */
  public GitCli() {
    this("git", Duration.ofMinutes(2), Duration.ofMinutes(5));
  }

  public GitCli(String executable, Duration localTimeout, Duration networkTimeout) {
    this.executable = executable;
    this.localTimeout = localTimeout;
    this.networkTimeout = networkTimeout;
  }

  /** What one git command did; exit -1 when it did not finish in time. */
  public record Result(int exit, String stdout, String stderr) {
    public boolean ok() {
      return exit == 0;
    }

    /** The end of what the command printed, for messages. */
    public String why() {
      String t = (stderr.isBlank() ? stdout : stderr).strip();
      return t.length() > 1500 ? "..." + t.substring(t.length() - 1500) : t;
    }
  }

  /** Runs a local command; the caller reads the exit status. */
  public Result run(Path dir, Map<String, String> env, String... args) {
    Result r = exec(dir, env, localTimeout, args);
    if (r.exit() == -1) {
      throw ApplicationFailure.newFailure(
          "git " + String.join(" ", args) + " in " + dir + " " + r.stderr(), "GitCommandFailed");
    }
    return r;
  }

  /** Runs a local command that must succeed and returns its stdout, stripped. */
  public String checked(Path dir, String... args) {
    Result r = run(dir, Map.of(), args);
    if (!r.ok()) {
      throw failed(dir, r, args);
    }
    return r.stdout().strip();
  }

  /**
   * Runs a command that talks to {@code remote}. Failing to reach it becomes a retryable {@code
   * GitRemoteUnreachable}, a refused credential a non-retryable {@code GitAuthFailed}; any other
   * result (a rejected push, say) is returned for the caller to read.
   */
  public Result remote(Path dir, String remote, String... args) {
    Result r = exec(dir, Map.of(), networkTimeout, args);
    if (r.ok()) {
      return r;
    }
    String s = r.stderr().toLowerCase(Locale.ROOT);
    if (s.contains("permission denied")
        || s.contains("authentication failed")
        || s.contains("could not read username")
        || s.contains("could not read password")
        || s.contains("terminal prompts disabled")
        || s.contains("host key verification failed")
        || s.contains("invalid username or password")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "git could not authenticate to "
              + remote
              + ": "
              + r.why()
              + " (give the worker's user access to the remote: an SSH key or a credential"
              + " helper)",
          "GitAuthFailed");
    }
    if (r.exit() == -1
        || s.contains("could not read from remote")
        || s.contains("unable to access")
        || s.contains("could not resolve")
        || s.contains("connection refused")
        || s.contains("connection timed out")
        || s.contains("connection reset")
        || s.contains("network is unreachable")
        || s.contains("no route to host")
        || s.contains("does not appear to be a git repository")
        || s.contains("repository not found")
        || s.contains("the remote end hung up")
        || s.contains("early eof")) {
      throw ApplicationFailure.newFailure(
          "cannot reach git remote " + remote + " from " + dir + ": " + r.why(),
          "GitRemoteUnreachable");
    }
    return r;
  }

  static ApplicationFailure failed(Path dir, Result r, String... args) {
    return ApplicationFailure.newFailure(
        "git "
            + String.join(" ", args)
            + " failed in "
            + dir
            + " (exit "
            + r.exit()
            + "): "
            + r.why(),
        "GitCommandFailed");
  }

  private Result exec(Path dir, Map<String, String> env, Duration timeout, String... args) {
    List<String> command = new ArrayList<>();
    command.add(executable);
    command.add("-C");
    command.add(dir.toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.environment().put("GIT_TERMINAL_PROMPT", "0");
    pb.environment().put("LC_ALL", "C");
    pb.environment().remove("LANGUAGE");
    // A status that takes no index lock, so it never competes with a person's git in the clone.
    pb.environment().put("GIT_OPTIONAL_LOCKS", "0");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    log.debug("git {} in {}", args, dir);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "cannot run "
              + executable
              + " on this worker ("
              + e.getMessage()
              + "): install git or configure its path",
          "GitMissing");
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread outReader = ActivityIo.drain(p.getInputStream(), out, "git-stdout");
      Thread errReader = ActivityIo.drain(p.getErrorStream(), err, "git-stderr");
      long deadline = System.nanoTime() + timeout.toNanos();
      // Heartbeating while git runs lets a cancelled or timed-out activity stop it (the heartbeat
      // throws and the finally block kills the process), and a fetch over a slow link is not
      // mistaken for a dead worker.
      while (!p.waitFor(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          return new Result(
              -1, out.toString(StandardCharsets.UTF_8), "did not finish within " + timeout);
        }
        ActivityIo.heartbeat("git " + (args.length > 0 ? args[0] : "") + " in " + dir);
      }
      outReader.join(5_000);
      errReader.join(5_000);
      return new Result(
          p.exitValue(),
          out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while running git", "GitCommandFailed");
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }
}
