package dev.crewchief.cli;

import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.atmosphere.AtmosphereSite;
import dev.crewchief.config.AtmosphereConfig;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.EnvironmentConfig;
import dev.crewchief.config.HostConfig;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.config.RandoPonyConfig;
import dev.crewchief.randopony.RandoPonySite;
import dev.crewchief.release.ReleaseContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Resolves config into workflow inputs. Every problem names the file and the key to fix, and is
 * found before a workflow starts.
 */
final class Plans {
  private Plans() {}

  static ReleaseContext context(
      LoadedConfig config,
      String runbook,
      String env,
      String version,
      boolean dryRun,
      String startedBy,
      List<String> searchAttributes) {
    EnvironmentConfig e = config.environment(env);
    if (e.approvers() == null || e.approvers().isEmpty()) {
      throw ConfigException.at(
          config.source(), "environments." + env + ".approvers", "expected role: [people]");
    }
    return new ReleaseContext(
        runbook,
        env,
        version,
        dryRun,
        startedBy,
        e.approvers(),
        e.gates() == null ? Map.of() : e.gates(),
        searchAttributes);
  }

  static RandoPonySite randopony(LoadedConfig config, String env, List<String> releases) {
    EnvironmentConfig e = config.environment(env);
    String base = "environments." + env + ".randopony";
    RandoPonyConfig rp = e.randopony();
    if (rp == null) {
      throw ConfigException.at(
          config.source(), base, "missing: this environment has no RandoPony settings");
    }
    require(config, base + ".host", rp.host());
    require(config, base + ".appName", rp.appName());
    absolute(config, base + ".webappsDir", rp.webappsDir());
    absolute(config, base + ".sourceDir", rp.sourceDir());
    absolute(config, base + ".archiveDir", rp.archiveDir());
    require(config, base + ".stagingDomain", rp.stagingDomain());
    require(config, base + ".productionDomain", rp.productionDomain());
    if (rp.nginx() == null) {
      throw ConfigException.at(
          config.source(),
          base + ".nginx",
          "missing: sitesDir, listen, pidFile, testCommand, reloadCommand, probeUrl");
    }
    require(config, base + ".nginx.sitesDir", rp.nginx().sitesDir());
    require(config, base + ".nginx.listen", rp.nginx().listen());
    require(config, base + ".nginx.pidFile", rp.nginx().pidFile());
    require(config, base + ".nginx.testCommand", rp.nginx().testCommand());
    require(config, base + ".nginx.reloadCommand", rp.nginx().reloadCommand());
    require(config, base + ".nginx.probeUrl", rp.nginx().probeUrl());
    for (String r : releases) {
      if (rp.releasePorts() == null || !rp.releasePorts().containsKey(r)) {
        throw ConfigException.at(
            config.source(),
            base + ".releasePorts." + r,
            "missing: add the port the hosting assigned to app " + rp.appName() + r);
      }
    }
    HostRef host = host(config, env, e, rp.host());
    return new RandoPonySite(
        host,
        rp.appName(),
        rp.webappsDir(),
        rp.sourceDir(),
        rp.codeDirName() == null ? "randopony-tetra" : rp.codeDirName(),
        rp.python() == null ? "python3" : rp.python(),
        rp.supervisord() == null ? "supervisord" : rp.supervisord(),
        rp.supervisorctl() == null ? "supervisorctl" : rp.supervisorctl(),
        rp.archiveDir(),
        rp.stagingDomain(),
        rp.productionDomain(),
        rp.templateFiles() == null ? List.of() : rp.templateFiles(),
        rp.releasePorts(),
        rp.nginx());
  }

  static AtmosphereSite atmosphere(LoadedConfig config, String env, List<String> services) {
    EnvironmentConfig e = config.environment(env);
    String base = "environments." + env + ".atmosphere";
    AtmosphereConfig a = e.atmosphere();
    if (a == null) {
      throw ConfigException.at(
          config.source(), base, "missing: this environment has no Atmosphere settings");
    }
    if (a.engine() == null) {
      throw ConfigException.at(config.source(), base + ".engine", "missing: host (and tlsCertDir)");
    }
    require(config, base + ".engine.host", a.engine().host());
    if (!a.engine().host().matches("(unix|tcp|npipe)://.+")) {
      throw ConfigException.at(
          config.source(),
          base + ".engine.host",
          "expected a Docker host URI such as unix:///var/run/docker.sock or tcp://host:2376, got '"
              + a.engine().host()
              + "'");
    }
    String auth = a.engine().registryAuth();
    if (auth != null
        && !(auth.startsWith("file:/") || auth.matches("env:[A-Za-z_][A-Za-z0-9_]*"))) {
      throw ConfigException.at(
          config.source(),
          base + ".engine.registryAuth",
          "expected a secret reference file:/path or env:VARIABLE (never the credentials)");
    }
    require(config, base + ".project", a.project());
    if (a.images() == null || a.images().isEmpty()) {
      throw ConfigException.at(
          config.source(),
          base + ".images",
          "missing: service: image repository, e.g. atmosphere: cyverse/atmosphere");
    }
    for (String service : services) {
      if (!a.images().containsKey(service)) {
        throw ConfigException.at(
            config.source(),
            base + ".images." + service,
            "missing: no image repository for service '"
                + service
                + "' (configured: "
                + String.join(", ", a.images().keySet())
                + ")");
      }
    }
    String policy = a.pullPolicy() == null ? "always" : a.pullPolicy();
    if (!policy.equals("always") && !policy.equals("missing")) {
      throw ConfigException.at(
          config.source(),
          base + ".pullPolicy",
          "expected always or missing, got '" + policy + "'");
    }
    return new AtmosphereSite(
        new EngineRef(env + "-docker", a.engine().host(), a.engine().tlsCertDir(), auth),
        a.project(),
        a.images(),
        a.tagPrefix() == null ? "v" : a.tagPrefix(),
        a.proxyService(),
        a.proxyRestartCommand() == null
            ? List.of("service", "nginx", "restart")
            : a.proxyRestartCommand(),
        policy.equals("missing"),
        a.readyTimeout() == null ? Duration.ofMinutes(10) : a.readyTimeout(),
        a.probeUrls() == null ? Map.of() : a.probeUrls());
  }

  static HostRef host(LoadedConfig config, String env, EnvironmentConfig e, String name) {
    String key = "environments." + env + ".hosts." + name;
    HostConfig h = e.hosts() == null ? null : e.hosts().get(name);
    if (h == null) {
      throw ConfigException.at(config.source(), key, "no such host is configured");
    }
    require(config, key + ".address", h.address());
    require(config, key + ".user", h.user());
    require(config, key + ".knownHosts", h.knownHosts());
    String ref = h.privateKey();
    if (ref == null || !(ref.startsWith("file:/") || ref.matches("env:[A-Za-z_][A-Za-z0-9_]*"))) {
      throw ConfigException.at(
          config.source(),
          key + ".privateKey",
          "expected a secret reference file:/path/to/key or env:VARIABLE (never the key itself), got '"
              + (ref == null ? "" : ref.length() > 12 ? ref.substring(0, 12) + "..." : ref)
              + "'");
    }
    int port = h.port() == null ? 22 : h.port();
    return new HostRef(name, h.address(), port, h.user(), ref, h.knownHosts());
  }

  private static void require(LoadedConfig config, String key, String value) {
    if (value == null || value.isBlank()) {
      throw ConfigException.at(config.source(), key, "missing");
    }
  }

  private static void absolute(LoadedConfig config, String key, String value) {
    require(config, key, value);
    if (!value.startsWith("/")) {
      throw ConfigException.at(
          config.source(), key, "expected an absolute path, got '" + value + "'");
    }
  }
}
