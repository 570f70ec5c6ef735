package dev.crewchief.adapters.ssh;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.JobRequest;
import dev.crewchief.activities.JobResult;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long jobs on a host, detached from the SSH session that starts them (what the runbook does with
 * tmux) and followed to their end with one short command per poll.
 *
 * <p>A job lives in {@code ~/.crewchief/jobs/ID}: {@code script} (the command), {@code out} (its
 * stdout and stderr), {@code pid} (the wrapper shell that runs the script and then writes {@code
 * exit}), {@code boot} (the host's boot id when it started), {@code started} and {@code ended}.
 * Creating the directory is the claim: {@code mkdir} is atomic, so of two attempts with the same id
 * (a retry after the worker died, two workers) exactly one starts the job and every other follows
 * it. A cancelled or abandoned attempt leaves the job running; the next attempt follows it.
 */
final class HostJobs {
  private static final Logger log = LoggerFactory.getLogger(HostJobs.class);
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._-]{1,200}");
  private static final Duration DEFAULT_POLL = Duration.ofSeconds(5);
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);

  /** The wait between heartbeats while a long poll interval passes. */
  private static final Duration BEAT = Duration.ofSeconds(2);

  /** How much of the output's end each poll reads: the progress line is among its last lines. */
  private static final int TAIL_BYTES = 32 * 1024;

  /**
   * How long a job directory may exist without a pid before its job counts as never started: the
   * attempt that claimed it writes the pid within moments, unless it was interrupted in between.
   */
  private static final long NEVER_STARTED_SECONDS = 60;

  private final SshHosts ssh;

  HostJobs(SshHosts ssh) {
    this.ssh = ssh;
  }

  /** What one poll found: the state of the job and the end of its output. */
  record Poll(
      boolean gone,
      String pid,
      boolean alive,
      Integer exit,
      String exitText,
      boolean rebooted,
      long ageSeconds,
      Long tookMillis,
      long outputBytes,
      String tail) {}

  JobResult run(JobRequest r) {
    HostRef host = r.host();
    String id = r.jobId();
    if (id == null || !JOB_ID.matcher(id).matches() || id.chars().allMatch(c -> c == '.')) {
      throw ApplicationFailure.newNonRetryableFailure(
          "job id '"
              + id
              + "' of step "
              + r.step()
              + " is not a valid job id: use letters, digits, '.', '_' and '-' only (up to 200),"
              + " not only dots",
          "InvalidInput");
    }
    if (r.command() == null || r.command().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "empty command for job " + id + " of step " + r.step(), "InvalidInput");
    }
    Pattern progress = progressPattern(r);
    Duration every =
        r.pollEvery() == null || r.pollEvery().isZero() || r.pollEvery().isNegative()
            ? DEFAULT_POLL
            : r.pollEvery();
    String dir = "~/.crewchief/jobs/" + id;
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(host);
      return new JobResult(
          id,
          0,
          0,
          0,
          "would run in the background on "
              + host.describe()
              + " (job "
              + dir
              + ", unless it already runs or ran there: then it is followed): "
              + r.command(),
          0,
          false,
          true);
    }
    long began = System.nanoTime();
    // The unit is the pattern's group "unit" when it has one (indexed 10/50 datasets).
    String unit = progress != null && progress.pattern().contains("(?<unit>") ? null : "items";
    Progress last = new Progress(0, 0, "items", "starting job " + id);
    boolean started = start(r, last);
    log.info(
        "step '{}': job {} on {} {}",
        r.step(),
        id,
        host.describe(),
        started ? "started" : "already there: following it");
    while (true) {
      Poll p = poll(r, last);
      last = progress(p, progress, unit, last, id, host);
      ActivityIo.heartbeat(last);
      if (p.gone()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "the directory "
                + dir
                + " of job "
                + id
                + " on "
                + host.describe()
                + " was removed"
                + " while the job was followed: find out who removed it; run the step again with"
                + " a new job id to start the job again",
            "RemoteJobFailed");
      }
      if (p.exitText() != null) {
        long took =
            p.tookMillis() != null ? p.tookMillis() : (System.nanoTime() - began) / 1_000_000;
        if (p.exit() != null && p.exit() == 0) {
          log.info("job {} on {} finished: {}", id, host.describe(), last.describe());
          return new JobResult(
              id, 0, last.done(), last.total(), SshHosts.tail(p.tail()), took, !started, false);
        }
        throw ApplicationFailure.newNonRetryableFailure(
            "job "
                + id
                + " of step "
                + r.step()
                + " on "
                + host.describe()
                + " exited "
                + p.exitText()
                + " (its output is in "
                + dir
                + "/out; starting it again is a decision: remove "
                + dir
                + " or use a new job id). Output's end:\n"
                + SshHosts.tail(p.tail()),
            "RemoteJobFailed");
      }
      if (!p.alive()) {
        if (p.pid() == null) {
          if (p.ageSeconds() > NEVER_STARTED_SECONDS) {
            throw ApplicationFailure.newNonRetryableFailure(
                "job "
                    + id
                    + " on "
                    + host.describe()
                    + " never started: its directory "
                    + dir
                    + " exists without a pid (the attempt that created it was interrupted before"
                    + " starting the job); remove the directory to start it",
                "RemoteJobFailed");
          }
        } else {
          throw ApplicationFailure.newNonRetryableFailure(
              "job "
                  + id
                  + " of step "
                  + r.step()
                  + " on "
                  + host.describe()
                  + " died without an exit status: "
                  + (p.rebooted()
                      ? "the host rebooted since it started"
                      : "its process " + p.pid() + " is gone (killed?)")
                  + ". Its output is in "
                  + dir
                  + "/out; to run it again remove "
                  + dir
                  + " or use a new job id. Output's end:\n"
                  + SshHosts.tail(p.tail()),
              "RemoteJobFailed");
        }
      }
      pause(every, last);
    }
  }

  /** The progress pattern, checked: a bad one is the configuration's fault. */
  private static Pattern progressPattern(JobRequest r) {
    if (r.progressRegex() == null || r.progressRegex().isBlank()) {
      return null;
    }
    Pattern p;
    try {
      p = Pattern.compile(r.progressRegex());
    } catch (PatternSyntaxException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "progressRegex of step " + r.step() + " is not a valid regex: " + e.getDescription(),
          "InvalidInput");
    }
    if (!r.progressRegex().contains("(?<done>")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "progressRegex of step "
              + r.step()
              + " has no group named 'done' (and 'total'): e.g. indexed (?<done>\\d+)/(?<total>\\d+)",
          "InvalidInput");
    }
    return p;
  }

  /**
   * Claims the job directory and starts the job in it, or finds it there; true when this call
   * started it. One command: the claim, the script, the detached start and the wait for its pid.
   */
  private boolean start(JobRequest r, Progress beat) {
    String id = r.jobId();
    // Written with one newline, compared as $(cat script) reads it back: without trailing blanks.
    String command = r.command().stripTrailing();
    String dir = "\"$HOME\"/.crewchief/jobs/" + id;
    // The wrapper runs detached (own session, SIGHUP ignored, no terminal, output to a file), so
    // the end of the SSH session does not end it. It names the job in its argv ($0), so a pid the
    // host reused for another process is not taken for the job. The script runs from $HOME, as
    // runCommand's commands do; its exit status is written last, atomically.
    String wrapper =
        "echo $$ > \"$1/pid.part\" && mv \"$1/pid.part\" \"$1/pid\"; date +%s%N > \"$1/started\""
            + " 2>/dev/null; cd; sh \"$1/script\"; rc=$?; date +%s%N > \"$1/ended\" 2>/dev/null;"
            + " echo $rc > \"$1/exit.part\" && mv \"$1/exit.part\" \"$1/exit\"";
    String cmd =
        "for t in setsid nohup; do command -v $t >/dev/null || { echo \"sh: 1: $t: not found\""
            + " >&2; exit 127; }; done; mkdir -p \"$HOME/.crewchief/jobs\" || exit 1; d="
            + dir
            + "; if mkdir \"$d\" 2>/dev/null; then printf '%s\\n' "
            + q(command)
            + " > \"$d/script\" || exit 1; cat /proc/sys/kernel/random/boot_id > \"$d/boot\""
            + " 2>/dev/null; setsid nohup sh -c "
            + q(wrapper)
            + " "
            + q(marker(id))
            + " \"$d\" > \"$d/out\" 2>&1 < /dev/null & i=0; while [ ! -f \"$d/pid\" ] && [ $i -lt"
            + " 100 ]; do sleep 0.1; i=$((i+1)); done; echo started; elif [ ! -f \"$d/script\" ]"
            + " || [ \"$(cat \"$d/script\")\" = "
            + q(command)
            + " ]; then echo existing; else echo different; fi";
    SshHosts.Connection c = ssh.lease(r.host());
    ExecResult res;
    try {
      res = ssh.exec(c, cmd, COMMAND_TIMEOUT, beat);
    } finally {
      c.close();
    }
    check(res, r.host(), "starting job " + id);
    String said = res.stdout().strip();
    if (said.endsWith("different")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "job "
              + id
              + " on "
              + r.host().describe()
              + " already exists and runs another command than step "
              + r.step()
              + " asks for: use another job id, or remove ~/.crewchief/jobs/"
              + id
              + " there once that job is of no use",
          "InvalidInput");
    }
    return said.endsWith("started");
  }

  /** The argument the job's wrapper carries as its name ($0), found in its command line. */
  private static String marker(String id) {
    return "crewchief-job:" + id;
  }

  private Poll poll(JobRequest r, Progress beat) {
    String id = r.jobId();
    // The pid counts as the job only while it is alive, not a zombie (its cmdline is then empty)
    // and still the wrapper (a host that rebooted may have given the pid to another process).
    String cmd =
        "d=\"$HOME\"/.crewchief/jobs/"
            + id
            + "; if [ ! -d \"$d\" ]; then echo gone=1; exit 0; fi; cd \"$d\" || exit 1;"
            + " pid=$(cat pid 2>/dev/null); echo \"pid=$pid\"; alive=0; if [ -n \"$pid\" ] &&"
            + " kill -0 \"$pid\" 2>/dev/null; then alive=1; if [ -r /proc/$pid/cmdline ]; then"
            + " tr '\\000' ' ' < /proc/$pid/cmdline | grep -qF -- "
            + q(marker(id) + " ")
            + " || alive=0; fi; fi; echo \"alive=$alive\"; [ -f exit ] && echo \"exit=$(cat"
            + " exit)\"; echo \"boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\"; echo"
            + " \"startboot=$(cat boot 2>/dev/null)\"; echo \"started=$(cat started 2>/dev/null)\";"
            + " echo \"ended=$(cat ended 2>/dev/null)\"; echo \"age=$(( $(date +%s) - $(stat -c %Y"
            + " . 2>/dev/null || date +%s) ))\"; echo \"size=$(wc -c < out 2>/dev/null || echo"
            + " 0)\"; echo ---; tail -c "
            + TAIL_BYTES
            + " out 2>/dev/null; true";
    SshHosts.Connection c = ssh.lease(r.host());
    ExecResult res;
    try {
      res = ssh.exec(c, cmd, COMMAND_TIMEOUT, beat);
    } finally {
      c.close();
    }
    check(res, r.host(), "following job " + id);
    return parse(res.stdout());
  }

  /** Reads a poll's report: {@code key=value} lines, {@code ---}, then the output's end. */
  static Poll parse(String stdout) {
    Map<String, String> facts = new HashMap<>();
    int sep = stdout.indexOf("\n---\n");
    String head = sep < 0 ? stdout : stdout.substring(0, sep);
    String tail = sep < 0 ? "" : stdout.substring(sep + 5);
    for (String line : head.lines().toList()) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        facts.put(line.substring(0, eq), line.substring(eq + 1).strip());
      }
    }
    if (facts.containsKey("gone")) {
      return new Poll(true, null, false, null, null, false, 0, null, 0, "");
    }
    String pid = blankToNull(facts.get("pid"));
    String exitText = facts.get("exit");
    Integer exit = null;
    if (exitText != null) {
      try {
        exit = Integer.parseInt(exitText);
      } catch (NumberFormatException e) {
        exitText = "with an unreadable status '" + exitText + "'";
      }
    }
    String boot = blankToNull(facts.get("boot"));
    String startBoot = blankToNull(facts.get("startboot"));
    boolean rebooted = boot != null && startBoot != null && !boot.equals(startBoot);
    Long took = null;
    Long startedNs = longOrNull(facts.get("started"));
    Long endedNs = longOrNull(facts.get("ended"));
    if (startedNs != null && endedNs != null && endedNs >= startedNs) {
      took = (endedNs - startedNs) / 1_000_000;
    }
    long size = longOr(facts.get("size"), 0);
    if (size > TAIL_BYTES) {
      // The tail starts mid-line: that partial line is not the job's to report.
      int nl = tail.indexOf('\n');
      tail = nl < 0 ? tail : tail.substring(nl + 1);
    }
    return new Poll(
        false,
        pid,
        "1".equals(facts.get("alive")),
        exit,
        exitText,
        rebooted,
        longOr(facts.get("age"), 0),
        took,
        size,
        tail);
  }

  /** The last progress the output's end shows, or the previous one when it shows none. */
  static Progress progress(
      Poll p, Pattern pattern, String unit, Progress previous, String id, HostRef host) {
    if (p.gone()) {
      return previous;
    }
    String lastLine = lastLine(p.tail());
    String state =
        p.exitText() != null
            ? "job " + id + " exited " + p.exitText()
            : "job " + id + " running on " + host.name();
    if (pattern == null) {
      return new Progress(
          previous.done(),
          previous.total(),
          previous.unit(),
          lastLine.isEmpty() ? state : state + ": " + lastLine);
    }
    Matcher found = null;
    String foundLine = null;
    // Line by line, carriage returns included: progress bars (tqdm) redraw one line with \r.
    for (String line : p.tail().split("[\r\n]+")) {
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        found = m;
        foundLine = line.strip();
      }
    }
    if (found == null) {
      return new Progress(
          previous.done(),
          previous.total(),
          previous.unit(),
          lastLine.isEmpty() ? state : state + ": " + lastLine);
    }
    long done = number(found, "done", previous.done());
    long total = pattern.pattern().contains("(?<total>") ? number(found, "total", 0) : 0;
    String u = unit;
    if (u == null) {
      String g = found.group("unit");
      u = g == null || g.isBlank() ? "items" : g.strip();
    }
    return new Progress(done, total, u, state + ": " + abbreviate(foundLine));
  }

  private static long number(Matcher m, String group, long otherwise) {
    String g = m.group(group);
    if (g == null) {
      return otherwise;
    }
    // "1,234" and "1 234" count as 1234.
    String digits = g.replaceAll("[^0-9]", "");
    return digits.isEmpty() ? otherwise : longOr(digits, otherwise);
  }

  private static String lastLine(String tail) {
    String[] lines = tail.strip().split("[\r\n]+");
    return lines.length == 0 ? "" : abbreviate(lines[lines.length - 1].strip());
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 197) + "..." : s;
  }

  /** Waits for the next poll, heartbeating so that a long poll interval is not a lost worker. */
  private static void pause(Duration every, Progress last) {
    long until = System.nanoTime() + every.toNanos();
    try {
      for (long left = every.toNanos(); left > 0; left = until - System.nanoTime()) {
        Thread.sleep(Math.min(left, BEAT.toNanos()) / 1_000_000 + 1);
        if (until - System.nanoTime() > 0) {
          ActivityIo.heartbeat(last);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while following a job", "SshUnreachable");
    }
  }

  private static void check(ExecResult res, HostRef host, String what) {
    if (res.exitStatus() == ToolMissing.EXIT) {
      throw ToolMissing.failure(host, what, res.stderr(), Map.of());
    }
    if (res.exitStatus() != 0) {
      throw ApplicationFailure.newFailure(
          what
              + " on "
              + host.describe()
              + " failed (exit "
              + res.exitStatus()
              + "): "
              + SshHosts.tail(res.stderr().isBlank() ? res.stdout() : res.stderr()),
          "RemoteCommandFailed");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static Long longOrNull(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static long longOr(String s, long otherwise) {
    Long v = longOrNull(s);
    return v == null ? otherwise : v;
  }
}
