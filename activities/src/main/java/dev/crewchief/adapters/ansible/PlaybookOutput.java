package dev.crewchief.adapters.ansible;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crewchief.activities.AnsibleActivities.HostRecap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code ansible-playbook} printed, read line by line as it runs (its {@code default} stdout
 * callback, without colours): the task being run, the tasks that failed, the recap, and the last
 * lines. Fed from the output's reader thread and read from the activity's, hence synchronized.
 */
final class PlaybookOutput {
  static final int TAIL_LINES = 60;
  private static final int LINE_MAX = 500;
  private static final int FAILURE_MAX = 400;

  private static final Pattern TASK =
      Pattern.compile("^(TASK|RUNNING HANDLER) \\[(.*)\\] \\**\\s*$");
  // "fatal: [web-1]: FAILED! => {...}", "fatal: [web-1]: UNREACHABLE! => {...}", and in a loop
  // "failed: [web-1] (item=x) => {...}" for each item that failed.
  private static final Pattern FAILED =
      Pattern.compile("^(fatal|failed): \\[([^\\]]+)\\](.*?)=> (.*)$");
  private static final Pattern RECAP_LINE =
      Pattern.compile(
          "^(\\S+)\\s+: ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)"
              + "\\s+skipped=(\\d+).*$");
  private static final ObjectMapper json = new ObjectMapper();

  /** A task that failed on a host: the task's header and the shortened failure line. */
  record Failure(String task, String line) {
    String describe() {
      return (task == null ? "" : task + " ") + line;
    }
  }

  private final Deque<String> tail = new ArrayDeque<>();
  private final List<Failure> failures = new ArrayList<>();
  private final List<HostRecap> recap = new ArrayList<>();
  private final List<String> errors = new ArrayList<>();
  private String task;
  private int tasks;
  private boolean inRecap;

  synchronized void accept(String raw) {
    String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
    tail.addLast(shorten(line, LINE_MAX));
    while (tail.size() > TAIL_LINES) {
      tail.removeFirst();
    }
    Matcher m;
    if ((m = TASK.matcher(line)).matches()) {
      task = m.group(1) + " [" + m.group(2) + "]";
      tasks++;
      inRecap = false;
    } else if (line.startsWith("PLAY RECAP ")) {
      inRecap = true;
    } else if (line.startsWith("PLAY [")) {
      inRecap = false;
    } else if (inRecap && (m = RECAP_LINE.matcher(line)).matches()) {
      recap.add(
          new HostRecap(
              m.group(1),
              Integer.parseInt(m.group(2)),
              Integer.parseInt(m.group(3)),
              Integer.parseInt(m.group(4)),
              Integer.parseInt(m.group(5)),
              Integer.parseInt(m.group(6))));
    } else if ((m = FAILED.matcher(line)).matches()) {
      failures.add(new Failure(task, shortFailure(m)));
    } else if (line.equals("...ignoring") && !failures.isEmpty()) {
      // ignore_errors: the task failed and the play went on; not a failure of the run.
      failures.remove(failures.size() - 1);
    } else if (line.startsWith("ERROR! ")) {
      errors.add(shorten(line, FAILURE_MAX));
    }
  }

  synchronized String task() {
    return task;
  }

  synchronized int tasks() {
    return tasks;
  }

  synchronized List<Failure> failures() {
    return List.copyOf(failures);
  }

  synchronized List<HostRecap> recap() {
    return List.copyOf(recap);
  }

  /** The lines starting with {@code ERROR!}: what ansible-playbook says when it cannot begin. */
  synchronized List<String> errors() {
    return List.copyOf(errors);
  }

  synchronized String tail() {
    return String.join("\n", tail);
  }

  /** The last {@code n} lines. */
  synchronized String tail(int n) {
    List<String> all = new ArrayList<>(tail);
    return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
  }

  static String describe(HostRecap r) {
    return r.host()
        + " ok="
        + r.ok()
        + " changed="
        + r.changed()
        + " unreachable="
        + r.unreachable()
        + " failed="
        + r.failed()
        + " skipped="
        + r.skipped();
  }

  /**
   * The failure line with its result cut down to what says why: a module's result is a JSON object
   * of which {@code msg}, {@code rc} and the end of {@code stderr} (or {@code stdout}) tell it; the
   * rest (the command, timings, every stdout line again) only makes the message long.
   */
  private static String shortFailure(Matcher m) {
    String head = m.group(1) + ": [" + m.group(2) + "]" + m.group(3) + "=> ";
    String result = m.group(4).strip();
    try {
      JsonNode n = json.readTree(result);
      if (n != null && n.isObject()) {
        List<String> parts = new ArrayList<>();
        for (String field : List.of("msg", "rc", "stderr", "stdout")) {
          JsonNode v = n.get(field);
          if (v == null || v.isNull() || v.asText().isBlank()) {
            continue;
          }
          if (field.equals("stdout")
              && n.hasNonNull("stderr")
              && !n.get("stderr").asText().isBlank()) {
            continue;
          }
          String text = v.isValueNode() ? v.asText() : v.toString();
          if (field.startsWith("std")) {
            text = text.strip();
            text = text.length() > 200 ? "..." + text.substring(text.length() - 200) : text;
          }
          parts.add(field + ": " + text.strip());
        }
        if (!parts.isEmpty()) {
          return shorten(head + String.join("; ", parts), FAILURE_MAX);
        }
      }
    } catch (Exception notJson) {
      // Not a JSON result (another callback's format): the line as it is, shortened.
    }
    return shorten(head + result, FAILURE_MAX);
  }

  static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
