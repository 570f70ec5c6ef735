package dev.crewchief.adapters.git;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A changelog in the Keep a Changelog format: a {@code ## [Unreleased]} section followed by one
 * {@code ## [version] - date} section per release, newest first. Both common ways of linking the
 * versions are kept up to date on a cut: an inline compare link in the heading ({@code ##
 * [Unreleased](https://host/compare/v36-0...HEAD)}), and link reference definitions at the end of
 * the file ({@code [Unreleased]: https://host/compare/v36-0...HEAD}). Line endings are kept.
 */
final class Changelog {
  private static final Pattern UNRELEASED =
      Pattern.compile(
          "^##\\s+\\[unreleased\\](?:\\((?<url>[^)]*)\\))?.*$", Pattern.CASE_INSENSITIVE);
  private static final Pattern SECTION = Pattern.compile("^##(?!#).*$");
  private static final Pattern LINK_DEF =
      Pattern.compile("^\\[(?<name>[^\\]]+)\\]:\\s*(?<url>\\S+).*$");
  private static final Pattern COMPARE_HEAD =
      Pattern.compile("^(?<base>.*/compare/)(?<prev>.+)\\.\\.\\.HEAD$");

  private final List<String> lines;
  private final String eol;
  private final boolean finalNewline;
  private final int heading;
  private final int bodyStart;
  private final int bodyEnd;

  private Changelog(List<String> lines, String eol, boolean finalNewline, int heading, int end) {
    this.lines = lines;
    this.eol = eol;
    this.finalNewline = finalNewline;
    this.heading = heading;
    this.bodyStart = heading + 1;
    this.bodyEnd = end;
  }

  /** Parses a changelog, or returns null when it has no {@code ## [Unreleased]} heading. */
  static Changelog parse(String text) {
    String eol = text.contains("\r\n") ? "\r\n" : "\n";
    boolean finalNewline = text.endsWith("\n");
    List<String> lines = new ArrayList<>(List.of(text.split("\r?\n", -1)));
    if (finalNewline) {
      lines.remove(lines.size() - 1);
    }
    int heading = -1;
    for (int i = 0; i < lines.size() && heading < 0; i++) {
      if (UNRELEASED.matcher(lines.get(i)).matches()) {
        heading = i;
      }
    }
    if (heading < 0) {
      return null;
    }
    int end = heading + 1;
    while (end < lines.size() && !SECTION.matcher(lines.get(end)).matches()) {
      end++;
    }
    // The link reference definitions at the end of the file follow the last section without a
    // heading of their own: they are not entries.
    while (end > heading + 1
        && (lines.get(end - 1).isBlank() || LINK_DEF.matcher(lines.get(end - 1)).matches())) {
      end--;
    }
    return new Changelog(lines, eol, finalNewline, heading, end);
  }

  /** The Unreleased section's lines, without the blank lines around them. */
  List<String> unreleasedLines() {
    int s = bodyStart;
    int e = bodyEnd;
    while (s < e && lines.get(s).isBlank()) {
      s++;
    }
    while (e > s && lines.get(e - 1).isBlank()) {
      e--;
    }
    return List.copyOf(lines.subList(s, e));
  }

  /** The Unreleased entries: its lines other than blank lines, sub-headings and comments. */
  List<String> entries() {
    return unreleasedLines().stream()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith("<!--"))
        .toList();
  }

  /** Whether there is a {@code ## [version]} section. */
  boolean hasRelease(String version) {
    return lines.stream()
        .anyMatch(l -> l.matches("^##\\s+\\[" + Pattern.quote(version) + "\\].*$"));
  }

  /** The heading a cut writes for the release, without its link. */
  static String releaseHeading(String version) {
    return "## [" + version + "]";
  }

  /**
   * The changelog after the cut: an empty Unreleased section, then {@code ## [version] - date} with
   * the entries, then the rest as it was; compare links now start from {@code tag}.
   */
  String cut(String version, String tag, String date) {
    List<String> out = new ArrayList<>(lines.subList(0, heading));
    String unreleased = lines.get(heading);
    String release = releaseHeading(version);
    Matcher h = UNRELEASED.matcher(unreleased);
    h.matches();
    Matcher inline = h.group("url") == null ? null : COMPARE_HEAD.matcher(h.group("url"));
    if (inline != null && inline.matches()) {
      unreleased = unreleased.replace(h.group("url"), inline.group("base") + tag + "...HEAD");
      release += "(" + inline.group("base") + inline.group("prev") + "..." + tag + ")";
    }
    out.add(unreleased);
    out.add("");
    out.add(release + " - " + date);
    out.addAll(unreleasedLines());
    out.add("");
    int rest = bodyEnd;
    while (rest < lines.size() && lines.get(rest).isBlank()) {
      rest++;
    }
    for (String line : lines.subList(rest, lines.size())) {
      Matcher def = LINK_DEF.matcher(line);
      Matcher cmp = def.matches() ? COMPARE_HEAD.matcher(def.group("url")) : null;
      if (cmp != null && cmp.matches() && def.group("name").equalsIgnoreCase("unreleased")) {
        out.add(line.replace(def.group("url"), cmp.group("base") + tag + "...HEAD"));
        out.add("[" + version + "]: " + cmp.group("base") + cmp.group("prev") + "..." + tag);
      } else {
        out.add(line);
      }
    }
    while (!out.isEmpty() && out.get(out.size() - 1).isBlank()) {
      out.remove(out.size() - 1);
    }
    return String.join(eol, out) + (finalNewline ? eol : "");
  }
}
