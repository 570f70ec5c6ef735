package dev.crewchief.release;

import java.util.regex.Pattern;

/** Business ids of releases: {@code release-<runbook>-<env>-<version>}. */
public final class ReleaseIds {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
  private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private ReleaseIds() {}

  public static String workflowId(String runbook, String environment, String version) {
    return prefix(runbook, environment) + version;
  }

  /** The id prefix shared by every release of one runbook in one environment. */
  public static String prefix(String runbook, String environment) {
    return "release-" + runbook + "-" + environment + "-";
  }

  /** Checks the parts of an id; the message says what is wrong and what is expected. */
  public static void validate(String runbook, String environment, String version) {
    if (runbook == null || !NAME.matcher(runbook).matches()) {
      throw new IllegalArgumentException(
          "runbook '" + runbook + "' is not a valid name (lower-case letters, digits, dashes)");
    }
    if (environment == null || !NAME.matcher(environment).matches()) {
      throw new IllegalArgumentException(
          "environment '"
              + environment
              + "' is not a valid name (lower-case letters, digits, dashes)");
    }
    if (version == null || !VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException(
          "version '" + version + "' is not valid (letters, digits, '.', '_', '-')");
    }
  }
}
