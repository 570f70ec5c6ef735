package dev.crewchief.randopony;

import dev.crewchief.config.NginxConfig;
import java.util.List;
import java.util.Map;

/**
 * The RandoPony layout on its shared host (the runbook's fabfile module variables). Each release is
 * an app directory {@code webappsDir/appName+release} with its own port, like the hosting control
 * panel's apps.
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
    NginxConfig nginx) {}
