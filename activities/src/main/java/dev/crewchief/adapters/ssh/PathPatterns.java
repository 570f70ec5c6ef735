package dev.crewchief.adapters.ssh;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Patterns of paths inside a directory, as the upload's excludes and protected paths are written: a
 * pattern without a slash matches any segment of a path ({@code __pycache__}, {@code *.sqlite}),
 * one with a slash the path from the top, or a directory there and everything under it ({@code
 * data/uploads}). {@code *} matches any characters but a slash, {@code ?} one.
 */
final class PathPatterns {
  private final List<Pattern> segment;
  private final List<Pattern> path;

  PathPatterns(List<String> patterns) {
    List<String> all = patterns == null ? List.of() : patterns;
    this.segment = all.stream().filter(p -> !p.contains("/")).map(PathPatterns::glob).toList();
    this.path =
        all.stream()
            .filter(p -> p.contains("/"))
            .map(p -> p.endsWith("/") ? p.substring(0, p.length() - 1) : p)
            .map(PathPatterns::glob)
            .toList();
  }

  /** Whether a path relative to the directory (segments separated by '/') matches. */
  boolean matches(String relative) {
    String[] parts = relative.split("/");
    StringBuilder prefix = new StringBuilder();
    for (String part : parts) {
      for (Pattern p : segment) {
        if (p.matcher(part).matches()) {
          return true;
        }
      }
      prefix.append(prefix.length() == 0 ? "" : "/").append(part);
      for (Pattern p : path) {
        if (p.matcher(prefix).matches()) {
          return true;
        }
      }
    }
    return false;
  }

  private static Pattern glob(String glob) {
    StringBuilder re = new StringBuilder();
    for (char c : glob.toCharArray()) {
      switch (c) {
        case '*' -> re.append("[^/]*");
        case '?' -> re.append("[^/]");
        default -> re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }
}
