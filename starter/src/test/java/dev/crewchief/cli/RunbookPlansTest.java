package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.atmosphere.AtmosphereDeploymentDay;
import dev.crewchief.atmosphere.AtmosphereReleaseRequest;
import dev.crewchief.atmosphere.AtmosphereSite;
import dev.crewchief.atmosphere.HotfixRequest;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.worker.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Config resolved into workflow input through the runbooks' descriptors, and release ids read back,
 * for the Atmosphere runbooks.
 */
class RunbookPlansTest {
  static final Instant NOW = Instant.parse("2026-12-01T09:00:00Z");

  static LoadedConfig load(Map<String, String> env) {
    return new ConfigLoader(env).load(example());
  }

  static Path example() {
    Path p = Path.of("").toAbsolutePath();
    while (!Files.exists(p.resolve("deploy/examples/atmosphere.yaml"))) {
      p = p.getParent();
    }
    return p.resolve("deploy/examples/atmosphere.yaml");
  }

  static Object plan(
      String runbook, LoadedConfig config, String env, String version, Map<String, String> opts) {
    Runbook rb = Runbooks.all().find(runbook);
    Map<String, String> options = new HashMap<>();
    rb.options().forEach(o -> options.put(o.name(), o.defaultValue()));
    options.putAll(opts);
    return rb.plan(
        new StartRequest(config, env, version, false, "tester", options, List.of(), NOW));
  }

  static AtmosphereSite hotfixSite(LoadedConfig config, String service) {
    return ((HotfixRequest)
            plan("atmosphere-hotfix", config, "prod", "36-1", Map.of("service", service)))
        .site();
  }

  @Test
  void theExampleResolvesToASiteWithImagesTaggedByVersion() {
    AtmosphereSite site = hotfixSite(load(Map.of()), "atmosphere");
    assertEquals("atmosphere-docker", site.project());
    assertEquals("unix:///var/run/docker.sock", site.engine().host());
    assertEquals("cyverse/atmosphere:v36-1", site.image("atmosphere", "36-1"));
    assertEquals(Duration.ofMinutes(10), site.readyTimeout());
    assertEquals(List.of("service", "nginx", "restart"), site.proxyRestartCommand());
  }

  @Test
  void badSettingsNameTheKeyToFix() {
    // Settings that can never work are refused when the file is loaded (CLI and worker alike).
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                load(
                    Map.of(
                        "CREWCHIEF__environments__prod__atmosphere__engine__host",
                        "/var/run/docker.sock")));
    assertTrue(e.getMessage().contains("environments.prod.atmosphere.engine.host"), e.getMessage());
    assertTrue(e.getMessage().contains("unix:///var/run/docker.sock"), e.getMessage());

    ConfigException unknownService =
        assertThrows(ConfigException.class, () -> hotfixSite(load(Map.of()), "celery"));
    assertTrue(
        unknownService.getMessage().contains("environments.prod.atmosphere.images.celery"),
        unknownService.getMessage());

    ConfigException secret =
        assertThrows(
            ConfigException.class,
            () ->
                load(
                    Map.of(
                        "CREWCHIEF__environments__prod__atmosphere__engine__registryAuth",
                        "hunter2")));
    assertTrue(secret.getMessage().contains("secret reference"), secret.getMessage());
    assertTrue(!secret.getMessage().contains("hunter2"), "the message does not echo the secret");
  }

  @Test
  void aReleaseWithTheCrewChiefAndDriverSwappedIsRefusedBeforeItStarts() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                plan(
                    "atmosphere-release",
                    load(Map.of()),
                    "prod",
                    "36-1",
                    release("sgregory", "andy", "2026-12-10T16:00:00Z")));
    assertTrue(
        e.getMessage()
            .startsWith("--crew-chief sgregory does not hold the role crew-chief in prod"),
        e.getMessage());
    assertTrue(e.getMessage().contains("environments.prod.approvers"), e.getMessage());
  }

  static Map<String, String> release(String crewChief, String driver, String window) {
    return Map.of("window", window, "crew-chief", crewChief, "driver", driver);
  }

  @Test
  void theReleaseExampleResolvesBetaAndProductionDays() {
    AtmosphereReleaseRequest r =
        (AtmosphereReleaseRequest)
            plan(
                "atmosphere-release",
                load(Map.of()),
                "prod",
                "36-1",
                release("andy", "sgregory", "2026-12-10T16:00:00Z"));
    assertEquals("atmobeta", r.beta().environment());
    assertEquals("tcp://atmobeta.cyverse.org:2376", r.beta().site().engine().host());
    assertEquals("atmobeta", r.beta().secrets().branch());
    assertEquals("prod", r.production().secrets().branch());
    assertTrue(r.production().testGate() && !r.beta().testGate());
    assertEquals(List.of("troposphere", "atmosphere"), r.production().services());
    assertEquals(2, r.production().databases().size());
    assertEquals(List.of("atmosphere-users@cyverse.org"), r.notice().to());
    assertEquals("env:SMTP_PASSWORD", r.notice().server().passwordRef());
    assertEquals(Duration.ofDays(14), r.notice().lead());
    assertEquals("/opt/dev/atmosphere", r.candidate().repo().path());
    // The release's own crew chief and driver are its gates' people.
    assertEquals(List.of("andy"), r.context().approvers().get("crew-chief"));
    assertEquals(List.of("sgregory"), r.context().approvers().get("driver"));

    IllegalArgumentException stranger =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                plan(
                    "atmosphere-release",
                    load(Map.of()),
                    "prod",
                    "36-1",
                    release("mallory", "sgregory", "2026-12-10T16:00:00Z")));
    assertTrue(
        stranger.getMessage().contains("mallory does not hold the role"), stranger.getMessage());
    ConfigException plainPassword =
        assertThrows(
            ConfigException.class,
            () ->
                plan(
                    "atmosphere-release",
                    load(
                        Map.of(
                            "CREWCHIEF__environments__prod__atmosphere__release__notice__smtp__password",
                            "hunter2")),
                    "prod",
                    "36-1",
                    release("andy", "sgregory", "2026-12-10T16:00:00Z")));
    assertTrue(
        plainPassword.getMessage().contains("release.notice.smtp.password")
            && !plainPassword.getMessage().contains("hunter2"),
        plainPassword.getMessage());
    // A window too soon for two working days' notice is refused before anything starts.
    IllegalArgumentException tooSoon =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                plan(
                    "atmosphere-release",
                    load(Map.of()),
                    "prod",
                    "36-1",
                    release("andy", "sgregory", "2026-12-02T16:00:00Z")));
    assertEquals(
        "--window 2026-12-02T16:00:00Z is too soon: the maintenance notice must go out two working"
            + " days before it (2026-11-30T16:00:00Z); the earliest possible window is"
            + " 2026-12-03T09:00:00Z",
        tooSoon.getMessage());
    IllegalArgumentException past =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                plan(
                    "atmosphere-release",
                    load(Map.of()),
                    "prod",
                    "36-1",
                    release("andy", "sgregory", "2026-11-20T16:00:00Z")));
    assertEquals(
        "--window 2026-11-20T16:00:00Z is in the past (it is now 2026-12-01T09:00:00Z); the"
            + " earliest possible window is 2026-12-03T09:00:00Z",
        past.getMessage());
  }

  @Test
  void releaseIdsAreReadBackWithDashedVersionsAndEnvironments() {
    Runbooks rb = Runbooks.all();
    assertArrayEquals(
        new String[] {"atmosphere-hotfix", "prod", "36-7"},
        rb.parseReleaseId("release-atmosphere-hotfix-prod-36-7"));
    assertArrayEquals(
        new String[] {"atmosphere-hotfix", "jetstream-prod", "36-7"},
        rb.parseReleaseId("release-atmosphere-hotfix-jetstream-prod-36-7"));
    assertArrayEquals(
        new String[] {"randopony-promote", "prod", "2014r1"},
        rb.parseReleaseId("release-randopony-promote-prod-2014r1"));
    assertArrayEquals(
        new String[] {"atmosphere-deploy", "atmobeta", "36-1"},
        rb.parseReleaseId("release-atmosphere-deploy-atmobeta-36-1"));
    assertNull(rb.parseReleaseId("something-else"));
    assertNull(rb.parseReleaseId("release-atmosphere-release-prod-36-1-beta"));
  }

  @Test
  void deploymentDayAloneHasTheDriversGateTodaysTitleAndTheComposeFile() {
    LoadedConfig config = load(Map.of());
    // atmobeta has no release settings of its own: the message must be given.
    ConfigException noMessage =
        assertThrows(
            ConfigException.class,
            () ->
                plan(
                    "atmosphere-deploy", config, "atmobeta", "36-1", Map.of("driver", "sgregory")));
    assertTrue(
        noMessage.getMessage().contains("environments.atmobeta.atmosphere.release.message")
            && noMessage.getMessage().contains("--message"),
        noMessage.getMessage());
    AtmosphereDeploymentDay.DayRequest r =
        (AtmosphereDeploymentDay.DayRequest)
            plan(
                "atmosphere-deploy",
                config,
                "atmobeta",
                "36-1",
                Map.of("driver", "sgregory", "message", "Down for v36-1."));
    assertTrue(r.day().testGate(), "the driver tests before the proxy goes back");
    assertEquals("2026-12-01", r.date());
    assertEquals("2026-12-01 v36-1 deployment", r.title());
    assertEquals("Down for v36-1.", r.message());
    assertEquals(Map.of("driver", List.of("sgregory")), r.context().approvers());
    assertEquals("/opt/dev/atmosphere-docker", r.day().site().compose().repo().path());
    assertEquals("master", r.day().site().compose().repo().branch());
    assertEquals("docker-compose.prod.yml", r.day().site().compose().file());

    IllegalArgumentException stranger =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                plan(
                    "atmosphere-deploy",
                    config,
                    "atmobeta",
                    "36-1",
                    Map.of("driver", "mallory", "message", "m")));
    assertTrue(
        stranger.getMessage().contains("mallory does not hold the role"), stranger.getMessage());
    ConfigException absoluteFile =
        assertThrows(
            ConfigException.class,
            () ->
                plan(
                    "atmosphere-deploy",
                    load(
                        Map.of(
                            "CREWCHIEF__environments__atmobeta__atmosphere__compose__file",
                            "/etc/passwd")),
                    "atmobeta",
                    "36-1",
                    Map.of("driver", "sgregory", "message", "m")));
    assertTrue(
        absoluteFile.getMessage().contains("environments.atmobeta.atmosphere.compose.file"),
        absoluteFile.getMessage());
  }

  @Test
  void deploymentDayAndTheReleaseShareALaneTheHotfixHasItsOwn() {
    Runbooks rb = Runbooks.all();
    assertEquals(
        rb.find("atmosphere-deploy").lane("prod"), rb.find("atmosphere-release").lane("prod"));
    assertNotEquals(
        rb.find("atmosphere-deploy").lane("prod"), rb.find("atmosphere-deploy").lane("prod-eu"));
    assertNotEquals(
        rb.find("atmosphere-hotfix").lane("prod").workflowId(),
        rb.find("atmosphere-deploy").lane("prod").workflowId());
    assertEquals(
        "lane-randopony-promote-prod", rb.find("randopony-promote").lane("prod").workflowId());
  }

  @Test
  void anUnknownKeyInAnEnvironmentIsRefusedWithTheKnownOnes() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> load(Map.of("CREWCHIEF__environments__prod__atmospheer__project", "x")));
    assertTrue(e.getMessage().contains("environments.prod.atmospheer"), e.getMessage());
    assertTrue(e.getMessage().contains("atmosphere"), e.getMessage());
  }
}
