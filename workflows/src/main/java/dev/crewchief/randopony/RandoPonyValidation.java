package dev.crewchief.randopony;

import dev.crewchief.activities.HostRef;
import java.util.regex.Pattern;

/** Checks a RandoPony request before any step runs; bad input fails the release at once. */
final class RandoPonyValidation {
  /** RandoPony's release ids: year and release number, e.g. {@code 2014r1}. */
  static final Pattern RELEASE = Pattern.compile("[0-9]{4}r[0-9]+");

  private RandoPonyValidation() {}

  static void check(String release, RandoPonySite site) {
    if (release == null || !RELEASE.matcher(release).matches()) {
      throw new IllegalArgumentException(
          "release '"
              + release
              + "' is not a RandoPony release id (year + r + number, e.g. 2014r1)");
    }
    if (site == null) {
      throw new IllegalArgumentException("no randopony settings for this environment");
    }
    HostRef h = site.host();
    if (h == null || h.address() == null || h.user() == null) {
      throw new IllegalArgumentException("randopony.host must name a configured host");
    }
    absolute("randopony.webappsDir", site.webappsDir());
    absolute("randopony.archiveDir", site.archiveDir());
    absolute("randopony.sourceDir", site.sourceDir());
    site.port(release);
  }

  static void absolute(String key, String path) {
    if (path == null || !path.startsWith("/") || path.contains("/../")) {
      throw new IllegalArgumentException(key + " must be an absolute path, got '" + path + "'");
    }
  }
}
