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
    Process keygen =
        new ProcessBuilder(
                "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("k").toString())
            .start();
    assertEquals(0, keygen.waitFor());
    String key = Files.readString(dir.resolve("k.pub")).strip();
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(
        f,
        "environments:\n"
            + "  prod:\n"
            + "    approvers: {crew-chief: [alice]}\n"
            + "    people:\n"
            + "      alice: {email: alice@example.org, publicKey: '"
            + key
            + "'}\n"
            + "    notify:\n"
            + "      email: {smtp: {host: mail.example.org}, from: cc@example.org, to: [ops@example.org]}\n"
            + "      chat: {name: slack, webhook: 'env:SLACK_WEBHOOK'}\n");
    LoadedConfig c = new ConfigLoader(Map.of()).load(f);
    assertEquals("alice@example.org", c.environment("prod").people().get("alice").email());
    assertEquals("env:SLACK_WEBHOOK", c.environment("prod").notifications().chat().webhook());
  }

  static ConfigException refused(Path dir, String yaml) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.writeString(f, yaml);
    return assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).load(f));
  }

  static final String HEAD =
      "environments:\n" + "  prod:\n" + "    approvers: {crew-chief: [alice], driver: [bob]}\n";

  @Test
  void whatCanNeverWorkIsRefusedWithTheKeyAndWhatIsExpected(@TempDir Path dir) throws Exception {
    assertEquals(
        dir.resolve("crewchief.yaml")
            + ": environments.prod.hosts.web.port: expected a port number 1-65535, found 70000",
        refused(dir, HEAD + "    hosts: {web: {address: h, port: 70000}}\n").getMessage());
    assertEquals(
        dir.resolve("crewchief.yaml")
            + ": environments.prod.hosts.web.port: expected a whole number, found \"abc\"",
        refused(dir, HEAD + "    hosts: {web: {address: h, port: abc}}\n").getMessage());
    String twice = refused(dir, HEAD + "    hosts: {}\n    hosts: {}\n").getMessage();
    assertTrue(
        twice.contains("the key 'hosts' is there twice") && twice.contains("keep one"), twice);
    String chef =
        refused(dir, HEAD + "    gates: {confirm-release: {roles: [crew-chef]}}\n").getMessage();
    assertTrue(
        chef.contains("environments.prod.gates.confirm-release.roles: no role 'crew-chef'")
            && chef.contains("nobody could ever pass this gate")
            && chef.contains("the roles are: crew-chief, driver"),
        chef);
    String nobody =
        refused(dir, "environments:\n  prod:\n    approvers: {crew-chief: []}\n").getMessage();
    assertTrue(
        nobody.contains("environments.prod.approvers.crew-chief: nobody holds this role"), nobody);
    String gate =
        refused(dir, HEAD + "    gates: {confirm-relase: {timeout: PT1H}}\n").getMessage();
    assertTrue(
        gate.contains(
                "environments.prod.gates.confirm-relase: no runbook has a gate 'confirm-relase'")
            && gate.contains("confirm-release"),
        gate);
    assertEquals(
        dir.resolve("crewchief.yaml")
            + ": environments: expected a mapping (key: value) of environment names to their"
            + " settings, found a list",
        refused(dir, "environments:\n  - prod\n").getMessage());
    assertEquals(
        dir.resolve("crewchief.yaml")
            + ": environments.prod.hosts.web: expected a mapping (key: value), found the text \"h\"",
        refused(dir, HEAD + "    hosts: {web: h}\n").getMessage());
    String list = refused(dir, HEAD + "    hosts: [web]\n").getMessage();
    assertTrue(
        list.contains("environments.prod.hosts: expected a mapping (key: value), found a list"),
        list);
    String duration =
        refused(dir, HEAD + "    gates: {confirm-release: {timeout: 4h}}\n").getMessage();
    assertTrue(
        duration.contains(
            "environments.prod.gates.confirm-release.timeout: expected an ISO-8601"
                + " duration such as PT4H or P2D, found \"4h\""),
        duration);
    String key =
        refused(dir, HEAD + "    people: {alice: {publicKey: 'ssh-ed25519 nonsense'}}\n")
            .getMessage();
    assertTrue(key.contains("environments.prod.people.alice.publicKey"), key);
  }

  @Test
  void aFileThatIsNotUtf8IsRefused(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("crewchief.yaml");
    Files.write(
        f, (HEAD + "    # caf\u00e9\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    ConfigException e =
        assertThrows(ConfigException.class, () -> new ConfigLoader(Map.of()).load(f));
    assertTrue(e.getMessage().contains("is not UTF-8 text"), e.getMessage());
  }

  @Test
  void theWorkerRefusesARunbookSectionTheCliWouldRefuse(@TempDir Path dir) throws Exception {
    String missing =
        refused(dir, HEAD + "    randopony:\n" + "      host: web\n" + "      appName: randopony\n")
            .getMessage();
    assertTrue(missing.contains("environments.prod.randopony.webappsDir: missing"), missing);
  }
}
