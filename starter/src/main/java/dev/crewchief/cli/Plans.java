package dev.crewchief.cli;

import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.atmosphere.AtmosphereDeploymentDay;
import dev.crewchief.atmosphere.AtmosphereReleaseRequest;
import dev.crewchief.atmosphere.AtmosphereSite;
import dev.crewchief.atmosphere.CandidatePlan;
import dev.crewchief.atmosphere.DayPlan;
import dev.crewchief.atmosphere.NoticePlan;
import dev.crewchief.config.AtmosphereConfig;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.EnvironmentConfig;
import dev.crewchief.config.HostConfig;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.config.RandoPonyConfig;
import dev.crewchief.randopony.RandoPonySite;
import dev.crewchief.release.ReleaseContext;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
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
    ComposeFileRef compose = null;
    AtmosphereConfig.ComposeConfig cc = a.compose();
    if (cc != null) {
      absolute(config, base + ".compose.path", cc.path());
      require(config, base + ".compose.branch", cc.branch());
      String file = cc.file() == null ? "docker-compose.prod.yml" : cc.file();
      if (file.isBlank() || file.startsWith("/") || List.of(file.split("/")).contains("..")) {
        throw ConfigException.at(
            config.source(),
            base + ".compose.file",
            "expected a path relative to compose.path, e.g. docker-compose.prod.yml, got '"
                + file
                + "'");
      }
      java.nio.file.Path name = java.nio.file.Path.of(cc.path()).getFileName();
      compose =
          new ComposeFileRef(
              new GitRepoRef(
                  name == null ? "compose checkout" : name.toString(),
                  cc.path(),
                  cc.remote(),
                  cc.branch()),
              file);
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
        a.probeUrls() == null ? Map.of() : a.probeUrls(),
        compose);
  }

  /** Deployment day of one environment, from its atmosphere settings. */
  static DayPlan day(LoadedConfig config, String env, boolean testGate) {
    AtmosphereConfig a = config.environment(env).atmosphere();
    String base = "environments." + env + ".atmosphere";
    List<String> services =
        a == null || a.services() == null ? List.of("troposphere", "atmosphere") : a.services();
    AtmosphereSite site = atmosphere(config, env, services);
    if (a.databases() == null || a.databases().isEmpty()) {
      throw ConfigException.at(
          config.source(),
          base + ".databases",
          "missing: name: {host, port, database, user, password}");
    }
    List<DatabaseRef> dbs = new java.util.ArrayList<>();
    for (Map.Entry<String, AtmosphereConfig.DatabaseConfig> d : a.databases().entrySet()) {
      String k = base + ".databases." + d.getKey();
      AtmosphereConfig.DatabaseConfig c = d.getValue();
      require(config, k + ".database", c.database());
      require(config, k + ".user", c.user());
      reference(config, k + ".password", c.password(), true);
      dbs.add(
          new DatabaseRef(
              d.getKey(),
              c.host() == null ? "localhost" : c.host(),
              c.port() == null ? 5432 : c.port(),
              c.database(),
              c.user(),
              c.password()));
    }
    absolute(config, base + ".dumpDir", a.dumpDir());
    AtmosphereConfig.ProxyConfig px = a.proxy();
    if (px == null || px.nginx() == null) {
      throw ConfigException.at(
          config.source(),
          base + ".proxy",
          "missing: host, nginx {pidFile, testCommand, reloadCommand}, link, maintenanceConfig,"
              + " appConfig, probeUrl, maintenanceText, appText");
    }
    HostRef proxyHost = host(config, env, config.environment(env), px.host());
    absolute(config, base + ".proxy.link", px.link());
    absolute(config, base + ".proxy.maintenanceConfig", px.maintenanceConfig());
    absolute(config, base + ".proxy.appConfig", px.appConfig());
    require(config, base + ".proxy.probeUrl", px.probeUrl());
    require(config, base + ".proxy.maintenanceText", px.maintenanceText());
    require(config, base + ".proxy.appText", px.appText());
    require(config, base + ".proxy.nginx.pidFile", px.nginx().pidFile());
    require(config, base + ".proxy.nginx.testCommand", px.nginx().testCommand());
    require(config, base + ".proxy.nginx.reloadCommand", px.nginx().reloadCommand());
    AtmosphereConfig.MaintenanceConfig m = a.maintenance();
    for (String service : services) {
      if (m == null
          || m.start() == null
          || m.stop() == null
          || m.start().get(service) == null
          || m.stop().get(service) == null) {
        throw ConfigException.at(
            config.source(),
            base + ".maintenance",
            "missing: start and stop commands for service '" + service + "'");
      }
    }
    AtmosphereConfig.RepoConfig secrets = a.secrets();
    if (secrets == null) {
      throw ConfigException.at(config.source(), base + ".secrets", "missing: path, remote, branch");
    }
    absolute(config, base + ".secrets.path", secrets.path());
    require(config, base + ".secrets.branch", secrets.branch());
    return new DayPlan(
        env,
        site,
        services,
        dbs,
        a.dumpDir(),
        proxyHost,
        px.nginx(),
        px.link(),
        px.maintenanceConfig(),
        px.appConfig(),
        px.probeUrl(),
        px.maintenanceText(),
        px.appText(),
        m.start(),
        m.stop(),
        new GitRepoRef("secrets", secrets.path(), secrets.remote(), secrets.branch()),
        testGate);
  }

  /** The whole release request for a production environment. */
  static AtmosphereReleaseRequest atmosphereRelease(
      LoadedConfig config,
      ReleaseContext context,
      String crewChief,
      String driver,
      Instant window) {
    String env = context.environment();
    EnvironmentConfig e = config.environment(env);
    String base = "environments." + env + ".atmosphere";
    person(config, env, crewChief);
    person(config, env, driver);
    if (crewChief.equals(driver)) {
      throw new IllegalArgumentException(
          "the crew chief and the driver must be two people (the driver tests, the crew chief"
              + " signs off on beta)");
    }
    AtmosphereConfig a = e.atmosphere();
    if (a == null || a.release() == null) {
      throw ConfigException.at(
          config.source(), base + ".release", "missing: message, notice, changelog");
    }
    AtmosphereConfig.AtmosphereReleaseConfig r = a.release();
    require(config, base + ".release.message", r.message());
    AtmosphereConfig.NoticeConfig n = r.notice();
    if (n == null || n.smtp() == null) {
      throw ConfigException.at(
          config.source(), base + ".release.notice", "missing: smtp {host, port}, from, to");
    }
    require(config, base + ".release.notice.smtp.host", n.smtp().host());
    require(config, base + ".release.notice.from", n.from());
    if (n.to() == null || n.to().isEmpty()) {
      throw ConfigException.at(
          config.source(), base + ".release.notice.to", "missing: the users list address");
    }
    reference(config, base + ".release.notice.smtp.username", n.smtp().username(), false);
    reference(config, base + ".release.notice.smtp.password", n.smtp().password(), false);
    reference(config, base + ".release.notice.statusPageAuth", n.statusPageAuth(), false);
    String security = n.smtp().security() == null ? "starttls" : n.smtp().security();
    if (n.smtp().caFile() != null) {
      absolute(config, base + ".release.notice.smtp.caFile", n.smtp().caFile());
    }
    NoticePlan notice =
        new NoticePlan(
            new MailServerRef(
                env + "-smtp",
                n.smtp().host(),
                n.smtp().port() == null ? 587 : n.smtp().port(),
                security,
                n.smtp().username(),
                n.smtp().password(),
                n.smtp().caFile()),
            n.from(),
            n.to(),
            n.lead() == null ? Duration.ofDays(14) : n.lead(),
            n.statusPageUrl(),
            n.statusPageAuth());
    CandidatePlan candidate = null;
    if (r.changelog() != null) {
      absolute(config, base + ".release.changelog.path", r.changelog().path());
      require(config, base + ".release.changelog.branch", r.changelog().branch());
      candidate =
          new CandidatePlan(
              new GitRepoRef(
                  "changelog",
                  r.changelog().path(),
                  r.changelog().remote(),
                  r.changelog().branch()),
              r.changelogFile() == null ? "CHANGELOG.md" : r.changelogFile(),
              r.authorName(),
              r.authorEmail(),
              r.imageWait() == null ? Duration.ofDays(1) : r.imageWait());
    }
    DayPlan beta = a.beta() == null ? null : day(config, a.beta(), false);
    DayPlan production = day(config, env, true);
    return new AtmosphereReleaseRequest(
        context, crewChief, driver, window, r.message(), notice, candidate, beta, production);
  }

  /**
   * Deployment day alone on one environment ({@code crewchief start atmosphere-deploy}), with the
   * driver's "tested in production" gate. The maintenance title names today's date (UTC), as the
   * runbook's does; the message is the given one, else the release's configured one.
   */
  static AtmosphereDeploymentDay.DayRequest deploymentDay(
      LoadedConfig config, ReleaseContext context, String driver, String message, LocalDate today) {
    String env = context.environment();
    person(config, env, driver);
    DayPlan day = day(config, env, true);
    AtmosphereConfig a = config.environment(env).atmosphere();
    String text = message;
    if (text == null || text.isBlank()) {
      text = a.release() == null ? null : a.release().message();
    }
    if (text == null || text.isBlank()) {
      throw ConfigException.at(
          config.source(),
          "environments." + env + ".atmosphere.release.message",
          "missing: the maintenance message shown during the deployment (or pass --message)");
    }
    String date = today.toString();
    return new AtmosphereDeploymentDay.DayRequest(
        context, day, date, DayPlan.maintenanceTitle(date, context.version()), text);
  }

  /** Checks that a person named on the command line is one of the environment's people. */
  static void person(LoadedConfig config, String env, String person) {
    EnvironmentConfig e = config.environment(env);
    boolean known =
        e.approvers() != null
            && e.approvers().values().stream().anyMatch(l -> l != null && l.contains(person));
    if (!known) {
      throw ConfigException.at(
          config.source(),
          "environments." + env + ".approvers",
          "'"
              + person
              + "' is not one of this environment's people ("
              + String.join(
                  ", ",
                  e.approvers() == null
                      ? List.of()
                      : e.approvers().values().stream().flatMap(List::stream).distinct().toList())
              + ")");
    }
  }

  private static void reference(LoadedConfig config, String key, String ref, boolean required) {
    if (ref == null && !required) {
      return;
    }
    if (ref == null || !(ref.startsWith("file:/") || ref.matches("env:[A-Za-z_][A-Za-z0-9_]*"))) {
      throw ConfigException.at(
          config.source(),
          key,
          "expected a secret reference file:/path or env:VARIABLE (never the secret itself)");
    }
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
