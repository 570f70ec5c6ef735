package dev.crewchief.randopony;

import dev.crewchief.activities.HostRef;
import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.runbook.VersionFormat;
import java.util.List;

/** The RandoPony settings of an environment resolved into the site the workflows act on. */
final class RandoPonyPlans {
  static final ConfigSection<RandoPonyConfig> SECTION =
      new ConfigSection<>(
          "randopony", RandoPonyConfig.class, (config, env) -> site(config, env, List.of()));
  static final String EXAMPLE = "deploy/examples/randopony.yaml";
  static final VersionFormat VERSION =
      new VersionFormat(
          RandoPonyValidation.RELEASE.pattern(),
          "2014r1",
          "a RandoPony release id (year + r + number)");

  private RandoPonyPlans() {}

  static RandoPonySite site(StartRequest r, Runbook runbook, List<String> releases) {
    r.section(runbook); // names the example to copy when the environment has no section
    return site(r.config(), r.environment(), releases);
  }

  /** The site of an environment, checked; the releases named must have their ports. */
  static RandoPonySite site(LoadedConfig config, String env, List<String> releases) {
    ConfigChecks c = new ConfigChecks(config);
    String base = "environments." + env + ".randopony";
    RandoPonyConfig rp = config.environment(env).section(SECTION.key(), RandoPonyConfig.class);
    c.require(base + ".host", rp.host());
    c.require(base + ".appName", rp.appName());
    c.absolute(base + ".webappsDir", rp.webappsDir());
    c.absolute(base + ".sourceDir", rp.sourceDir());
    c.absolute(base + ".archiveDir", rp.archiveDir());
    c.require(base + ".stagingDomain", rp.stagingDomain());
    c.require(base + ".productionDomain", rp.productionDomain());
    c.require(
        base + ".nginx",
        rp.nginx(),
        "sitesDir, listen, pidFile, testCommand, reloadCommand, probeUrl");
    c.require(base + ".nginx.sitesDir", rp.nginx().sitesDir());
    c.require(base + ".nginx.listen", rp.nginx().listen());
    c.require(base + ".nginx.pidFile", rp.nginx().pidFile());
    c.require(base + ".nginx.testCommand", rp.nginx().testCommand());
    c.require(base + ".nginx.reloadCommand", rp.nginx().reloadCommand());
    c.require(base + ".nginx.probeUrl", rp.nginx().probeUrl());
    for (String rel : releases) {
      if (rp.releasePorts() == null || !rp.releasePorts().containsKey(rel)) {
        throw c.error(
            base + ".releasePorts." + rel,
            "missing: add the port the hosting assigned to app " + rp.appName() + rel);
      }
    }
    HostRef host = c.host(env, rp.host());
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
}
