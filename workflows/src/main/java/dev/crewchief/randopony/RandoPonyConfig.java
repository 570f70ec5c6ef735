package dev.crewchief.randopony;

import dev.crewchief.config.NginxConfig;
import java.util.List;
import java.util.Map;

/**
 * The RandoPony layout on its shared host (the runbook's fabfile module variables). Each release is
 * an app directory {@code webappsDir/appName+release} with its own port, like the hosting control
 * panel's apps.
 *
 * <p>How the app's source is laid out, and where pip gets its dependencies, differ from app to app;
 * the keys after {@code nginx} say so, each with a default that fits the RandoPony stand-in of the
 * sandbox (see deploy/examples/randopony.yaml and the README's RandoPony section).
 */
public record RandoPonyConfig(
    String host,
    String appName,
    String webappsDir,
    String sourceDir,
    String codeDirName,
    String python,
    String supervisord,
    String supervisorctl,
    String archiveDir,
    String stagingDomain,
    String productionDomain,
    List<String> templateFiles,
    Map<String, Integer> releasePorts,
    NginxConfig nginx,
    String distribution,
    String packageDir,
    List<String> credentialFiles,
    String supervisorConf,
    Packages packages,
    Upload upload,
    Probe probe) {

  /**
   * Where pip gets the app's dependencies (and a pyproject.toml app's build backend): at most one
   * of an index URL or a wheelhouse directory inside the source (uploaded with it); neither means
   * the host's own pip configuration (PyPI, or what its pip.conf names).
   */
  public record Packages(String indexUrl, String wheelhouse) {}

  /**
   * What the upload leaves alone on the host: {@code exclude} is what is not part of the code
   * (version control, build output), {@code protect} the app's own data (databases, logs); both are
   * neither uploaded nor deleted. Each has its own default, so setting one keeps the other's.
   */
  public record Upload(List<String> exclude, List<String> protect) {}

  /**
   * What tells that the app serves: the HTTP status, and a text its page contains ({@code
   * {release}} and {@code {appName}} are replaced); no text means the status alone.
   */
  public record Probe(Integer status, String text) {}
}
