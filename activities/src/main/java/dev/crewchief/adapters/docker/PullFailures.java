package dev.crewchief.adapters.docker;

import dev.crewchief.activities.EngineRef;
import io.temporal.failure.ApplicationFailure;

/**
 * Sorts a failed pull by what the engine said. Engines pass on the registry's answer only as text
 * (in the progress stream, or in the message of an error response), so the text is all there is to
 * go by; the phrases are those of Docker, podman and the registries they talk to.
 */
final class PullFailures {
  private PullFailures() {}

  /**
   * Registries answer "not found" and "denied" alike for a repository that does not exist and one
   * the credentials may not read; neither is fixed by a retry, so both are a non-retryable {@code
   * ImageNotFound}. A registry the engine cannot reach may come back, so that is a retryable {@code
   * RegistryUnreachable}, as is anything not recognised. When {@code awaiting} a tag that CI is
   * still building, a registry that answers the tag is unknown (and does not refuse the login) is a
   * retryable {@code ImageNotPublished}.
   */
  static ApplicationFailure classify(EngineRef engine, String image, String why, boolean awaiting) {
    String m = why.toLowerCase();
    boolean refusedLogin =
        m.contains("unauthorized") || m.contains("authentication required") || m.contains("denied");
    if (awaiting && !refusedLogin && (m.contains("manifest unknown") || m.contains("not found"))) {
      return ApplicationFailure.newFailure(
          "the registry has no " + image + " yet (" + why + "): waiting for its build",
          "ImageNotPublished");
    }
    if (m.contains("connection refused")
        || m.contains("no such host")
        || m.contains("i/o timeout")
        || m.contains("network is unreachable")
        || m.contains("tls handshake timeout")
        || m.contains("connection reset")
        || m.contains("too many requests")) {
      return ApplicationFailure.newFailure(
          "engine " + engine.name() + " could not reach the registry of " + image + ": " + why,
          "RegistryUnreachable");
    }
    if (m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("does not exist")
        || m.contains("name unknown")
        || refusedLogin) {
      return ApplicationFailure.newNonRetryableFailure(
          "image "
              + image
              + " cannot be pulled to engine "
              + engine.name()
              + ": the registry says "
              + why
              + ". Check the image name and tag, and the registry credentials ("
              + (engine.registryAuthRef() == null ? "none configured" : engine.registryAuthRef())
              + ")",
          "ImageNotFound");
    }
    return ApplicationFailure.newFailure(
        "engine " + engine.name() + " could not pull " + image + ": " + why, "RegistryUnreachable");
  }
}
