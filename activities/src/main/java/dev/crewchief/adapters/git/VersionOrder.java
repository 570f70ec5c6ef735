package dev.crewchief.adapters.git;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Release tags in version order, as {@code git tag --sort=version:refname} orders them: runs of
 * digits compare as numbers ({@code 1.10.0} after {@code 1.9.3}), everything else as text. Tags are
 * not ordered by date because a hotfix tag made on the release branch after a newer version was
 * tagged is still the older release. Pre-releases ({@code 1.7.6-rc1}) sort after their release, as
 * they do for git without {@code versionsort.suffix}: a tag pattern should leave them out.
 */
final class VersionOrder implements Comparator<String> {
  static final VersionOrder INSTANCE = new VersionOrder();
  private static final Pattern PART = Pattern.compile("\\d+|\\D+");

  private VersionOrder() {}

  @Override
  public int compare(String a, String b) {
    List<String> x = parts(a);
    List<String> y = parts(b);
    for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
      String p = x.get(i);
      String q = y.get(i);
      boolean pn = Character.isDigit(p.charAt(0));
      boolean qn = Character.isDigit(q.charAt(0));
      int c;
      if (pn && qn) {
        c = new BigInteger(p).compareTo(new BigInteger(q));
      } else if (pn != qn) {
        // A number outranks text at the same place: 2.0.10 comes after 2.0.x.
        c = pn ? 1 : -1;
      } else {
        c = p.compareTo(q);
      }
      if (c != 0) {
        return c;
      }
    }
    int c = Integer.compare(x.size(), y.size());
    return c != 0 ? c : a.compareTo(b);
  }

  private static List<String> parts(String s) {
    List<String> out = new ArrayList<>();
    Matcher m = PART.matcher(s);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }
}
