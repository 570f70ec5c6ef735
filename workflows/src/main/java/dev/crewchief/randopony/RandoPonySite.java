package dev.crewchief.randopony;

import dev.crewchief.activities.HostRef;
import dev.crewchief.config.NginxConfig;
import java.util.List;
import java.util.Map;

/**
 * The RandoPony layout resolved from config for one environment (no secrets: the host carries a key
 * reference). Part of the workflow input, so the history shows where the release acted. {@code
 * layout} is how the app's source is laid out and installed; histories recorded before it existed
 * have none, and read the layout every release had then ({@link RandoPonyLayout#defaults}).
 */
public record RandoPonySite(
    HostRef host,
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
    RandoPonyLayout layout) {

  /** The site of a source laid out as the project's stand-in is. */
  public RandoPonySite(
      HostRef host,
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
      NginxConfig nginx) {
    this(
        host,
        appName,
        webappsDir,
        sourceDir,
        codeDirName,
        python,
        supervisord,
        supervisorctl,
        archiveDir,
        stagingDomain,
        productionDomain,
        templateFiles,
        releasePorts,
        nginx,
        null);
  }

  @Override
  public RandoPonyLayout layout() {
    return layout == null ? RandoPonyLayout.defaults(appName) : layout;
  }

  public String appDir(String release) {
    return webappsDir + "/" + appName + release;
  }

  public String codeDir(String release) {
    return appDir(release) + "/" + codeDirName;
  }

  public String venv(String release) {
    return appDir(release) + "/venv";
  }

  public String supervisorConf(String release) {
    return codeDir(release) + "/" + layout().supervisorConf();
  }

  /** The port the hosting gave the release's app. */
  public int port(String release) {
    Integer port = releasePorts == null ? null : releasePorts.get(release);
    if (port == null) {
      throw new IllegalArgumentException(
          "release '"
              + release
              + "' has no port under randopony.releasePorts: add the port the hosting assigned to"
              + " app "
              + appName
              + release);
    }
    return port;
  }

  public static String database(String kind) {
    return "RandoPony-" + kind + ".sqlite";
  }

  public static final String CELERY_DB = "celery.sqlite";
  public static final List<String> LOGS = List.of("supervisord.log", "celery.log", "pyramid.log");
}
