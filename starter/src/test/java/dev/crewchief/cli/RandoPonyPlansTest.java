package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.randopony.RandoPonyLayout;
import dev.crewchief.randopony.StagingDeployRequest;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.worker.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RandoPony source layout resolved from config: the defaults that fit the project's stand-in
 * (and so every config written before the layout was configurable), a source laid out otherwise,
 * and settings that can never work refused when the file is loaded, naming the key.
 */
class RandoPonyPlansTest {
  static final String SECTION =
      "environments:\n"
          + "  prod:\n"
          + "    approvers: {crew-chief: [alice], driver: [bob]}\n"
          + "    hosts:\n"
          + "      web: {address: 127.0.0.1, user: rp, privateKey: 'file:/k', knownHosts: /kh}\n"
          + "    randopony:\n"
          + "      host: web\n"
          + "      appName: ponyexpress\n"
          + "      webappsDir: /home/rp/webapps\n"
          + "      sourceDir: /src/pony-express\n"
          + "      archiveDir: /home/rp/archive\n"
          + "      stagingDomain: s.test\n"
          + "      productionDomain: p.test\n"
          + "      releasePorts: {\"2015r1\": 19308}\n"
          + "      nginx: {sitesDir: /n, listen: '127.0.0.1:80', pidFile: /n/pid,"
          + " testCommand: /usr/sbin/nginx -t, reloadCommand: /usr/sbin/nginx -s reload,"
          + " probeUrl: 'http://127.0.0.1/'}\n";

  static LoadedConfig load(Path dir, String extra) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(f, SECTION + extra);
    return new ConfigLoader(Map.of()).load(f);
  }

  static RandoPonyLayout layout(LoadedConfig config, String env, String version) {
    StartRequest r =
        new StartRequest(
            config, env, version, false, "tester", Map.of(), List.of(), java.time.Instant.now());
    return ((StagingDeployRequest) Runbooks.all().find("randopony-staging").plan(r))
        .site()
        .layout();
  }

  static String refused(Path dir, String extra) {
    ConfigException e = assertThrows(ConfigException.class, () -> load(dir, extra));
    String prefix = dir.resolve("crewchief.yaml") + ": ";
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    return e.getMessage().substring(prefix.length());
  }

  @Test
  void theExampleAndAnySectionWithoutTheNewKeysKeepTheStandInsLayout(@TempDir Path dir)
      throws Exception {
    Path example = RunbookPlansTest.example().resolveSibling("randopony.yaml");
    // The example sets only the probe's text (the stand-in's page names its app dir).
    RandoPonyLayout d0 = RandoPonyLayout.defaults("randopony");
    assertEquals(
        new RandoPonyLayout(
            d0.distribution(),
            d0.packageDir(),
            d0.credentialFiles(),
            d0.supervisorConf(),
            d0.indexUrl(),
            d0.wheelhouse(),
            d0.excludes(),
            d0.protect(),
            200,
            "{appName}{release}"),
        layout(new ConfigLoader(Map.of()).load(example), "prod", "2014r1"));
    RandoPonyLayout d = layout(load(dir, ""), "prod", "2015r1");
    assertEquals("ponyexpress", d.distribution());
    assertEquals(List.of("ponyexpress/private_credentials.py"), d.credentialFiles());
    assertEquals("supervisord.conf", d.supervisorConf());
    assertEquals(null, d.indexUrl());
    assertEquals(null, d.wheelhouse());
    assertEquals(200, d.probeStatus());
    assertEquals(null, d.probeText());
    assertTrue(d.protect().containsAll(List.of("*.sqlite", "*.log")), d.protect().toString());
  }

  @Test
  void aSourceLaidOutOtherwiseSaysSo(@TempDir Path dir) throws Exception {
    RandoPonyLayout l =
        layout(
            load(
                dir,
                "      distribution: pony-express\n"
                    + "      packageDir: src/ponyexpress/\n"
                    + "      credentialFiles: []\n"
                    + "      supervisorConf: etc/supervisord.conf\n"
                    + "      packages: {wheelhouse: wheelhouse}\n"
                    + "      upload: {protect: ['*.sqlite', data/uploads]}\n"
                    + "      probe: {status: 200, text: '<title>Pony Express</title>'}\n"),
            "prod",
            "2015r1");
    assertEquals(
        new RandoPonyLayout(
            "pony-express",
            "src/ponyexpress",
            List.of(),
            "etc/supervisord.conf",
            null,
            "wheelhouse",
            RandoPonyLayout.DEFAULT_EXCLUDES,
            List.of("*.sqlite", "data/uploads"),
            200,
            "<title>Pony Express</title>"),
        l);
    assertEquals("ponyexpress", l.packageLink());
    assertEquals(
        "https://pypi.example.org/simple",
        layout(
                load(dir, "      packages: {indexUrl: 'https://pypi.example.org/simple'}\n"),
                "prod",
                "2015r1")
            .indexUrl());
  }

  @Test
  void settingsThatCanNeverWorkAreRefusedNamingTheKey(@TempDir Path dir) {
    String k = "environments.prod.randopony.";
    assertEquals(
        k
            + "distribution: expected the name pip installs the source as (pyproject.toml's"
            + " [project] name, setup.py's name=), found 'pony express'",
        refused(dir, "      distribution: pony express\n"));
    assertEquals(
        k
            + "supervisorConf: expected a path relative to randopony.sourceDir (inside it, no"
            + " '..'), found '../etc/supervisord.conf'",
        refused(dir, "      supervisorConf: ../etc/supervisord.conf\n"));
    assertEquals(
        k
            + "packageDir: 'src/venv' would be linked into the app dir as venv, which the app dir"
            + " already uses: name the app's package directory",
        refused(dir, "      packageDir: src/venv\n"));
    assertEquals(
        k
            + "credentialFiles[1]: expected a path relative to randopony.sourceDir (inside it, no"
            + " '..'), found '/etc/secret.py'",
        refused(dir, "      credentialFiles: [a/creds.py, /etc/secret.py]\n"));
    assertEquals(
        k
            + "packages: expected one of indexUrl or wheelhouse, found both: pip installs either"
            + " from an index or from the wheelhouse uploaded with the code",
        refused(dir, "      packages: {indexUrl: 'https://x.test/simple', wheelhouse: wh}\n"));
    assertEquals(
        k
            + "packages.indexUrl: expected an http(s) URL of a package index (pip --index-url),"
            + " found 'ftp://x.test/simple'",
        refused(dir, "      packages: {indexUrl: 'ftp://x.test/simple'}\n"));
    assertEquals(
        k
            + "upload.protect[0]: expected a name or a path relative to randopony.sourceDir"
            + " (*.sqlite, data/uploads), found '/var/db'",
        refused(dir, "      upload: {protect: [/var/db]}\n"));
    assertEquals(
        k + "probe.status: expected the HTTP status of the app serving (100-599), found 700",
        refused(dir, "      probe: {status: 700}\n"));
    assertEquals(
        k
            + "probe.text: '{version}' is not a placeholder of the probe's text: expected"
            + " {release} or {appName}",
        refused(dir, "      probe: {text: 'RandoPony {version}'}\n"));
    String unknown = refused(dir, "      probe: {body: RandoPony}\n");
    assertTrue(unknown.contains("body") && unknown.contains("text"), unknown);
  }
}
