package dev.crewchief.adapters.git;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pull requests in a range of commits, read from the commit messages GitHub writes when it
 * merges one: a merge commit ("Merge pull request #921 from user/branch", with the pull request's
 * title as the first line of the body) or a squash commit ("Title (#922)"). Other commits (direct
 * pushes, merges of branches) are no pull requests and are left out.
 */
final class MergedPullRequests {
  // The format the review's git log prints: one record per commit, fields separated by US (0x1f),
  // records by RS (0x1e), so that any text in a message is read as it is.
  static final String LOG_FORMAT = "%s%x1f%b%x1e";
  private static final Pattern MERGE = Pattern.compile("^Merge pull request #(\\d+) from (\\S+)");
  private static final Pattern SQUASH = Pattern.compile("^(.*\\S)\\s+\\(#(\\d+)\\)$");

  private MergedPullRequests() {}

  /** "Title #921" for each pull request in the log's output, in its order, each once. */
  static List<String> parse(String log) {
    List<String> out = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (String record : log.split("\u001e")) {
      String r = record.strip();
      if (r.isEmpty()) {
        continue;
      }
      int sep = r.indexOf('\u001f');
      String subject = (sep < 0 ? r : r.substring(0, sep)).strip();
      String body = sep < 0 ? "" : r.substring(sep + 1);
      String number;
      String title;
      Matcher m = MERGE.matcher(subject);
      Matcher s = SQUASH.matcher(subject);
      if (m.find()) {
        number = m.group(1);
        // A merge made without a title in its body (by hand, or an old GitHub) names the branch.
        title =
            body.lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty())
                .findFirst()
                .orElse(m.group(2));
      } else if (s.matches()) {
        number = s.group(2);
        title = s.group(1);
      } else {
        continue;
      }
      if (seen.add(number)) {
        out.add(title + " #" + number);
      }
    }
    return out;
  }
}
