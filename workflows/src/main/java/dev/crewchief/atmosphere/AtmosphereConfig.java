package dev.crewchief.atmosphere;

import dev.crewchief.config.NginxConfig;
import dev.crewchief.config.SmtpConfig;
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
 * @param services the services deployment day handles, in order (default troposphere, atmosphere)
 * @param databases name to the database dumped first on deployment day
 * @param dumpDir where the dumps go on the worker
 * @param proxy the nginx proxy switched to the maintenance page and back
 * @param maintenance the commands that start and stop maintenance inside each service's container
 * @param secrets the secrets checkout brought to its branch on deployment day
 * @param compose the atmosphere-docker checkout and its compose file, whose image tags a release or
 *     hotfix sets (optional; without it the report says the file was left as it was)
 * @param beta the environment deployed first (tested before production), if any
 * @param release what only the production environment's release needs: notice, changelog
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
    Map<String, String> probeUrls,
    List<String> services,
    Map<String, DatabaseConfig> databases,
    String dumpDir,
    ProxyConfig proxy,
    MaintenanceConfig maintenance,
    RepoConfig secrets,
    ComposeConfig compose,
    String beta,
    AtmosphereReleaseConfig release) {

  /** A PostgreSQL database; {@code password} is a secret reference. */
  public record DatabaseConfig(
      String host, Integer port, String database, String user, String password) {}

  /**
   * The proxy host (a name under {@code hosts}), its nginx, the enabled-site {@code link} and the
   * two configs it points at, and what {@code probeUrl} answers in each state.
   */
  public record ProxyConfig(
      String host,
      NginxConfig nginx,
      String link,
      String maintenanceConfig,
      String appConfig,
      String probeUrl,
      String maintenanceText,
      String appText) {}

  /** Per service, the command that starts and the one that stops maintenance in its container. */
  public record MaintenanceConfig(
      Map<String, List<String>> start, Map<String, List<String>> stop) {}

  /** A git clone on the worker. */
  public record RepoConfig(String path, String remote, String branch) {}

  /**
   * The compose project's checkout on the worker ({@code /opt/dev/atmosphere-docker}), the branch
   * it follows, and its compose file relative to it (default {@code docker-compose.prod.yml}).
   */
  public record ComposeConfig(String path, String remote, String branch, String file) {}

  /** The release's calendar: the maintenance message and notice, and the release candidate. */
  public record AtmosphereReleaseConfig(
      String message,
      NoticeConfig notice,
      RepoConfig changelog,
      String changelogFile,
      String authorName,
      String authorEmail,
      Duration imageWait) {}

  /** The maintenance notice: SMTP server, sender, users list, lead time, status page. */
  public record NoticeConfig(
      SmtpConfig smtp,
      String from,
      List<String> to,
      Duration lead,
      String statusPageUrl,
      String statusPageAuth) {}
}
