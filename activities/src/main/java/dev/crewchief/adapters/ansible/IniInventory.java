package dev.crewchief.adapters.ansible;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * An Ansible INI inventory as text, edited in place: a host's {@code ansible_host} is set (or
 * removed) on the lines that name the host, and every other character of the file stays as it was.
 *
 * <p>The text is held as ISO-8859-1, one char per byte, so that whatever encoding the file has (and
 * its line endings, comments, spacing) survives an edit byte for byte; the values this class writes
 * are ASCII.
 *
 * <p>What a host line is follows Ansible's INI parser: inside a group section ({@code [web]}, or
 * before any section: the ungrouped hosts), but not in {@code [group:vars]} or {@code
 * [group:children]}, a line whose first word is the host's name, followed by {@code key=value}
 * variables (values may be quoted) and possibly a {@code #} comment. A host may be listed in
 * several groups; its variables are merged, so the lines that set {@code ansible_host} are the ones
 * changed, and when none does the variable is added to the first line that names the host.
 */
final class IniInventory {
  private static final String VAR = "ansible_host";

  /** A host line: where it starts in the text, how long it is without its line end. */
  private record HostLine(int start, int length) {}

  /** An {@code ansible_host=value} word of a line: where it starts and ends, and its value. */
  private record Assignment(int start, int end, String value) {}

  private final String text;
  private final String host;
  private final List<HostLine> lines;

  private IniInventory(String text, String host, List<HostLine> lines) {
    this.text = text;
    this.host = host;
    this.lines = lines;
  }

  /** The inventory {@code text} (bytes as ISO-8859-1) with the lines naming {@code host}. */
  static IniInventory parse(String text, String host) {
    List<HostLine> found = new ArrayList<>();
    boolean hostSection = true; // before any section header: the ungrouped hosts
    int pos = 0;
    while (pos < text.length()) {
      int nl = text.indexOf('\n', pos);
      int end = nl < 0 ? text.length() : nl;
      int bodyEnd = end > pos && text.charAt(end - 1) == '\r' ? end - 1 : end;
      String line = text.substring(pos, bodyEnd);
      String t = line.strip();
      if (t.startsWith("[")) {
        int close = t.indexOf(']');
        String section = close > 0 ? t.substring(1, close) : t.substring(1);
        // [group:vars] and [group:children] list variables and groups, not hosts; any other
        // section is a group of hosts ([group:hosts] is the long form of [group]).
        hostSection = !section.contains(":") || section.endsWith(":hosts");
      } else if (hostSection && !t.isEmpty() && !t.startsWith("#") && !t.startsWith(";")) {
        int lead = line.length() - line.stripLeading().length();
        if (firstWord(line, lead).equals(host)) {
          found.add(new HostLine(pos, bodyEnd - pos));
        }
      }
      pos = nl < 0 ? text.length() : nl + 1;
    }
    return new IniInventory(text, host, found);
  }

  /** Whether any line names the host. */
  boolean hasHost() {
    return !lines.isEmpty();
  }

  /**
   * The address the host's lines give it, or null when none sets one.
   *
   * @throws IllegalStateException when its lines give it different addresses (which one Ansible
   *     uses depends on the order it reads the groups in: a person should sort that out)
   */
  String address() {
    Set<String> values = new LinkedHashSet<>();
    for (HostLine l : lines) {
      for (Assignment a : assignments(l)) {
        values.add(a.value());
      }
    }
    if (values.size() > 1) {
      throw new IllegalStateException(
          "host " + host + " is given different ansible_host values on its lines: " + values);
    }
    return values.isEmpty() ? null : values.iterator().next();
  }

  /**
   * The text with the host's {@code ansible_host} set to {@code address} on every line that sets it
   * (added after the host name on its first line when none does), or removed when {@code address}
   * is null. Everything else is unchanged.
   */
  String withAddress(String address) {
    List<int[]> cuts = new ArrayList<>(); // [start, end] of the text replaced, in order
    List<String> inserts = new ArrayList<>();
    for (HostLine l : lines) {
      for (Assignment a : assignments(l)) {
        if (address != null) {
          cuts.add(new int[] {a.start(), a.end()});
          inserts.add(VAR + "=" + address);
        } else {
          // The word and the blanks before it, so that no trailing blank is left behind.
          int from = a.start();
          while (from > l.start() && isBlank(text.charAt(from - 1))) {
            from--;
          }
          cuts.add(new int[] {from, a.end()});
          inserts.add("");
        }
      }
    }
    if (cuts.isEmpty() && address != null && !lines.isEmpty()) {
      HostLine first = lines.get(0);
      String line = text.substring(first.start(), first.start() + first.length());
      int lead = line.length() - line.stripLeading().length();
      int at = first.start() + lead + firstWord(line, lead).length();
      cuts.add(new int[] {at, at});
      inserts.add(" " + VAR + "=" + address);
    }
    StringBuilder out = new StringBuilder(text.length() + 32);
    int pos = 0;
    for (int i = 0; i < cuts.size(); i++) {
      out.append(text, pos, cuts.get(i)[0]).append(inserts.get(i));
      pos = cuts.get(i)[1];
    }
    return out.append(text, pos, text.length()).toString();
  }

  /** The {@code ansible_host=} words of a host line (after the name, before any comment). */
  private List<Assignment> assignments(HostLine l) {
    List<Assignment> out = new ArrayList<>();
    int end = l.start() + l.length();
    int i = l.start();
    boolean first = true;
    while (i < end) {
      while (i < end && isBlank(text.charAt(i))) {
        i++;
      }
      if (i >= end || text.charAt(i) == '#') {
        break; // a comment runs to the end of the line
      }
      int start = i;
      StringBuilder value = new StringBuilder();
      char quote = 0;
      boolean comment = false;
      while (i < end && (quote != 0 || !isBlank(text.charAt(i)))) {
        char c = text.charAt(i);
        if (quote == 0 && c == '#') {
          // As in Ansible's parser (shlex with comments), an unquoted # starts a comment even
          // inside a word.
          comment = true;
          break;
        }
        if (quote != 0 && c == quote) {
          quote = 0;
        } else if (quote == 0 && (c == '"' || c == '\'')) {
          quote = c;
        } else {
          value.append(c);
        }
        i++;
      }
      String word = value.toString();
      if (!first && word.startsWith(VAR + "=")) {
        out.add(new Assignment(start, i, word.substring(VAR.length() + 1)));
      }
      first = false;
      if (comment) {
        break;
      }
    }
    return out;
  }

  private static String firstWord(String line, int from) {
    int i = from;
    while (i < line.length() && !isBlank(line.charAt(i)) && line.charAt(i) != '#') {
      i++;
    }
    return line.substring(from, i);
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }
}
