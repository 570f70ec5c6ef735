package dev.crewchief.runbook;

import java.util.regex.Pattern;

/**
 * The form of a runbook's versions: RandoPony's year and release number (2014r1), Atmosphere's
 * Major-Minor (36-1). Release ids end with the version, so the form also tells where an id's
 * environment ends.
 */
public record VersionFormat(String regex, String example, String description) {

  public boolean matches(String version) {
    return version != null && Pattern.matches(regex, version);
  }

  /** Throws an IllegalArgumentException that says what a version of this form looks like. */
  public void check(String what, String version) {
    if (!matches(version)) {
      throw new IllegalArgumentException(
          what + " '" + version + "' is not " + description + ", e.g. " + example);
    }
  }
}
