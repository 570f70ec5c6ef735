package dev.crewchief.adapters.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resolution, registration in {@link KnownSecrets}, preloading, and messages without values. */
class SecretResolverTest {
  @TempDir Path dir;

  @Test
  void resolvedValuesAreRegistered() throws Exception {
    Path file = Files.writeString(dir.resolve("db"), "file-secret-77\n");
    KnownSecrets known = new KnownSecrets();
    SecretResolver r = new SecretResolver(Map.of("API_TOKEN", "env-secret-88"), known);

    assertEquals("env-secret-88", r.resolve("env:API_TOKEN", "the API"));
    // As before: the file's content as it is; the callers strip the newline.
    assertEquals("file-secret-77\n", r.resolve("file:" + file, "the database"));
    assertEquals(Set.of("env-secret-88", "file-secret-77"), known.values());
    assertSame(known, r.known());
  }

  @Test
  void theOldConstructorKeepsWorkingWithARegistryOfItsOwn() {
    SecretResolver r = new SecretResolver(Map.of("X", "value-of-x"));
    assertEquals("value-of-x", r.resolve("env:X", "x"));
    assertNotNull(r.known());
    assertEquals(Set.of("value-of-x"), r.known().values());
  }

  @Test
  void aMalformedReferenceIsNeverEchoed() {
    KnownSecrets known = new KnownSecrets();
    SecretResolver r = new SecretResolver(Map.of(), known);
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class, () -> r.resolve("Pasted-Password-123", "the password of db"));
    assertEquals("SecretUnresolved", f.getType());
    assertTrue(f.isNonRetryable());
    assertEquals(
        "a secret reference for the password of db is not of the form file:/path or env:NAME (not"
            + " shown: it may be the secret itself)",
        f.getOriginalMessage());
    assertFalse(f.getMessage().contains("Pasted-Password-123"));
    // And it is masked in outputs from now on, since it may well be the secret.
    assertEquals("echo ***", new Scrubber(known).scrub("echo Pasted-Password-123"));
  }

  @Test
  void unresolvedReferencesKeepTheirMessages() {
    SecretResolver r = new SecretResolver(Map.of());
    ApplicationFailure env =
        assertThrows(ApplicationFailure.class, () -> r.resolve("env:NOPE", "the API"));
    assertEquals(
        "secret env:NOPE for the API: variable NOPE is not set on the worker",
        env.getOriginalMessage());
    Path missing = dir.resolve("missing");
    ApplicationFailure file =
        assertThrows(ApplicationFailure.class, () -> r.resolve("file:" + missing, "the key"));
    assertEquals(
        "secret file:"
            + missing
            + " for the key cannot be read on this worker: NoSuchFileException "
            + missing,
        file.getOriginalMessage());
    ApplicationFailure none = assertThrows(ApplicationFailure.class, () -> r.resolve(" ", "x"));
    assertEquals("no secret reference configured for x", none.getOriginalMessage());
  }

  @Test
  void preloadRegistersConfiguredSecretsAndReportsProblemsWithoutValues() throws Exception {
    Path key = Files.writeString(dir.resolve("key"), "-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n");
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    Path missing = dir.resolve("missing");
    KnownSecrets known = new KnownSecrets();
    SecretResolver r = new SecretResolver(Map.of("PG", "pg-secret-1234", "SHORT", "ab"), known);

    List<String> problems =
        r.preload(
            List.of(
                "env:PG",
                "file:" + key,
                "env:UNSET",
                "file:" + missing,
                "file:" + empty,
                "env:SHORT",
                "the-password-itself"));

    assertEquals(
        List.of(
            "env:UNSET: variable UNSET is not set on the worker",
            "file:" + missing + ": cannot be read on this worker: NoSuchFileException " + missing,
            "file:" + empty + ": is empty",
            "env:SHORT: shorter than 4 characters, too short to be masked in outputs",
            "a reference is not of the form file:/path or env:NAME (not shown: it may be the"
                + " secret itself)"),
        problems);
    for (String p : problems) {
      assertFalse(p.contains("the-password-itself") || p.contains("pg-secret"), p);
    }
    Scrubber s = new Scrubber(known);
    assertEquals(
        "*** and *** before first use",
        s.scrub("pg-secret-1234 and AAAABBBBCCCCDDDD before first use"));
  }
}
