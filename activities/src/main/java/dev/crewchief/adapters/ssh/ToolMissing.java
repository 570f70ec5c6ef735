package dev.crewchief.adapters.ssh;

import dev.crewchief.activities.HostRef;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A command that exited 127: the shell did not find a tool it was to run. A retry cannot fix that,
 * and the likeliest cause is not that the tool is missing but that a non-interactive SSH session's
 * PATH is shorter than a login shell's (no profile is read: /usr/sbin, /usr/local/bin or ~/bin may
 * be missing), so the message names the tool, as the shell reported it, and the setting to change.
 */
public final class ToolMissing {
  /** The shell's exit status for a command it cannot find (or a path that does not exist). */
  public static final int EXIT = 127;

  /** bash: "bash: line 1: nginx: command not found"; dash: "sh: 1: nginx: not found". */
  private static final Pattern NOT_FOUND =
      Pattern.compile(
          "(?:^|: )([^:\\s]+): (?:command not found|not found|No such file or directory)\\s*$",
          Pattern.MULTILINE);

  private ToolMissing() {}

  /** The tool the shell's error names, or null when it names none. */
  public static String tool(String stderr) {
    Matcher m = NOT_FOUND.matcher(stderr == null ? "" : stderr);
    return m.find() ? m.group(1) : null;
  }

  /** The line of the shell's error that names the tool, or the error's end. */
  private static String line(String stderr) {
    Matcher m = NOT_FOUND.matcher(stderr == null ? "" : stderr);
    if (m.find()) {
      int start = stderr.lastIndexOf('\n', m.start()) + 1;
      return stderr.substring(start, m.end()).strip();
    }
    return SshHosts.tail(stderr == null ? "" : stderr);
  }

  /**
   * The failure of a command that exited 127 on {@code host}. {@code tools} maps the tools the
   * command runs to what to change when one is missing; a tool not among them gets the general
   * advice.
   */
  public static ApplicationFailure failure(
      HostRef host, String what, String stderr, Map<String, String> tools) {
    String tool = tool(stderr);
    String fix = tool == null ? null : fixFor(tool, tools);
    String message =
        (tool == null ? "a command" : tool)
            + " was not found on "
            + host.describe()
            + " while "
            + what
            + " (exit 127: "
            + line(stderr)
            + "): "
            + (fix != null
                ? fix
                : "install it there, or give its absolute path in the setting that runs it (a"
                    + " non-interactive SSH session's PATH is not a login shell's)");
    return ApplicationFailure.newNonRetryableFailure(message, "RemoteToolMissing");
  }

  private static String fixFor(String tool, Map<String, String> tools) {
    if (tools == null) {
      return null;
    }
    String exact = tools.get(tool);
    if (exact != null) {
      return exact;
    }
    // A tool configured by its bare name may be reported by the path the command ran it by.
    String base = tool.substring(tool.lastIndexOf('/') + 1);
    for (Map.Entry<String, String> e : tools.entrySet()) {
      if (!e.getKey().contains("/") && e.getKey().equals(base)) {
        return e.getValue();
      }
    }
    return null;
  }
}
