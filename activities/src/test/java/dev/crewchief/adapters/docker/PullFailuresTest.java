package dev.crewchief.adapters.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.EngineRef;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.Test;

/**
 * How a failed pull is sorted from what the engine said, with messages in the words of Docker,
 * podman and the registries (the engine test sees only the few a local registry produces).
 */
class PullFailuresTest {
  static final EngineRef ANONYMOUS = new EngineRef("prod", "unix:///run/docker.sock", null, null);
  static final EngineRef LOGGED_IN =
      new EngineRef("prod", "unix:///run/docker.sock", null, "env:REGISTRY_LOGIN");
  static final String IMAGE = "registry.example.org/cyverse/atmosphere:v36-1";

  static ApplicationFailure pull(EngineRef engine, String why) {
    return PullFailures.classify(engine, IMAGE, why, false);
  }

  static ApplicationFailure await(EngineRef engine, String why) {
    return PullFailures.classify(engine, IMAGE, why, true);
  }

  static void is(String type, boolean retried, ApplicationFailure f) {
    assertEquals(type, f.getType(), f.getOriginalMessage());
    assertEquals(!retried, f.isNonRetryable(), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains(IMAGE), f.getOriginalMessage());
  }

  @Test
  void anUnknownTagIsNotFoundWhenPulledButAwaitedWhenItMayStillBeBuilt() {
    String unknown = "manifest unknown: manifest unknown";
    is("ImageNotFound", false, pull(LOGGED_IN, unknown));
    is("ImageNotPublished", true, await(LOGGED_IN, unknown));
    is("ImageNotPublished", true, await(ANONYMOUS, "Error: " + IMAGE + ": not found"));
  }

  @Test
  void aRefusedLoginIsNeverWaitedFor() {
    for (String why :
        new String[] {
          "unauthorized: authentication required",
          "pull access denied for cyverse/atmosphere, repository does not exist",
          "Head https://registry.example.org/v2/...: denied: requested access to the resource"
              + " is denied (manifest unknown)"
        }) {
      is("ImageNotFound", false, await(LOGGED_IN, why));
      is("ImageNotFound", false, pull(LOGGED_IN, why));
    }
  }

  @Test
  void theMessageNamesTheCredentialsToCheck() {
    ApplicationFailure none = pull(ANONYMOUS, "name unknown: repository name not known");
    assertTrue(none.getOriginalMessage().contains("credentials (none configured)"));
    ApplicationFailure named = pull(LOGGED_IN, "name unknown: repository name not known");
    assertTrue(named.getOriginalMessage().contains("credentials (env:REGISTRY_LOGIN)"));
  }

  @Test
  void aRegistryTheEngineCannotReachIsRetried() {
    for (String why :
        new String[] {
          "dial tcp 10.0.0.5:443: connect: connection refused",
          "dial tcp: lookup registry.example.org: no such host",
          "net/http: TLS handshake timeout",
          "read tcp: i/o timeout",
          "connect: network is unreachable",
          "read: connection reset by peer",
          "toomanyrequests: Too Many Requests"
        }) {
      ApplicationFailure f = await(LOGGED_IN, why);
      is("RegistryUnreachable", true, f);
      assertTrue(f.getOriginalMessage().contains("could not reach the registry"), why);
    }
  }

  @Test
  void whatIsNotRecognisedIsRetried() {
    ApplicationFailure f = pull(LOGGED_IN, "something odd happened");
    is("RegistryUnreachable", true, f);
    assertFalse(f.getOriginalMessage().contains("could not reach"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("something odd happened"));
  }
}
