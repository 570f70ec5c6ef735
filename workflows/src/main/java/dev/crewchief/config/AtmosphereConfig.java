package dev.crewchief.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Atmosphere and Troposphere in docker-compose on one Docker engine (the runbook's {@code
 * atmosphere-docker} checkout).
 *
 * @param engine the Docker engine the compose project runs on
 * @param project the compose project name (label com.docker.compose.project)
 * @param images service name to its image repository, e.g. atmosphere: cyverse/atmosphere
 * @param tagPrefix put before the Major-Minor version to make the image tag (default "v": v36-1)
 * @param proxyService the service whose nginx is restarted after a container swap (troposphere)
 * @param proxyRestartCommand the command run in it (default: service nginx restart)
 * @param pullPolicy "always" (default) pulls the tag from the registry; "missing" uses an image
 *     already on the engine when there is one
 * @param readyTimeout how long a new container may take to become healthy (default 10 minutes)
 * @param probeUrls service name to a URL answering 2xx when a new container of it is ready, for
 *     images without a healthcheck
 */
public record AtmosphereConfig(
    DockerEngineConfig engine,
    String project,
    Map<String, String> images,
    String tagPrefix,
    String proxyService,
    List<String> proxyRestartCommand,
    String pullPolicy,
    Duration readyTimeout,
    Map<String, String> probeUrls) {}
