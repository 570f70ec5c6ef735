package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.CiActivities;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.metaspace.MetaspaceConfig;
import dev.crewchief.metaspace.MetaspaceRequest;
import dev.crewchief.metaspace.MetaspaceSite;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.worker.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * METASPACE's settings resolved into a release's input: the example as the runbook describes the
 * production VM, the runbook's defaults for a minimal section, and settings or options that can
 * never work refused naming the key or the option.
 */
class MetaspacePlansTest {
  static final String MINIMAL =
      "environments:\n"
          + "  prod:\n"
          + "    approvers: {driver: [lachlan]}\n"
          + "    hosts:\n"
          + "      vm: {address: 10.0.0.5, user: ubuntu, privateKey: 'file:/k', knownHosts: /kh}\n"
          + "    metaspace:\n"
          + "      host: vm\n"
          + "      repo: {path: /srv/metaspace}\n"
          + "      ci: {provider: GITHUB, apiUrl: 'https://api.github.com', project: m/m,"
          + " token: 'env:GH_TOKEN'}\n"
          + "      ansible: {checkout: /srv/ansible, playbook: web.yml, inventory: env/prod/hosts,"
          + " inventoryHost: web}\n";

  static LoadedConfig load(Path dir, String yaml) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(f, yaml);
    return new ConfigLoader(Map.of()).load(f);
  }

  static MetaspaceRequest plan(LoadedConfig config, String version, Map<String, String> opts) {
    Map<String, String> options = new HashMap<>(opts);
    return (MetaspaceRequest)
        Runbooks.all()
            .find("metaspace-release")
            .plan(
                new StartRequest(
                    config,
                    "prod",
                    version,
                    false,
                    "tester",
                    options,
                    List.of(),
                    java.time.Instant.now()));
  }

  static String refused(Path dir, String yaml) {
    ConfigException e = assertThrows(ConfigException.class, () -> load(dir, yaml));
    String prefix = dir.resolve("crewchief.yaml") + ": ";
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    return e.getMessage().substring(prefix.length());
  }

  @Test
  void theExampleResolvesToTheRunbooksVm() throws Exception {
    Path example = RunbookPlansTest.example().resolveSibling("metaspace.yaml");
    MetaspaceRequest r = plan(new ConfigLoader(Map.of()).load(example), "1.7.6", Map.of());
    MetaspaceSite s = r.site();
    assertEquals("ubuntu@metaspace2020.eu:22", s.host().describe());
    assertEquals("release", s.repo().branch());
    assertEquals(CiActivities.Provider.CIRCLECI, s.config().ci().provider());
    assertEquals(List.of("webapp", "graphql"), s.config().ci().required());
    assertEquals("sm", s.config().elasticsearch().alias());
    assertEquals("http://metaspace2020.eu:9200", s.cluster().url());
    assertEquals(
        List.of("sm-api", "sm-cluster-autostart", "sm-graphql", "sm-update-daemon"),
        s.config().supervisor().programs());
    assertEquals("i-0123456789abcdef0", s.config().aws().instanceId());
    assertEquals("eu-west-1", s.aws().region());
    assertNull(r.strategy());
    assertNull(r.bump());
  }

  @Test
  void aMinimalSectionTakesTheRunbooksDefaults(@TempDir Path dir) throws Exception {
    MetaspaceSite s = plan(load(dir, MINIMAL), "1.7.6", Map.of()).site();
    MetaspaceConfig c = s.config();
    assertEquals("master", c.repo().mainBranch());
    assertEquals("origin", c.repo().remote());
    assertEquals(List.of("metaspace/engine/sm/engine/es_export.py"), c.watched().esFields());
    assertEquals(List.of("metaspace/engine/migrations/"), c.watched().engineMigrations());
    assertEquals(Duration.ofHours(2), c.ci().waitLimit());
    assertEquals(List.of(), c.ci().required());
    assertEquals("systemctl is-active --quiet {service}", c.services().check());
    assertEquals(Duration.ofDays(7), c.longJobLimit());
    assertNull(s.cluster());
    assertNull(s.aws());
  }

  @Test
  void aStrategyTheEnvironmentCannotRunIsRefusedAtStart(@TempDir Path dir) throws Exception {
    LoadedConfig config = load(dir, MINIMAL);
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> plan(config, "1.7.6", Map.of("strategy", "fork-the-vm")));
    assertTrue(
        e.getMessage().endsWith("--strategy fork-the-vm (needs metaspace.aws and metaspace.admin)"),
        e.getMessage());
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> plan(config, "1.7.6", Map.of("strategy", "big-bang")));
    assertEquals(
        "unknown strategy 'big-bang': one of in-place, deploy-then-es-update,"
            + " reindex-before-deployment, fork-the-vm",
        unknown.getMessage());
    IllegalArgumentException bump =
        assertThrows(
            IllegalArgumentException.class, () -> plan(config, "1.7.6", Map.of("bump", "major")));
    assertEquals("--bump must be patch or minor, not 'major'", bump.getMessage());
  }

  @Test
  void settingsThatCanNeverWorkAreRefusedNamingTheKey(@TempDir Path dir) {
    assertEquals(
        "environments.prod.metaspace.ci.token: expected a secret reference file:/path or"
            + " env:VARIABLE, never the secret itself (the value is not shown: it may be one)",
        refused(dir, MINIMAL.replace("token: 'env:GH_TOKEN'", "token: ghp_abc")));
    assertEquals(
        "environments.prod.metaspace.repo.path: expected an absolute path, got 'srv/metaspace'",
        refused(dir, MINIMAL.replace("path: /srv/metaspace", "path: srv/metaspace")));
    assertTrue(
        refused(dir, MINIMAL + "      elasticsearch: {url: 'http://es:9200', reindex: scroll}\n")
            .startsWith("environments.prod.metaspace.elasticsearch.reindex: elasticsearch or"));
    assertTrue(
        refused(dir, MINIMAL + "      elasticsearch: {url: 'es:9200'}\n")
            .startsWith("environments.prod.metaspace.elasticsearch.url: expected http://"));
    assertTrue(
        refused(dir, MINIMAL + "      longJobLimit: PT0S\n")
            .startsWith("environments.prod.metaspace.longJobLimit: must be a positive duration"));
    assertTrue(
        refused(dir, MINIMAL + "      aws: {region: eu-west-1, instanceId: i-1}\n")
            .startsWith("environments.prod.metaspace.aws.elasticIp: missing"));
    // The release removes its temp dir: one that does not name the release is refused.
    for (String t : new String[] {"/tmp", "tmp/metaspace-{tag}", "/{tag}"}) {
      assertTrue(
          refused(dir, MINIMAL + "      commands: {tempDir: '" + t + "'}\n")
              .startsWith(
                  "environments.prod.metaspace.commands.tempDir: expected an absolute path naming"
                      + " the release"),
          t);
    }
  }
}
