package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.DockerFailures.invalid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.AuthConfig;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;

/**
 * The registry login an engine's pulls use: its {@code registryAuthRef} names a secret holding
 * {@code {"username": ..., "password": ...}}, resolved on the worker when a pull needs it, so that
 * only the reference is in workflow history. The secret's content never appears in a message.
 */
final class RegistryLogins {
  /** Where engines log in for an image of the default registry. */
  static final String DEFAULT_REGISTRY_ADDRESS = "https://index.docker.io/v1/";

  private final SecretResolver secrets;
  private final ObjectMapper json = new ObjectMapper();

  RegistryLogins(SecretResolver secrets) {
    this.secrets = secrets;
  }

  /** Whether the engine's pulls log in at all. */
  static boolean configured(EngineRef engine) {
    return engine.registryAuthRef() != null && !engine.registryAuthRef().isBlank();
  }

  /** Checks the form of the engine's login reference without resolving it (dry runs do this). */
  static void requireWellFormed(EngineRef engine) {
    if (configured(engine) && !SecretResolver.wellFormed(engine.registryAuthRef())) {
      // The malformed value is not quoted: it may be the credentials themselves.
      throw invalid(
          "the registry auth reference of engine "
              + engine.name()
              + " is not of the form file:/path or env:NAME (not shown: it may be the secret"
              + " itself)");
    }
  }

  /**
   * The login for pulling {@code image} to the engine, for the registry the image names (the
   * default registry's address when it names none).
   *
   * @throws ApplicationFailure {@code SecretUnresolved} when the secret is missing or not such an
   *     object
   */
  AuthConfig login(EngineRef engine, ImageRef image) {
    String raw =
        secrets.resolve(engine.registryAuthRef(), "the registry login of engine " + engine.name());
    JsonNode n;
    try {
      n = json.readTree(raw);
    } catch (IOException e) {
      n = null;
    }
    if (n == null || !n.path("username").isTextual() || !n.path("password").isTextual()) {
      // The secret's content is never quoted in the message.
      throw ApplicationFailure.newNonRetryableFailure(
          "registry secret "
              + engine.registryAuthRef()
              + " is not a JSON object with \"username\" and \"password\"",
          "SecretUnresolved");
    }
    return new AuthConfig()
        .withUsername(n.get("username").asText())
        .withPassword(n.get("password").asText())
        .withRegistryAddress(
            image.registry() == null ? DEFAULT_REGISTRY_ADDRESS : image.registry());
  }
}
