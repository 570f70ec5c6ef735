package dev.crewchief.atmosphere;

import java.util.regex.Pattern;

/** Checks of the workflow input that fail the release at once with a message saying what to fix. */
final class AtmosphereValidation {
  /** The runbook's Major-Minor release identifier: 34-0, 36-1. */
  static final Pattern VERSION = Pattern.compile("[0-9]+-[0-9]+");

  private AtmosphereValidation() {}

  static void version(String version) {
    if (version == null || !VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException(
          "version '" + version + "' is not an Atmosphere release: Major-Minor, e.g. 36-1");
    }
  }

  static void site(AtmosphereSite site) {
    if (site == null
        || site.engine() == null
        || site.project() == null
        || site.project().isBlank()
        || site.images() == null
        || site.images().isEmpty()) {
      throw new IllegalArgumentException(
          "the Atmosphere settings need an engine, a compose project and image repositories");
    }
  }
}
