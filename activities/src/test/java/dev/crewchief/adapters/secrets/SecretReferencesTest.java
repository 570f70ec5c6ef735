package dev.crewchief.adapters.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The references a worker preloads, found in a configuration by their form. */
class SecretReferencesTest {
  record Db(String host, String passwordRef) {}

  record Host(String name, String privateKey, Optional<String> token) {}

  record Env(Map<String, Db> databases, List<Host> hosts, String chatWebhook, int port) {}

  @Test
  void findsEveryReferenceInAConfiguration() {
    Env env =
        new Env(
            Map.of("app", new Db("db", "env:PG_APP")),
            List.of(
                new Host("web", "file:/etc/crewchief/web.key", Optional.of("env:WEB_TOKEN")),
                new Host("old", "file:/etc/crewchief/web.key", Optional.empty())),
            "file:/run/secrets/chat",
            5432);
    assertEquals(
        Set.of(
            "env:PG_APP", "file:/etc/crewchief/web.key", "env:WEB_TOKEN", "file:/run/secrets/chat"),
        SecretReferences.in(env));
  }

  @Test
  void plainStringsAndMalformedReferencesAreNotReferences() {
    assertEquals(Set.of(), SecretReferences.in(new Db("env:", "file:relative/path")));
    assertEquals(Set.of(), SecretReferences.in(null));
  }
}
