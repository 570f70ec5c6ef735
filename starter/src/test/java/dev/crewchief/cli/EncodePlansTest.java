package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.encode.EncodeConfig;
import dev.crewchief.encode.EncodeRequest;
import dev.crewchief.encode.EncodeSite;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.worker.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ENCODE's settings resolved into a release's input: the example as the runbook describes
 * production, the runbook's defaults, and settings or options that can never work refused naming
 * the key or the option.
 */
class EncodePlansTest {

  static LoadedConfig example() throws Exception {
    return new ConfigLoader(Map.of())
        .load(RunbookPlansTest.example().resolveSibling("encode.yaml"));
  }

  static EncodeRequest plan(LoadedConfig config, String version, Map<String, String> options) {
    return (EncodeRequest)
        Runbooks.all()
            .find("encode-release")
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

  static String refused(Path dir, String yaml) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(f, yaml);
    ConfigException e =
        assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).load(f));
    return e.getMessage().substring((f + ": ").length());
  }

  static String exampleText() throws Exception {
    return Files.readString(RunbookPlansTest.example().resolveSibling("encode.yaml"));
  }

  @Test
  void theExampleResolvesToTheRunbooksProduction() throws Exception {
    EncodeRequest r = plan(example(), "92", Map.of());
    EncodeSite s = r.site();
    EncodeConfig c = s.config();
    assertEquals("clustered", r.type());
    assertEquals("91", r.oldVersion());
    assertEquals("ubuntu@v91.production.encodedcc.org:22", s.oldServer().describe());
    assertEquals(
        List.of("171.67.205.70", "52.11.61.187"),
        s.proxies().stream().map(h -> h.address()).toList());
    assertEquals(5, c.deploy().cluster().size());
    assertEquals(2, c.deploy().cluster().replicas());
    assertEquals("Cloud-init v\\. \\S+ finished", c.deploy().cloudInit().doneRegex());
    assertEquals(
        List.of("write-encoded-backups", "upload-encode-files"),
        c.keys().stream().map(EncodeConfig.KeyUser::user).toList());
    assertEquals("encode-files-upload", c.keys().get(1).section());
    assertEquals(Duration.ofMinutes(10), c.indexer().maxLag());
    assertEquals(List.of("ENCODE_DEVELOPERS@LIST.NIH.GOV"), c.mail().to());
    assertEquals("standby.signal", s.newPostgres().recoveryMode());
    assertEquals("sudo nginx -t", c.proxies().get(0).test());
    assertEquals("Release Ready", c.redmine().fromStatus());
    assertEquals("Closed", c.redmine().toStatus());
    assertEquals("root", c.cronUser());
  }

  @Test
  void theReleaseTypeAndOldVersionAreChecked() throws Exception {
    LoadedConfig config = example();
    assertEquals("candidate", plan(config, "92", Map.of("type", "candidate")).type());
    assertEquals("89", plan(config, "92", Map.of("old-version", "89")).oldVersion());
    IllegalArgumentException single =
        assertThrows(
            IllegalArgumentException.class, () -> plan(config, "92", Map.of("type", "single")));
    assertTrue(single.getMessage().contains("candidate (switches production over), test or demo"));
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class, () -> plan(config, "92", Map.of("type", "cluster")));
    assertEquals(
        "--type must be one of clustered, candidate, test, demo, not 'cluster'", bad.getMessage());
    IllegalArgumentException old =
        assertThrows(
            IllegalArgumentException.class, () -> plan(config, "92", Map.of("old-version", "92")));
    assertTrue(old.getMessage().startsWith("--old-version must be"), old.getMessage());
  }

  @Test
  void aProxyReloadThatRestartsIsRefusedAtLoad(@TempDir Path dir) throws Exception {
    String why =
        refused(
            dir,
            exampleText()
                .replace(
                    "reload: sudo service nginx reload", "reload: sudo service nginx restart"));
    assertEquals(
        "environments.prod.encode.proxies[1].reload: 'sudo service nginx restart' restarts or"
            + " stops nginx: the switch must be a reload (sudo nginx -s reload)",
        why);
  }

  @Test
  void settingsThatCanNeverWorkAreRefusedNamingTheKey(@TempDir Path dir) throws Exception {
    assertTrue(
        refused(dir, exampleText().replace("password: env:ENCODE_PGPASSWORD", "password: hunter2"))
            .startsWith("environments.prod.encode.postgres.old.password: expected a secret"));
    assertTrue(
        refused(
                dir,
                exampleText()
                    .replace(
                        "jdbcUrl: jdbc:postgresql://v91.production.encodedcc.org:5432/encoded",
                        "jdbcUrl: postgres://v91:5432/encoded"))
            .startsWith(
                "environments.prod.encode.postgres.old.jdbcUrl: expected jdbc:postgresql://"));
    assertTrue(
        refused(dir, exampleText().replace("recoveryMode: standby.signal", "recoveryMode: trigger"))
            .startsWith("environments.prod.encode.postgres.old.recoveryMode: standby.signal"));
    assertTrue(
        refused(dir, exampleText().replace("to: [ENCODE_DEVELOPERS@LIST.NIH.GOV]", "to: []"))
            .startsWith("environments.prod.encode.mail.to: the developers' list"));
  }
}
