package dev.crewchief.atmosphere;

import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.VersionFormat;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Atmosphere settings of an environment resolved into the workflows' input. Every problem names
 * the file and the key to fix, and is found before a workflow starts.
 */
final class AtmospherePlans {
  static final ConfigSection<AtmosphereConfig> SECTION =
      new ConfigSection<>(
          "atmosphere",
          AtmosphereConfig.class,
          (config, env) -> new AtmospherePlans(config).check(env));
  static final String EXAMPLE = "deploy/examples/atmosphere.yaml";
  static final VersionFormat VERSION =
      new VersionFormat(
          AtmosphereValidation.VERSION.pattern(), "36-1", "an Atmosphere release (Major-Minor)");

  private final ConfigChecks c;

  AtmospherePlans(LoadedConfig config) {
    this.c = new ConfigChecks(config);
  }

  /**
   * The lane of deployment day and the release calendar: both stop and recreate the same
   * containers, so one of them at a time per environment (a release's beta day holds the beta
   * environment's).
   */
  static Lane containers(String environment) {
    return new Lane(
        "atmosphere-containers",
        environment,
        "one Atmosphere deployment at a time in "
            + environment
            + " (deployment day and the release calendar stop the same containers)");
  }

  /**
   * What can be checked of an environment's settings before a start: the site always; deployment
   * day where the environment configures one (a proxy or databases); the release's calendar where
   * it configures one (a notice or a changelog). People are checked at the start, against the
   * options.
   */
  void check(String env) {
    AtmosphereConfig a = settings(env);
    List<String> services =
        a.services() == null ? List.of("troposphere", "atmosphere") : a.services();
    site(env, a.images() == null ? services : List.of());
    if (a.proxy() != null || a.databases() != null || a.maintenance() != null) {
      day(env, true);
    }
    // release.message alone is deployment day's maintenance message; the calendar is configured
    // once the release names its notice or changelog.
    if (a.release() != null && (a.release().notice() != null || a.release().changelog() != null)) {
      releaseSettings(env);
    }
    if (a.beta() != null) {
      c.config().environment(a.beta());
    }
  }

  private AtmosphereConfig settings(String env) {
    AtmosphereConfig a = c.config().environment(env).section(SECTION.key(), AtmosphereConfig.class);
    if (a == null) {
      throw c.error(
          "environments." + env + ".atmosphere",
          "missing: this environment has no Atmosphere settings (see " + EXAMPLE + ")");
    }
    return a;
  }

  AtmosphereSite site(String env, List<String> services) {
    String base = "environments." + env + ".atmosphere";
    AtmosphereConfig a = settings(env);
    c.require(base + ".engine", a.engine(), "host (and tlsCertDir)");
    c.require(base + ".engine.host", a.engine().host());
    if (!a.engine().host().matches("(unix|tcp|npipe)://.+")) {
      throw c.error(
          base + ".engine.host",
          "expected a Docker host URI such as unix:///var/run/docker.sock or tcp://host:2376, got '"
              + a.engine().host()
              + "'");
    }
    String auth = a.engine().registryAuth();
    c.reference(base + ".engine.registryAuth", auth, false);
    c.require(base + ".project", a.project());
    if (a.images() == null || a.images().isEmpty()) {
      throw c.error(
          base + ".images",
          "missing: service: image repository, e.g. atmosphere: cyverse/atmosphere");
    }
    for (String service : services) {
      if (!a.images().containsKey(service)) {
        throw c.error(
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
      throw c.error(base + ".pullPolicy", "expected always or missing, got '" + policy + "'");
    }
    ComposeFileRef compose = null;
    AtmosphereConfig.ComposeConfig cc = a.compose();
    if (cc != null) {
      c.absolute(base + ".compose.path", cc.path());
      c.require(base + ".compose.branch", cc.branch());
      String file = cc.file() == null ? "docker-compose.prod.yml" : cc.file();
      if (file.isBlank() || file.startsWith("/") || List.of(file.split("/")).contains("..")) {
        throw c.error(
            base + ".compose.file",
            "expected a path relative to compose.path, e.g. docker-compose.prod.yml, got '"
                + file
                + "'");
      }
      String path =
          cc.path().endsWith("/") ? cc.path().substring(0, cc.path().length() - 1) : cc.path();
      String name = path.substring(path.lastIndexOf('/') + 1);
      compose =
          new ComposeFileRef(
              new GitRepoRef(
                  name.isEmpty() ? "compose checkout" : name, cc.path(), cc.remote(), cc.branch()),
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
  DayPlan day(String env, boolean testGate) {
    AtmosphereConfig a = settings(env);
    String base = "environments." + env + ".atmosphere";
    List<String> services =
        a.services() == null ? List.of("troposphere", "atmosphere") : a.services();
    AtmosphereSite site = site(env, services);
    if (a.databases() == null || a.databases().isEmpty()) {
      throw c.error(base + ".databases", "missing: name: {host, port, database, user, password}");
    }
    List<DatabaseRef> dbs = new ArrayList<>();
    for (Map.Entry<String, AtmosphereConfig.DatabaseConfig> d : a.databases().entrySet()) {
      String k = base + ".databases." + d.getKey();
      AtmosphereConfig.DatabaseConfig dc = d.getValue();
      c.require(k, dc, "host, port, database, user, password");
      c.require(k + ".database", dc.database());
      c.require(k + ".user", dc.user());
      c.reference(k + ".password", dc.password(), true);
      dbs.add(
          new DatabaseRef(
              d.getKey(),
              dc.host() == null ? "localhost" : dc.host(),
              dc.port() == null ? 5432 : dc.port(),
              dc.database(),
              dc.user(),
              dc.password()));
    }
    c.absolute(base + ".dumpDir", a.dumpDir());
    AtmosphereConfig.ProxyConfig px = a.proxy();
    if (px == null || px.nginx() == null) {
      throw c.error(
          base + ".proxy",
          "missing: host, nginx {pidFile, testCommand, reloadCommand}, link, maintenanceConfig,"
              + " appConfig, probeUrl, maintenanceText, appText");
    }
    HostRef proxyHost = c.host(env, px.host());
    c.absolute(base + ".proxy.link", px.link());
    c.absolute(base + ".proxy.maintenanceConfig", px.maintenanceConfig());
    c.absolute(base + ".proxy.appConfig", px.appConfig());
    c.require(base + ".proxy.probeUrl", px.probeUrl());
    c.require(base + ".proxy.maintenanceText", px.maintenanceText());
    c.require(base + ".proxy.appText", px.appText());
    c.require(base + ".proxy.nginx.pidFile", px.nginx().pidFile());
    c.require(base + ".proxy.nginx.testCommand", px.nginx().testCommand());
    c.require(base + ".proxy.nginx.reloadCommand", px.nginx().reloadCommand());
    AtmosphereConfig.MaintenanceConfig m = a.maintenance();
    for (String service : services) {
      if (m == null
          || m.start() == null
          || m.stop() == null
          || m.start().get(service) == null
          || m.stop().get(service) == null) {
        throw c.error(
            base + ".maintenance",
            "missing: start and stop commands for service '" + service + "'");
      }
    }
    AtmosphereConfig.RepoConfig secrets = a.secrets();
    c.require(base + ".secrets", secrets, "path, remote, branch");
    c.absolute(base + ".secrets.path", secrets.path());
    c.require(base + ".secrets.branch", secrets.branch());
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
  AtmosphereReleaseRequest release(
      ReleaseContext context, String crewChief, String driver, Instant window) {
    String env = context.environment();
    String base = "environments." + env + ".atmosphere";
    if (crewChief.equals(driver)) {
      throw new IllegalArgumentException(
          "the crew chief and the driver must be two people (the driver tests, the crew chief"
              + " signs off on beta)");
    }
    c.role(env, crewChief, "crew-chief", "--crew-chief");
    c.role(env, driver, "driver", "--driver");
    ReleaseSettings rs = releaseSettings(env);
    AtmosphereConfig a = settings(env);
    DayPlan beta = a.beta() == null ? null : day(a.beta(), false);
    DayPlan production = day(env, true);
    return new AtmosphereReleaseRequest(
        context,
        crewChief,
        driver,
        window,
        rs.message(),
        rs.notice(),
        rs.candidate(),
        beta,
        production);
  }

  /** The release calendar's settings of an environment: message, notice, release candidate. */
  record ReleaseSettings(String message, NoticePlan notice, CandidatePlan candidate) {}

  ReleaseSettings releaseSettings(String env) {
    String base = "environments." + env + ".atmosphere";
    AtmosphereConfig a = settings(env);
    c.require(base + ".release", a.release(), "message, notice, changelog");
    AtmosphereConfig.AtmosphereReleaseConfig r = a.release();
    c.require(base + ".release.message", r.message());
    AtmosphereConfig.NoticeConfig n = r.notice();
    c.require(base + ".release.notice", n, "smtp {host, port}, from, to");
    MailServerRef smtp = c.smtp(base + ".release.notice.smtp", env + "-smtp", n.smtp());
    c.require(base + ".release.notice.from", n.from());
    if (n.to() == null || n.to().isEmpty()) {
      throw c.error(base + ".release.notice.to", "missing: the users list address");
    }
    c.reference(base + ".release.notice.statusPageAuth", n.statusPageAuth(), false);
    NoticePlan notice =
        new NoticePlan(
            smtp,
            n.from(),
            n.to(),
            n.lead() == null ? Duration.ofDays(14) : n.lead(),
            n.statusPageUrl(),
            n.statusPageAuth());
    CandidatePlan candidate = null;
    if (r.changelog() != null) {
      c.absolute(base + ".release.changelog.path", r.changelog().path());
      c.require(base + ".release.changelog.branch", r.changelog().branch());
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
    return new ReleaseSettings(r.message(), notice, candidate);
  }

  /**
   * Deployment day alone on one environment, with the driver's "tested in production" gate. The
   * maintenance title names the given date, as the runbook's does; the message is the given one,
   * else the release's configured one.
   */
  AtmosphereDeploymentDay.DayRequest deploymentDay(
      ReleaseContext context, String driver, String message, String date) {
    String env = context.environment();
    c.role(env, driver, "driver", "--driver");
    DayPlan day = day(env, true);
    AtmosphereConfig a = settings(env);
    String text = message;
    if (text == null || text.isBlank()) {
      text = a.release() == null ? null : a.release().message();
    }
    if (text == null || text.isBlank()) {
      throw c.error(
          "environments." + env + ".atmosphere.release.message",
          "missing: the maintenance message shown during the deployment (or pass --message)");
    }
    return new AtmosphereDeploymentDay.DayRequest(
        context, day, date, DayPlan.maintenanceTitle(date, context.version()), text);
  }
}
