package dev.crewchief.adapters.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.AuthConfig;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry login of an engine, from a secret, for the registry an image names. */
class RegistryLoginsTest {
  static final String LOGIN = "{\"username\": \"crewchief\", \"password\": \"pa55-w0rd-xyz\"}";
  final RegistryLogins logins =
      new RegistryLogins(
          new SecretResolver(Map.of("LOGIN", LOGIN, "GARBAGE", "crewchief:s3cret-garbage")));

  static EngineRef engine(String authRef) {
    return new EngineRef("prod", "unix:///run/docker.sock", null, authRef);
  }

  @Test
  void theLoginIsForTheRegistryTheImageNames() {
    AuthConfig own = logins.login(engine("env:LOGIN"), ImageRef.parse("localhost:5000/x:y"));
    assertEquals("crewchief", own.getUsername());
    assertEquals("pa55-w0rd-xyz", own.getPassword());
    assertEquals("localhost:5000", own.getRegistryAddress());
    assertEquals(
        "registry.example.org",
        logins
            .login(engine("env:LOGIN"), ImageRef.parse("registry.example.org/a/b:1"))
            .getRegistryAddress());
    // A namespace is no registry: cyverse/... is on the default registry.
    assertEquals(
        RegistryLogins.DEFAULT_REGISTRY_ADDRESS,
        logins
            .login(engine("env:LOGIN"), ImageRef.parse("cyverse/atmosphere:v1"))
            .getRegistryAddress());
  }

  @Test
  void aSecretThatIsNoLoginIsRefusedWithoutQuotingIt() {
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> logins.login(engine("env:GARBAGE"), ImageRef.parse("localhost/x:1")));
    assertEquals("SecretUnresolved", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("env:GARBAGE"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains("s3cret-garbage"), f.getOriginalMessage());
    ApplicationFailure unset =
        assertThrows(
            ApplicationFailure.class,
            () -> logins.login(engine("env:UNSET"), ImageRef.parse("localhost/x:1")));
    assertEquals("SecretUnresolved", unset.getType());
  }

  @Test
  void theReferenceIsCheckedForFormWithoutResolvingIt() {
    assertFalse(RegistryLogins.configured(engine(null)));
    assertFalse(RegistryLogins.configured(engine(" ")));
    assertTrue(RegistryLogins.configured(engine("env:UNSET")));
    RegistryLogins.requireWellFormed(engine(null));
    RegistryLogins.requireWellFormed(engine("env:UNSET"));
    RegistryLogins.requireWellFormed(engine("file:/etc/crewchief/registry.json"));
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> RegistryLogins.requireWellFormed(engine("crewchief:hunter2")));
    assertEquals("InvalidInput", f.getType());
  }
}
