package dev.crewchief.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.secrets.SecretReferences;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config file as the worker and the CLI read it: runbook sections, people, channels. */
class ConfigLoaderTest {
  static Path example(String name) {
    Path p = Path.of("").toAbsolutePath();
    while (!Files.exists(p.resolve("deploy/examples/" + name))) {
      p = p.getParent();
    }
    return p.resolve("deploy/examples/" + name);
  }

  @Test
  void theExamplesLoadWithTheirRunbookSections() {
    LoadedConfig atmo = new ConfigLoader(Map.of()).load(example("atmosphere.yaml"));
    assertTrue(atmo.environment("prod").sections().containsKey("atmosphere"));
    LoadedConfig rp = new ConfigLoader(Map.of()).load(example("randopony.yaml"));
    assertTrue(rp.environment("prod").sections().containsKey("randopony"));
  }

  @Test
  void theWorkerPreloadsEveryReferenceOfTheExampleConfiguration() {
    LoadedConfig loaded = new ConfigLoader(Map.of()).load(example("atmosphere.yaml"));
    assertEquals(
        Set.of(
            "file:/etc/crewchief/secrets/atmo-proxy-key",
            "file:/etc/crewchief/secrets/atmo_app.pgpass",
            "env:SMTP_USER",
            "env:SMTP_PASSWORD"),
        SecretReferences.in(loaded.config()));
  }

  @Test
  void aWrongValueInARunbookSectionNamesItsKey(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(
        f,
        "environments:\n"
            + "  prod:\n"
            + "    approvers: {crew-chief: [alice]}\n"
            + "    randopony:\n"
            + "      releasePorts: {2014r1: abc}\n");
    ConfigException e =
        assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).load(f));
    assertTrue(e.getMessage().contains("environments.prod.randopony.releasePorts"), e.getMessage());
  }

  @Test
  void peopleAndNotificationChannelsAreRead(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(
        f,
        "environments:\n"
            + "  prod:\n"
            + "    approvers: {crew-chief: [alice]}\n"
            + "    people:\n"
            + "      alice: {email: alice@example.org, publicKey: 'ssh-ed25519 AAAA alice'}\n"
            + "    notify:\n"
            + "      email: {smtp: {host: mail.example.org}, from: cc@example.org, to: [ops@example.org]}\n"
            + "      chat: {name: slack, webhook: 'env:SLACK_WEBHOOK'}\n");
    LoadedConfig c = new ConfigLoader(Map.of()).load(f);
    assertEquals("alice@example.org", c.environment("prod").people().get("alice").email());
    assertEquals("env:SLACK_WEBHOOK", c.environment("prod").notifications().chat().webhook());
  }
}
