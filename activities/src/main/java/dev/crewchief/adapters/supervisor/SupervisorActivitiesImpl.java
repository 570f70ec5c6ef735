package dev.crewchief.adapters.supervisor;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.SupervisorActivities;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.ssh.ExecResult;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.adapters.ssh.ToolMissing;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SupervisorActivities} over SSH: the runbook's "Manage services with Supervisor" (status;
 * restart what is not RUNNING; the log's tail when it will not stay running) as one step.
 */
public final class SupervisorActivitiesImpl implements SupervisorActivities {
  private static final Logger log = LoggerFactory.getLogger(SupervisorActivitiesImpl.class);
  private static final Duration STATUS_TIMEOUT = Duration.ofMinutes(1);

  /** A restart waits for the program's startsecs (or its failure): minutes at most. */
  private static final Duration RESTART_TIMEOUT = Duration.ofMinutes(5);

  /** States supervisord leaves only on a command: waiting for them to change is pointless. */
  private static final Set<String> TERMINAL = Set.of("FATAL", "STOPPED");

  private static final Duration DEFAULT_SETTLE = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final int DEFAULT_TAIL = 4000;
  private static final int MAX_TAIL = 64 * 1024;

  /** The states {@code supervisorctl status} prints (supervisor's ProcessStates). */
  private static final Pattern LINE =
      Pattern.compile(
          "^(\\S+)\\s+(STOPPED|STARTING|RUNNING|BACKOFF|STOPPING|EXITED|FATAL|UNKNOWN)\\b\\s*(.*)$");

  /** Program (and group:program) names as supervisor's config allows them, shell-safe. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@+-]+(:[A-Za-z0-9._@+*-]+)?");

  private final SshHosts ssh;

  public SupervisorActivitiesImpl(SshHosts ssh) {
    this.ssh = ssh;
  }

  /**
   * The heartbeat details: a {@link dev.crewchief.activities.Progress}'s fields (what {@code
   * crewchief status} shows) and the programs restarted so far, so that a retried attempt does not
   * restart them a second time.
   */
  public record Restarting(
      long done, long total, String unit, String message, List<String> restarted) {}

  @Override
  public ProgramsResult checkPrograms(ProgramsRequest r) {
    HostRef host = r.host();
    if (host == null || host.address() == null || host.user() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no host given for step " + r.step() + ": configure the host's address and user",
          "InvalidInput");
    }
    List<String> wanted = r.programs() == null ? List.of() : r.programs();
    for (String p : wanted) {
      if (p == null || !NAME.matcher(p).matches()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "'" + p + "' in step " + r.step() + " is not a supervisor program name",
            "InvalidInput");
      }
    }
    String ctl =
        r.supervisorctl() == null || r.supervisorctl().isBlank()
            ? "supervisorctl"
            : r.supervisorctl().strip();
    Duration settle =
        r.settle() == null || r.settle().isNegative() || r.settle().isZero()
            ? DEFAULT_SETTLE
            : r.settle();
    int tailBytes = r.tailBytes() <= 0 ? DEFAULT_TAIL : Math.min(r.tailBytes(), MAX_TAIL);

    // Read before this attempt's first heartbeat: after it, the details are this attempt's own.
    List<String> earlier = r.dryRun() ? List.of() : earlierRestarts();
    SshHosts.Connection c = ssh.lease(host);
    try {
      Check check = new Check(c, host, ctl);
      List<ProgramState> before = check.status(beat(0, 0, "reading supervisorctl status", null));
      List<ProgramState> targets = new ArrayList<>();
      List<String> unknown = new ArrayList<>();
      if (wanted.isEmpty()) {
        targets.addAll(before);
      } else {
        for (String p : wanted) {
          List<ProgramState> found = matching(before, p);
          if (found.isEmpty()) {
            unknown.add(p);
          }
          found.stream().filter(s -> !targets.contains(s)).forEach(targets::add);
        }
      }
      if (!unknown.isEmpty()) {
        // A program supervisord does not know cannot be restarted: the config is at fault. A
        // rehearsal says so too, since the real run would fail here.
        throw ApplicationFailure.newNonRetryableFailure(
            (r.dryRun() ? "(rehearsal) " : "")
                + "supervisord on "
                + host.describe()
                + " has no program "
                + String.join(", ", unknown)
                + " (no such process; it runs "
                + (before.isEmpty()
                    ? "none"
                    : String.join(", ", before.stream().map(ProgramState::name).toList()))
                + "): fix the program names of step "
                + r.step()
                + ", or supervisord's config (then supervisorctl reread and update)",
            "ProgramDown");
      }
      List<String> down =
          targets.stream().filter(s -> !running(s)).map(ProgramState::name).toList();
      if (down.isEmpty()) {
        return new ProgramsResult(before, List.of(), before, r.dryRun());
      }
      if (r.dryRun()) {
        return new ProgramsResult(before, down, before, true);
      }
      Set<String> restarted = new LinkedHashSet<>(earlier);
      for (String name : down) {
        if (restarted.contains(name)) {
          // An earlier attempt of this step restarted it: once is what the runbook does.
          log.info("{} on {} was restarted by an earlier attempt", name, host.describe());
          continue;
        }
        Restarting beat =
            beat(
                restarted.size(),
                down.size(),
                "restarting " + name + " (" + state(before, name) + ")",
                restarted);
        log.info(
            "step '{}': {} on {} is {}: restarting it",
            r.step(),
            name,
            host.describe(),
            state(before, name));
        ExecResult res = check.run(ctl + " restart " + q(name), RESTART_TIMEOUT, beat);
        // A restart that fails to start the program exits non-zero (7, spawn error): its state
        // is what counts, and is read below.
        log.info("{} restart {}: {}", ctl, name, res.stdout().strip());
        restarted.add(name);
        ActivityIo.heartbeat(beat(restarted.size(), down.size(), "restarted " + name, restarted));
      }
      List<ProgramState> after = settle(check, down, restarted, settle);
      List<ProgramState> stillDown = new ArrayList<>();
      for (ProgramState t : targets) {
        ProgramState now = find(after, t.name());
        if (now == null || !running(now)) {
          stillDown.add(now == null ? new ProgramState(t.name(), "GONE", "") : now);
        }
      }
      if (!stillDown.isEmpty()) {
        throw programDown(check, host, r, stillDown, restarted, settle, tailBytes);
      }
      return new ProgramsResult(before, List.copyOf(restarted), after, false);
    } finally {
      c.close();
    }
  }

  /**
   * Reads the status until each restarted program is RUNNING or in a state supervisord does not
   * leave by itself (FATAL: it gave up; STOPPED; gone from its config), or {@code settle} has
   * passed: waiting longer changes nothing for those.
   */
  private static List<ProgramState> settle(
      Check check, List<String> down, Set<String> restarted, Duration settle) {
    long deadline = System.nanoTime() + settle.toNanos();
    while (true) {
      List<String> waiting = new ArrayList<>();
      List<ProgramState> now =
          check.status(beat(0, down.size(), "waiting for " + down + " to be RUNNING", restarted));
      boolean allSettled = true;
      int up = 0;
      for (String name : down) {
        ProgramState s = find(now, name);
        if (s != null && running(s)) {
          up++;
        } else {
          waiting.add(name + " " + (s == null ? "GONE" : s.state()));
          if (s != null && !TERMINAL.contains(s.state())) {
            allSettled = false;
          }
        }
      }
      ActivityIo.heartbeat(
          beat(
              up,
              down.size(),
              waiting.isEmpty() ? "all RUNNING" : "waiting for " + String.join(", ", waiting),
              restarted));
      long left = deadline - System.nanoTime();
      if (allSettled || left <= 0) {
        return now;
      }
      try {
        Thread.sleep(Math.min(POLL.toMillis(), left / 1_000_000 + 1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ApplicationFailure.newFailure(
            "interrupted while waiting for programs to start", "SshUnreachable");
      }
    }
  }

  private static ApplicationFailure programDown(
      Check check,
      HostRef host,
      ProgramsRequest r,
      List<ProgramState> down,
      Set<String> restarted,
      Duration settle,
      int tailBytes) {
    StringBuilder m = new StringBuilder();
    for (ProgramState s : down) {
      if (m.length() > 0) {
        m.append("\n\n");
      }
      m.append("program ")
          .append(s.name())
          .append(" on ")
          .append(host.describe())
          .append(" is ")
          .append(s.state())
          .append(s.description().isBlank() ? "" : " (" + s.description() + ")")
          .append(
              restarted.contains(s.name())
                  ? " after one restart (waited up to " + settle.toSeconds() + " s for RUNNING)"
                  : " (it was RUNNING at the first check)")
          .append(". Last ")
          .append(tailBytes)
          .append(" bytes of its log (")
          .append(check.ctl)
          .append(" tail -")
          .append(tailBytes)
          .append(' ')
          .append(s.name())
          .append("):\n")
          .append(orEmpty(check.tail(s.name(), tailBytes, "", restarted)));
      String stderr = check.tail(s.name(), tailBytes, "stderr", restarted);
      if (!stderr.isBlank()) {
        m.append("\nstderr:\n").append(stderr);
      }
    }
    log.warn("step '{}': {}", r.step(), m);
    return ApplicationFailure.newNonRetryableFailure(m.toString(), "ProgramDown");
  }

  private static String orEmpty(String log) {
    return log.isBlank() ? "(empty)" : log;
  }

  /** The status entries a listed name stands for: the program, or every program of a group. */
  static List<ProgramState> matching(List<ProgramState> all, String name) {
    List<ProgramState> found = new ArrayList<>();
    for (ProgramState s : all) {
      if (s.name().equals(name) || s.name().startsWith(name + ":")) {
        found.add(s);
      }
    }
    return found;
  }

  private static ProgramState find(List<ProgramState> all, String name) {
    return all.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
  }

  private static String state(List<ProgramState> all, String name) {
    ProgramState s = find(all, name);
    return s == null ? "GONE" : s.state();
  }

  private static boolean running(ProgramState s) {
    return "RUNNING".equals(s.state());
  }

  /** Reads the lines of {@code supervisorctl status}; what is not such a line is left out. */
  static List<ProgramState> parse(String stdout, List<String> other) {
    List<ProgramState> states = new ArrayList<>();
    for (String line : stdout.lines().toList()) {
      Matcher m = LINE.matcher(line.strip());
      if (m.matches()) {
        states.add(new ProgramState(m.group(1), m.group(2), m.group(3).strip()));
      } else if (!line.isBlank()) {
        other.add(line.strip());
      }
    }
    return states;
  }

  private static Restarting beat(long done, long total, String message, Set<String> restarted) {
    return new Restarting(
        done, total, "programs", message, restarted == null ? List.of() : List.copyOf(restarted));
  }

  /** The programs an earlier attempt of this activity restarted (its last heartbeat's). */
  private static List<String> earlierRestarts() {
    try {
      return Activity.getExecutionContext()
          .getHeartbeatDetails(Restarting.class)
          .map(Restarting::restarted)
          .orElse(List.of());
    } catch (IllegalStateException notInActivity) {
      return List.of();
    }
  }

  /** supervisorctl on one connection. */
  private final class Check {
    final SshHosts.Connection c;
    final HostRef host;
    final String ctl;

    Check(SshHosts.Connection c, HostRef host, String ctl) {
      this.c = c;
      this.host = host;
      this.ctl = ctl;
    }

    ExecResult run(String command, Duration timeout, Object beat) {
      ExecResult res = ssh.exec(c, command, timeout, beat);
      if (res.exitStatus() == ToolMissing.EXIT) {
        // The tool is supervisorctl as the setting names it (after a sudo, before its options).
        String tool = "supervisorctl";
        for (String word : ctl.split("\\s+")) {
          if (!word.equals("sudo") && !word.startsWith("-")) {
            tool = word;
            break;
          }
        }
        throw ToolMissing.failure(
            host,
            "running " + command,
            res.stderr().isBlank() ? res.stdout() : res.stderr(),
            Map.of(
                tool,
                "install supervisor there, or set the step's supervisorctl to the command the host"
                    + " runs it by (its absolute path, with -c and the config)"));
      }
      return res;
    }

    /**
     * Every program {@code status} lists. It exits 3 when some program is not RUNNING: that is its
     * answer, not a failure; a status with nothing but entries counts whatever its exit.
     */
    List<ProgramState> status(Object beat) {
      ExecResult res = run(ctl + " status", STATUS_TIMEOUT, beat);
      List<String> other = new ArrayList<>();
      List<ProgramState> states = parse(res.stdout(), other);
      int exit = res.exitStatus();
      if (exit == 0 || exit == 3 || (!states.isEmpty() && other.isEmpty())) {
        return states;
      }
      String said = (res.stdout() + "\n" + res.stderr()).strip();
      throw ApplicationFailure.newFailure(
          ctl
              + " status on "
              + host.describe()
              + " failed (exit "
              + exit
              + "): "
              + (said.length() > 1500 ? "..." + said.substring(said.length() - 1500) : said)
              + ": is supervisord running there, and does '"
              + ctl
              + "' reach it (-c with its config, or sudo)?",
          "RemoteCommandFailed");
    }

    /** The end of a program's stdout (or stderr) log; empty when it has none. */
    String tail(String name, int bytes, String stream, Set<String> restarted) {
      ExecResult res =
          run(
              ctl + " tail -" + bytes + " " + q(name) + (stream.isEmpty() ? "" : " " + stream),
              STATUS_TIMEOUT,
              beat(0, 0, "reading the log of " + name, restarted));
      String out = res.stdout();
      if (res.exitStatus() != 0 && out.contains("ERROR (")) {
        // No such log (stderr redirected into stdout, or no log configured).
        return stream.isEmpty() ? out.strip() : "";
      }
      return out.strip();
    }
  }
}
