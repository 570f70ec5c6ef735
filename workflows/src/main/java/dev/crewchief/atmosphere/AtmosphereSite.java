package dev.crewchief.atmosphere;

import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ServiceRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The Atmosphere deployment as a workflow sees it, resolved from config by the CLI. It holds no
 * secret: the registry credentials travel as a reference inside {@link EngineRef}.
 *
 * @param compose the project's compose file (docker-compose.prod.yml in the atmosphere-docker
 *     checkout), whose image tags a release or hotfix updates so that later compose commands keep
 *     the new images; null when not configured (the release then says the file was left as it was)
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
    Map<String, String> probeUrls,
    ComposeFileRef compose) {

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
