package dev.crewchief.adapters.ssh;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.HostConfigActivities;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link HostConfigActivities} over SSH ({@link SshHosts}: host keys verified, connections leased).
 * Each edit reads the current state first, changes only what differs, and reads the result back;
 * SSH failures keep the interface's types ({@code HostUnreachable} retried, {@code HostAuth} not).
 */
public final class HostConfigActivitiesImpl implements HostConfigActivities {
  private static final Logger log = LoggerFactory.getLogger(HostConfigActivitiesImpl.class);
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
  private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}");

  /** Exit statuses of the commands below that say what went wrong. */
  private static final int MISSING = 4;

  private static final int CHANGED_MEANWHILE = 5;

  private static final int NOT_WRITABLE = 6;

  /** Lines of a log kept for the result's tail and an error's context. */
  static final int CONTEXT_LINES = 5;

  /** The most of a log read in one poll (a long log is read over consecutive polls). */
  private static final int CHUNK_BYTES = 1 << 20;

  private final SshHosts ssh;
  private final Clock clock;

  public HostConfigActivitiesImpl(SshHosts ssh) {
    this(ssh, Clock.systemUTC());
  }

  public HostConfigActivitiesImpl(SshHosts ssh, Clock clock) {
    this.ssh = ssh;
    this.clock = clock;
  }

  // ---------------------------------------------------------------------------------------------
  // replaceInFile

  @Override
  public Edit replaceInFile(ReplaceRequest r) {
    requireHost(r.host());
    requirePath(r.path());
    if (r.from() == null || r.from().isEmpty() || r.to() == null || r.from().equals(r.to())) {
      throw invalid(
          "step "
              + r.step()
              + ": replaceInFile needs a non-empty 'from' and a 'to' that differs from it");
    }
    String sudo = r.sudo() ? "sudo -n " : "";
    String action =
        "on "
            + r.host().describe()
            + ": replace every '"
            + abbreviate(r.from())
            + "' with '"
            + abbreviate(r.to())
            + "' in "
            + r.path()
            + (r.sudo() ? " (sudo)" : "")
            + ", keeping a copy beside it";
    if (r.dryRun()) {
      ssh.rehearse(r.host());
      return new Edit(r.path(), 0, false, backupName(r.path(), r.step()), true);
    }
    SshHosts.Connection c = lease(r.host());
    try {
      // The real file (an edit through a symlink changes its target, the link stays), whether its
      // backup is there, and its bytes in base64 so that they come back exactly.
      String read =
          "f=$("
              + sudo
              + "readlink -f -- "
              + q(r.path())
              + ") && "
              + sudo
              + "test -f \"$f\" || { echo "
              + q(r.path() + " is not a file")
              + " >&2; exit "
              + MISSING
              + "; }; printf '%s\\n' \"$f\"; "
              + sudo
              + "base64 -w0 -- \"$f\"";
      ExecResult got = run(c, r.host(), read, "reading " + r.path());
      String[] parts = got.stdout().split("\n", 2);
      String real = parts[0].strip();
      byte[] before = Base64.getMimeDecoder().decode(parts.length > 1 ? parts[1].strip() : "");
      String text = TextReplacement.utf8(before, r.path());
      TextReplacement t = TextReplacement.of(text, r.from(), r.to());
      String backup = backupName(real, r.step());
      if (!t.changes()) {
        if (t.to() == 0) {
          throw ApplicationFailure.newNonRetryableFailure(
              "neither '"
                  + abbreviate(r.from())
                  + "' nor '"
                  + abbreviate(r.to())
                  + "' is in "
                  + r.path()
                  + " on "
                  + r.host().describe()
                  + ": check the file and the step's texts (step "
                  + r.step()
                  + ")",
              "EditNotFound");
        }
        log.info("step '{}' {}: already done ({} found)", r.step(), action, t.to());
        return new Edit(r.path(), 0, false, backup, false);
      }
      byte[] after = t.result().getBytes(StandardCharsets.UTF_8);
      // The new text goes through stdin into a temporary file beside the real one, which then
      // takes its place: readers never see half a file. The backup is made only here, when there is
      // something to change, so it always holds the text from before the edit (a retry after the
      // edit finds nothing to change and leaves it alone). A file changed since it was read is not
      // overwritten with an edit of its old text.
      String f = q(real);
      // Without sudo, a file the user cannot write is not replaced through a directory it can
      // write: that would hand the file to the user.
      String writable =
          r.sudo()
              ? ""
              : "[ -w \"$f\" ] || { echo "
                  + q(r.path() + " is not writable by " + r.host().user())
                  + " >&2; exit "
                  + NOT_WRITABLE
                  + "; }; ";
      String write =
          "f="
              + f
              + "; "
              + writable
              + "[ \"$("
              + sudo
              + "sha256sum -- \"$f\" | cut -d' ' -f1)\" = "
              + sha256(before)
              + " ] || { echo "
              + q(r.path() + " changed while it was being edited")
              + " >&2; exit "
              + CHANGED_MEANWHILE
              + "; }; t=$("
              + sudo
              + "mktemp \"$f.crewchief-tmp.XXXXXX\") || exit 1; if "
              + sudo
              + "cp -p -- \"$f\" "
              + q(backup)
              + " && "
              + sudo
              + "tee -- \"$t\" >/dev/null && { "
              + sudo
              + "chown --reference=\"$f\" -- \"$t\" 2>/dev/null || true; } && "
              + sudo
              + "chmod --reference=\"$f\" -- \"$t\" && "
              + sudo
              + "mv -f -- \"$t\" \"$f\"; then "
              + sudo
              + "sha256sum -- \"$f\" | cut -d' ' -f1; else "
              + sudo
              + "rm -f -- \"$t\"; exit 1; fi";
      ExecResult w = run(c, r.host(), write, after, "writing " + r.path());
      String now = w.stdout().strip();
      if (!now.equals(sha256(after))) {
        throw ApplicationFailure.newFailure(
            "read back " + r.path() + " on " + r.host().describe() + ": not the edited text",
            "RemoteCommandFailed");
      }
      log.info("step '{}' {}: {} replaced, backup {}", r.step(), action, t.from(), backup);
      return new Edit(r.path(), t.from(), true, backup, false);
    } finally {
      c.close();
    }
  }

  /** Beside the file, named after the step (or the time, for a step without a name). */
  String backupName(String path, String step) {
    String tag =
        step == null || step.isBlank()
            ? String.valueOf(clock.millis())
            : step.replaceAll("[^A-Za-z0-9._-]", "-");
    return path + ".crewchief-" + tag;
  }

  // ---------------------------------------------------------------------------------------------
  // ensureCronLine

  @Override
  public ActionResult ensureCronLine(CronRequest r) {
    requireHost(r.host());
    if (r.line() == null
        || r.line().isBlank()
        || r.line().indexOf('\n') >= 0
        || r.line().indexOf('\r') >= 0) {
      throw invalid("step " + r.step() + ": a cron line must be one non-empty line");
    }
    boolean other = r.user() != null && !r.user().equals(r.host().user());
    if (other && !USER.matcher(r.user()).matches()) {
      throw invalid("'" + r.user() + "' is not a user name");
    }
    String crontab = other ? "sudo -n crontab -u " + r.user() : "crontab";
    String whose = other ? r.user() + "'s crontab" : "the crontab of " + r.host().user();
    String action =
        "on " + r.host().describe() + ": " + whose + " has '" + r.line() + "' exactly once";
    if (r.dryRun()) {
      ssh.rehearse(r.host());
      return new ActionResult(action, true, "");
    }
    String line = r.line().strip();
    SshHosts.Connection c = lease(r.host());
    try {
      String listed = list(c, r.host(), crontab);
      List<String> lines = new ArrayList<>(listed.lines().toList());
      long found = lines.stream().filter(l -> l.strip().equals(line)).count();
      if (found == 1) {
        return new ActionResult(action, false, "unchanged: the line is there once");
      }
      // The first copy stays where it is; the others go. None: the line is added at the end.
      List<String> next = new ArrayList<>();
      boolean kept = false;
      for (String l : lines) {
        if (l.strip().equals(line)) {
          if (kept) {
            continue;
          }
          kept = true;
        }
        next.add(l);
      }
      if (!kept) {
        next.add(r.line());
      }
      String content = String.join("\n", next) + "\n";
      // Only the crontab that was read is replaced: a change made meanwhile is not lost.
      String write =
          "[ \"$("
              + crontab
              + " -l 2>/dev/null | sha256sum | cut -d' ' -f1)\" = "
              + sha256(listed.getBytes(StandardCharsets.UTF_8))
              + " ] || { echo 'the crontab changed while it was being edited' >&2; exit "
              + CHANGED_MEANWHILE
              + "; }; "
              + crontab
              + " -";
      run(c, r.host(), write, content.getBytes(StandardCharsets.UTF_8), "writing " + whose);
      long now = list(c, r.host(), crontab).lines().filter(l -> l.strip().equals(line)).count();
      if (now != 1) {
        throw ApplicationFailure.newFailure(
            "read back "
                + whose
                + " on "
                + r.host().describe()
                + ": the line is there "
                + now
                + " times",
            "RemoteCommandFailed");
      }
      String output =
          found == 0 ? "added the line" : "removed " + (found - 1) + " duplicates of the line";
      log.info("step '{}' {}: {}", r.step(), action, output);
      return new ActionResult(action, false, output);
    } finally {
      c.close();
    }
  }

  /** The crontab's text, empty when the user has none. */
  private String list(SshHosts.Connection c, HostRef host, String crontab) {
    ExecResult res = exec(c, crontab + " -l", null);
    if (res.exitStatus() != 0 && res.stderr().contains("no crontab for")) {
      return "";
    }
    checked(host, res, "reading the crontab");
    return res.stdout();
  }

  // ---------------------------------------------------------------------------------------------
  // waitForLog

  @Override
  public LogWait waitForLog(LogWaitRequest r) {
    requireHost(r.host());
    requirePath(r.path());
    Pattern done = regex(r.doneRegex(), "doneRegex", true);
    Pattern error = regex(r.errorRegex(), "errorRegex", false);
    if (r.limit() == null || r.limit().isNegative() || r.limit().isZero()) {
      throw invalid("step " + r.step() + ": waitForLog needs a positive limit");
    }
    Duration every =
        r.pollEvery() == null || r.pollEvery().toMillis() < 100
            ? Duration.ofSeconds(5)
            : r.pollEvery();
    String action =
        "on "
            + r.host().describe()
            + ": follow "
            + r.path()
            + " until a line matches /"
            + r.doneRegex()
            + "/"
            + (error == null ? "" : ", failing on /" + r.errorRegex() + "/")
            + ", for at most "
            + r.limit();
    if (r.dryRun()) {
      ssh.rehearse(r.host());
      return new LogWait(null, 0, "", true);
    }
    // A retry reads the log again from its start (the lines it saw are not kept anywhere else);
    // the earlier attempt's count only tells the log that this is a resumption.
    earlier()
        .ifPresent(
            p ->
                log.info("step '{}': resuming after {} lines of {}", r.step(), p.done(), r.path()));
    long deadline = System.nanoTime() + r.limit().toNanos();
    long offset = 0;
    long lines = 0;
    Deque<String> recent = new ArrayDeque<>();
    String cmd =
        "f="
            + q(r.path())
            + "; if [ -e \"$f\" ]; then stat -L -c %s -- \"$f\" && tail -c +$((OFFSET + 1)) --"
            + " \"$f\" | head -c "
            + CHUNK_BYTES
            + " | base64 -w0; else echo missing; fi";
    SshHosts.Connection c = lease(r.host());
    try {
      while (true) {
        Progress progress =
            new Progress(lines, 0, "lines", "following " + r.path() + " for step " + r.step());
        ExecResult res =
            checked(
                r.host(),
                exec(c, "OFFSET=" + offset + "; " + cmd, progress),
                "reading " + r.path());
        String[] parts = res.stdout().split("\n", 2);
        boolean more = false;
        if (!parts[0].strip().equals("missing")) {
          long size = Long.parseLong(parts[0].strip());
          if (size < offset) {
            // Truncated or replaced by a new file: its lines are read anew.
            log.info("{} on {} got shorter: reading it from the start", r.path(), r.host().name());
            offset = 0;
            lines = 0;
            recent.clear();
            continue;
          }
          byte[] chunk = Base64.getMimeDecoder().decode(parts.length > 1 ? parts[1].strip() : "");
          int end = lastNewline(chunk);
          if (end < 0 && chunk.length >= CHUNK_BYTES) {
            // One line longer than a whole read: taken as it is, so that the log moves on.
            end = chunk.length - 1;
          }
          // Only whole lines count: the last one may still be being written.
          if (end >= 0) {
            String[] got = new String(chunk, 0, end, StandardCharsets.UTF_8).split("\n", -1);
            for (int i = 0; i < got.length; i++) {
              String l = got[i];
              lines++;
              if (error != null && error.matcher(l).find()) {
                throw logShowsError(r, l, lines, recent, got, i);
              }
              remember(recent, l);
              if (done.matcher(l).find()) {
                log.info("step '{}' {}: done at line {}", r.step(), action, lines);
                return new LogWait(l, lines, String.join("\n", recent), false);
              }
            }
            offset += end + 1;
          }
          more = chunk.length >= CHUNK_BYTES;
        }
        ActivityIo.heartbeat(
            new Progress(lines, 0, "lines", "following " + r.path() + " for step " + r.step()));
        if (System.nanoTime() > deadline) {
          throw ApplicationFailure.newNonRetryableFailure(
              r.path()
                  + " on "
                  + r.host().describe()
                  + " showed no line matching /"
                  + r.doneRegex()
                  + "/ within "
                  + r.limit()
                  + " ("
                  + lines
                  + " lines"
                  + (recent.isEmpty() ? "" : ", the last:\n" + String.join("\n", recent))
                  + "): look at the host, or give the step a longer limit",
              "LogWaitExpired");
        }
        if (!more) {
          Thread.sleep(every.toMillis());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while following " + r.path(), "Interrupted");
    } finally {
      c.close();
    }
  }

  private static ApplicationFailure logShowsError(
      LogWaitRequest r, String line, long at, Deque<String> before, String[] got, int i) {
    List<String> around = new ArrayList<>(before);
    around.add(line);
    for (int j = i + 1; j < got.length && j <= i + CONTEXT_LINES; j++) {
      around.add(got[j]);
    }
    return ApplicationFailure.newNonRetryableFailure(
        r.path()
            + " on "
            + r.host().describe()
            + " shows an error at line "
            + at
            + " (matches /"
            + r.errorRegex()
            + "/): "
            + line
            + "\n--- around it:\n"
            + String.join("\n", around),
        "LogShowsError");
  }

  private static void remember(Deque<String> recent, String line) {
    recent.addLast(line);
    while (recent.size() > CONTEXT_LINES) {
      recent.removeFirst();
    }
  }

  private static int lastNewline(byte[] b) {
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private static Optional<Progress> earlier() {
    ActivityExecutionContext ctx;
    try {
      ctx = Activity.getExecutionContext();
    } catch (IllegalStateException notInActivity) {
      return Optional.empty();
    }
    try {
      return ctx.getHeartbeatDetails(Progress.class);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Pattern regex(String regex, String name, boolean required) {
    if (regex == null || regex.isEmpty()) {
      if (required) {
        throw invalid("waitForLog needs a " + name);
      }
      return null;
    }
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw invalid(name + " /" + regex + "/ is not a regular expression: " + e.getDescription());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // SSH, with the interface's failure types

  private SshHosts.Connection lease(HostRef host) {
    try {
      return ssh.lease(host);
    } catch (ApplicationFailure f) {
      throw retyped(f);
    }
  }

  private ExecResult exec(SshHosts.Connection c, String command, Object heartbeat) {
    return exec(c, command, null, heartbeat);
  }

  private ExecResult exec(SshHosts.Connection c, String command, byte[] stdin, Object heartbeat) {
    try {
      return ssh.exec(c, command, stdin, COMMAND_TIMEOUT, heartbeat == null ? command : heartbeat);
    } catch (ApplicationFailure f) {
      throw retyped(f);
    }
  }

  private ExecResult run(SshHosts.Connection c, HostRef host, String command, String what) {
    return run(c, host, command, null, what);
  }

  private ExecResult run(
      SshHosts.Connection c, HostRef host, String command, byte[] stdin, String what) {
    return checked(host, exec(c, command, stdin, what), what);
  }

  /** A command's failure as the step's: what a retry cannot fix is non-retryable. */
  private static ExecResult checked(HostRef host, ExecResult res, String what) {
    if (res.exitStatus() == 0) {
      return res;
    }
    String err = SshHosts.tail(res.stderr().isBlank() ? res.stdout() : res.stderr());
    String on = what + " on " + host.describe();
    if (err.contains("a password is required") || err.contains("a terminal is required")) {
      throw ApplicationFailure.newNonRetryableFailure(
          on
              + ": sudo needs a password ("
              + err
              + "): allow "
              + host.user()
              + " passwordless sudo for this, or do it without sudo",
          "HostAuth");
    }
    if (err.contains("Permission denied")
        || err.contains("not allowed to use this program")
        || err.contains("must be privileged")) {
      throw ApplicationFailure.newNonRetryableFailure(
          on + " was refused (" + err + "): give " + host.user() + " the right, or use sudo",
          "HostAuth");
    }
    if (res.exitStatus() == ToolMissing.EXIT) {
      throw ToolMissing.failure(host, what, err, Map.of());
    }
    if (res.exitStatus() == NOT_WRITABLE) {
      throw ApplicationFailure.newNonRetryableFailure(
          on + ": " + err + ": edit it with sudo (the step's sudo setting)", "HostAuth");
    }
    if (res.exitStatus() == MISSING) {
      throw ApplicationFailure.newNonRetryableFailure(
          on + ": " + err + ": check the path", "NoSuchFile");
    }
    if (res.exitStatus() == CHANGED_MEANWHILE) {
      throw ApplicationFailure.newFailure(on + ": " + err, "RemoteCommandFailed");
    }
    throw ApplicationFailure.newFailure(
        on + " failed (exit " + res.exitStatus() + "): " + err, "RemoteCommandFailed");
  }

  /** SshHosts' unreachable and refused-key failures under the names this interface gives them. */
  private static ApplicationFailure retyped(ApplicationFailure f) {
    String type =
        switch (f.getType()) {
          case "SshUnreachable" -> "HostUnreachable";
          case "SshAuthFailed" -> "HostAuth";
          default -> null;
        };
    if (type == null) {
      return f;
    }
    return f.isNonRetryable()
        ? ApplicationFailure.newNonRetryableFailureWithCause(f.getOriginalMessage(), type, f)
        : ApplicationFailure.newFailureWithCause(f.getOriginalMessage(), type, f);
  }

  private static void requireHost(HostRef host) {
    if (host == null) {
      throw invalid("no host given");
    }
  }

  private static void requirePath(String path) {
    if (path == null
        || !path.startsWith("/")
        || path.indexOf('\n') >= 0
        || path.indexOf('\0') >= 0) {
      throw invalid("'" + path + "' must be an absolute path");
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  private static String abbreviate(String s) {
    String t = s.replace('\n', ' ');
    return t.length() > 120 ? t.substring(0, 120) + "..." : t;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
