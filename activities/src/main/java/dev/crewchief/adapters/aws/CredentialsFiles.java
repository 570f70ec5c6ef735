package dev.crewchief.adapters.aws;

import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.IamActivities.CredentialsFile;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import net.schmizz.sshj.connection.channel.direct.Session;

/**
 * An AWS shared credentials file on a host, read and written over SSH. The file is written through
 * the command's stdin (the secret never appears on a command line, so not in {@code ps} nor in a
 * shell's audit log), into a temporary file made under {@code umask 077} (0600 from its creation)
 * next to the target, then renamed over it, so the file is never partly written nor readable by
 * others. When the file's owner is not the SSH user, the commands run under {@code sudo -n} (a sudo
 * that would ask for a password fails instead of hanging).
 *
 * <p>Nothing here puts the file's contents in a failure message: what the host printed on stderr is
 * reported, never stdout (which is the file).
 */
final class CredentialsFiles {
  private static final Pattern SECTION = Pattern.compile("[A-Za-z0-9._ -]{1,64}");
  private static final Pattern OWNER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final int MISSING = 3;

  /** The key found under a section: id and secret. */
  record Key(String id, String secret) {
    @Override
    public String toString() {
      return "Key[" + id + ", secret not shown]";
    }
  }

  /** What the file is after a write: its mode (octal) and owner as {@code stat} says. */
  record Written(String mode, String owner) {}

  private final SshHosts ssh;

  CredentialsFiles(SshHosts ssh) {
    this.ssh = ssh;
  }

  static void check(CredentialsFile f) {
    if (f == null || f.host() == null) {
      throw invalid("no credentials file target (host, path, section, owner) configured");
    }
    if (f.path() == null || !f.path().startsWith("/") || f.path().endsWith("/")) {
      throw invalid("credentials file path '" + f.path() + "' must be an absolute path of a file");
    }
    if (f.section() == null || !SECTION.matcher(f.section()).matches()) {
      throw invalid(
          "credentials file section '"
              + f.section()
              + "' must be 1-64 letters, digits, spaces or . _ -");
    }
    if (f.owner() == null || !OWNER.matcher(f.owner()).matches()) {
      throw invalid("credentials file owner '" + f.owner() + "' is not a user name");
    }
  }

  /** The file's text, or null when it does not exist. */
  String read(SshHosts.Connection c, CredentialsFile f) {
    String script =
        "if [ -e "
            + q(f.path())
            + " ]; then cat -- "
            + q(f.path())
            + "; else exit "
            + MISSING
            + "; fi";
    Result r = run(c, f, script, null);
    if (r.status == MISSING) {
      return null;
    }
    if (r.status != 0) {
      throw failure(f, "cannot be read", r);
    }
    return r.out;
  }

  /** Replaces the file with {@code text}, mode 0600, owned by the file's owner. */
  Written write(SshHosts.Connection c, CredentialsFile f, String text) {
    boolean other = !f.owner().equals(f.host().user());
    String chown = other ? "chown " + q(f.owner()) + ": " : null;
    StringBuilder s = new StringBuilder();
    s.append("set -e; umask 077; f=").append(q(f.path())).append("; d=$(dirname -- \"$f\"); ");
    s.append("if [ ! -d \"$d\" ]; then mkdir -p -- \"$d\"; ");
    if (other) {
      s.append(chown).append("-- \"$d\"; ");
    }
    s.append("fi; t=$(mktemp -- \"$f.XXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; ");
    s.append("cat > \"$t\"; chmod 600 -- \"$t\"; ");
    if (other) {
      s.append(chown).append("-- \"$t\"; ");
    }
    s.append("mv -f -- \"$t\" \"$f\"; trap - EXIT; stat -c '%a %U' -- \"$f\"");
    Result r = run(c, f, s.toString(), text.getBytes(StandardCharsets.UTF_8));
    if (r.status != 0) {
      throw failure(f, "cannot be written", r);
    }
    String[] stat = r.out.strip().split(" ");
    if (stat.length != 2) {
      throw failure(f, "was written but stat said '" + r.out.strip() + "'", r);
    }
    return new Written(stat[0], stat[1]);
  }

  /** The mode and owner of the file as it is, or null when it does not exist. */
  Written stat(SshHosts.Connection c, CredentialsFile f) {
    Result r =
        run(
            c,
            f,
            "if [ -e "
                + q(f.path())
                + " ]; then stat -c '%a %U' -- "
                + q(f.path())
                + "; else exit "
                + MISSING
                + "; fi",
            null);
    if (r.status == MISSING) {
      return null;
    }
    String[] stat = r.out.strip().split(" ");
    if (r.status != 0 || stat.length != 2) {
      throw failure(f, "cannot be looked at", r);
    }
    return new Written(stat[0], stat[1]);
  }

  // ---------------------------------------------------------------------------------------------
  // the file's format (INI, as the AWS CLI and the runbook write it)

  /** The key under {@code section}, or null when the section or its key id is absent. */
  static Key key(String text, String section) {
    if (text == null) {
      return null;
    }
    String id = null;
    String secret = null;
    boolean in = false;
    for (String line : text.split("\n", -1)) {
      String t = line.strip();
      if (t.startsWith("[") && t.endsWith("]")) {
        in = t.substring(1, t.length() - 1).strip().equals(section);
        continue;
      }
      int eq = t.indexOf('=');
      if (in && eq > 0) {
        String name = t.substring(0, eq).strip();
        String value = t.substring(eq + 1).strip();
        if (name.equals("aws_access_key_id")) {
          id = value;
        } else if (name.equals("aws_secret_access_key")) {
          secret = value;
        }
      }
    }
    return id == null ? null : new Key(id, secret);
  }

  /** {@code text} with {@code section} replaced by (or, when absent, followed by) the key. */
  static String withKey(String text, String section, String id, String secret) {
    List<String> block =
        List.of(
            "[" + section + "]", "aws_access_key_id = " + id, "aws_secret_access_key = " + secret);
    List<String> out = new ArrayList<>();
    boolean in = false;
    boolean placed = false;
    if (text != null && !text.isEmpty()) {
      String[] lines = text.split("\n", -1);
      int n = text.endsWith("\n") ? lines.length - 1 : lines.length;
      for (int i = 0; i < n; i++) {
        String t = lines[i].strip();
        if (t.startsWith("[") && t.endsWith("]")) {
          in = t.substring(1, t.length() - 1).strip().equals(section);
          if (in && !placed) {
            out.addAll(block);
            placed = true;
          }
          if (in) {
            continue;
          }
        }
        if (!in) {
          out.add(lines[i]);
        }
      }
    }
    if (!placed) {
      if (!out.isEmpty() && !out.get(out.size() - 1).isBlank()) {
        out.add("");
      }
      out.addAll(block);
    }
    return String.join("\n", out) + "\n";
  }

  // ---------------------------------------------------------------------------------------------
  // running

  private record Result(int status, String out, String err) {}

  private Result run(SshHosts.Connection c, CredentialsFile f, String script, byte[] stdin) {
    boolean other = !f.owner().equals(f.host().user());
    String command = other ? "sudo -n sh -c " + q(script) : script;
    try (Session session = c.startSession()) {
      Session.Command cmd = session.exec(command);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread o = ActivityIo.drain(cmd.getInputStream(), out, "credentials-stdout");
      Thread e = ActivityIo.drain(cmd.getErrorStream(), err, "credentials-stderr");
      try (OutputStream in = cmd.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin);
          in.flush();
        }
      }
      // The end of stdin is sshj's EOF once the stream is closed.
      o.join(60_000);
      e.join(5_000);
      cmd.join(30, TimeUnit.SECONDS);
      Integer status = cmd.getExitStatus();
      if (status == null) {
        throw ApplicationFailure.newFailure(
            "the credentials file command on " + f.host().describe() + " did not finish",
            "CredentialsFile");
      }
      return new Result(
          status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } catch (IOException ex) {
      throw ApplicationFailure.newFailure(
          "SSH session to " + f.host().describe() + " failed: " + ex.getMessage(),
          "SshUnreachable");
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted", "SshUnreachable");
    }
  }

  private static ApplicationFailure failure(CredentialsFile f, String what, Result r) {
    HostRef h = f.host();
    boolean sudo = !f.owner().equals(h.user());
    String err = r.err.strip();
    return ApplicationFailure.newNonRetryableFailure(
        "credentials file "
            + f.path()
            + " on "
            + h.describe()
            + " "
            + what
            + " (exit "
            + r.status
            + (err.isEmpty() ? "" : ": " + (err.length() > 500 ? err.substring(0, 500) : err))
            + ")"
            + (sudo
                ? ": the owner "
                    + f.owner()
                    + " is not the SSH user, so "
                    + h.user()
                    + " needs passwordless sudo for sh there"
                : ""),
        "CredentialsFile");
  }

  /** Single-quoted for sh. */
  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
