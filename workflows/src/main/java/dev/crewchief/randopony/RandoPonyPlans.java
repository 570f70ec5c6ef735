package dev.crewchief.randopony;

import dev.crewchief.activities.HostRef;
import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.runbook.VersionFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

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

  /** A distribution name as PEP 508 allows it. */
  private static final Pattern DISTRIBUTION =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");

  private static final Pattern PLACEHOLDER = Pattern.compile("\\{[^}]*}");

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
    RandoPonyLayout layout = layout(c, base, rp);
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
        rp.nginx(),
        layout);
  }

  /** The source layout and package source, each key checked, with its default when unset. */
  static RandoPonyLayout layout(ConfigChecks c, String base, RandoPonyConfig rp) {
    RandoPonyLayout d = RandoPonyLayout.defaults(rp.appName());
    String distribution = rp.distribution() == null ? d.distribution() : rp.distribution();
    if (!DISTRIBUTION.matcher(distribution).matches()) {
      throw c.error(
          base + ".distribution",
          "expected the name pip installs the source as (pyproject.toml's [project] name, setup.py's"
              + " name=), found '"
              + distribution
              + "'");
    }
    String packageDir =
        relative(
            c, base + ".packageDir", rp.packageDir() == null ? d.packageDir() : rp.packageDir());
    String link = packageDir.substring(packageDir.lastIndexOf('/') + 1);
    if (List.of("bin", "venv", rp.codeDirName() == null ? "randopony-tetra" : rp.codeDirName())
        .contains(link)) {
      throw c.error(
          base + ".packageDir",
          "'"
              + packageDir
              + "' would be linked into the app dir as "
              + link
              + ", which the app dir already uses: name the app's package directory");
    }
    List<String> credentials = new ArrayList<>();
    if (rp.credentialFiles() == null) {
      credentials.add(packageDir + "/private_credentials.py");
    } else {
      for (int i = 0; i < rp.credentialFiles().size(); i++) {
        credentials.add(
            relative(c, base + ".credentialFiles[" + i + "]", rp.credentialFiles().get(i)));
      }
    }
    String supervisorConf =
        relative(
            c,
            base + ".supervisorConf",
            rp.supervisorConf() == null ? d.supervisorConf() : rp.supervisorConf());
    String indexUrl = null;
    String wheelhouse = null;
    if (rp.packages() != null) {
      indexUrl = rp.packages().indexUrl();
      if (indexUrl != null && !indexUrl.matches("https?://[^\\s'\"]+")) {
        throw c.error(
            base + ".packages.indexUrl",
            "expected an http(s) URL of a package index (pip --index-url), found '"
                + indexUrl
                + "'");
      }
      if (rp.packages().wheelhouse() != null) {
        wheelhouse = relative(c, base + ".packages.wheelhouse", rp.packages().wheelhouse());
      }
      if (indexUrl != null && wheelhouse != null) {
        throw c.error(
            base + ".packages",
            "expected one of indexUrl or wheelhouse, found both: pip installs either from an index"
                + " or from the wheelhouse uploaded with the code");
      }
    }
    List<String> excludes = d.excludes();
    List<String> protect = d.protect();
    if (rp.upload() != null) {
      if (rp.upload().exclude() != null) {
        excludes = patterns(c, base + ".upload.exclude", rp.upload().exclude());
      }
      if (rp.upload().protect() != null) {
        protect = patterns(c, base + ".upload.protect", rp.upload().protect());
      }
    }
    int status = d.probeStatus();
    String text = null;
    if (rp.probe() != null) {
      if (rp.probe().status() != null) {
        status = rp.probe().status();
        if (status < 100 || status > 599) {
          throw c.error(
              base + ".probe.status",
              "expected the HTTP status of the app serving (100-599), found " + status);
        }
      }
      text = rp.probe().text();
      if (text != null) {
        if (text.isBlank() || text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
          throw c.error(
              base + ".probe.text",
              "expected one line of text the app's page contains, found '" + text + "'");
        }
        var m = PLACEHOLDER.matcher(text);
        while (m.find()) {
          if (!m.group().equals("{release}") && !m.group().equals("{appName}")) {
            throw c.error(
                base + ".probe.text",
                "'"
                    + m.group()
                    + "' is not a placeholder of the probe's text: expected {release} or {appName}");
          }
        }
      }
    }
    return new RandoPonyLayout(
        distribution,
        packageDir,
        List.copyOf(credentials),
        supervisorConf,
        indexUrl,
        wheelhouse,
        excludes,
        protect,
        status,
        text);
  }

  /** A path inside the source directory: relative, and never out of it. */
  private static String relative(ConfigChecks c, String key, String value) {
    c.require(key, value);
    String v = value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
    if (v.startsWith("/")
        || v.isEmpty()
        || List.of(v.split("/")).stream()
            .anyMatch(s -> s.isEmpty() || s.equals("..") || s.equals("."))) {
      throw c.error(
          key,
          "expected a path relative to randopony.sourceDir (inside it, no '..'), found '"
              + value
              + "'");
    }
    return v;
  }

  private static List<String> patterns(ConfigChecks c, String key, List<String> patterns) {
    for (int i = 0; i < patterns.size(); i++) {
      String p = patterns.get(i);
      if (p == null || p.isBlank() || p.startsWith("/") || p.contains("..")) {
        throw c.error(
            key + "[" + i + "]",
            "expected a name or a path relative to randopony.sourceDir (*.sqlite, data/uploads),"
                + " found '"
                + p
                + "'");
      }
    }
    return List.copyOf(patterns);
  }
}
