package dev.crewchief.atmosphere;

import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ServiceRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The Atmosphere deployment as a workflow sees it, resolved from config by the CLI. It holds no
 * secret: the registry credentials travel as a reference inside {@link EngineRef}.
 */
public record AtmosphereSite(
    EngineRef engine,
    String project,
    Map<String, String> images,
    String tagPrefix,
    String proxyService,
    List<String> proxyRestartCommand,
    boolean pullIfMissingOnly,
    Duration readyTimeout,
    Map<String, String> probeUrls) {

  public ServiceRef service(String name) {
    return new ServiceRef(engine, project, name);
  }

  /** The image of a service at a Major-Minor version, e.g. cyverse/atmosphere:v36-1. */
  public String image(String service, String version) {
    String repo = images.get(service);
    if (repo == null) {
      throw new IllegalArgumentException(
          "no image repository is configured for service '"
              + service
              + "'; services with images: "
              + String.join(", ", images.keySet()));
    }
    return repo + ":" + (tagPrefix == null ? "" : tagPrefix) + version;
  }

  public String probeUrl(String service) {
    return probeUrls == null ? null : probeUrls.get(service);
  }
}
