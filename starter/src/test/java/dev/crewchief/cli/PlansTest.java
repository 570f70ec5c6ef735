package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.atmosphere.AtmosphereDeploymentDay;
import dev.crewchief.atmosphere.AtmosphereReleaseRequest;
import dev.crewchief.atmosphere.AtmosphereSite;
import dev.crewchief.config.ConfigException;
import dev.crewchief.config.ConfigLoader;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.release.ReleaseContext;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.common.converter.DefaultDataConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config resolved into workflow input, and release ids read back, for the Atmosphere runbook. */
class PlansTest {
  static LoadedConfig load(Path file, Map<String, String> env) {
    return new ConfigLoader(env).load(file);
  }

  static Path example() {
    Path p = Path.of("").toAbsolutePath();
    while (!Files.exists(p.resolve("deploy/examples/atmosphere.yaml"))) {
      p = p.getParent();
    }
    return p.resolve("deploy/examples/atmosphere.yaml");
  }

  @Test
  void theExampleResolvesToASiteWithImagesTaggedByVersion() {
    AtmosphereSite site =
        Plans.atmosphere(load(example(), Map.of()), "prod", List.of("atmosphere"));
    assertEquals("atmosphere-docker", site.project());
    assertEquals("unix:///var/run/docker.sock", site.engine().host());
    assertEquals("cyverse/atmosphere:v36-1", site.image("atmosphere", "36-1"));
    assertEquals(Duration.ofMinutes(10), site.readyTimeout());
    assertEquals(List.of("service", "nginx", "restart"), site.proxyRestartCommand());
  }

  @Test
  void badSettingsNameTheKeyToFix(@TempDir Path tmp) throws Exception {
    LoadedConfig wrongHost =
        load(
            example(),
            Map.of(
                "CREWCHIEF__environments__prod__atmosphere__engine__host", "/var/run/docker.sock"));
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> Plans.atmosphere(wrongHost, "prod", List.of("atmosphere")));
    assertTrue(e.getMessage().contains("environments.prod.atmosphere.engine.host"), e.getMessage());
    assertTrue(e.getMessage().contains("unix:///var/run/docker.sock"), e.getMessage());

    ConfigException unknownService =
        assertThrows(
            ConfigException.class,
            () -> Plans.atmosphere(load(example(), Map.of()), "prod", List.of("celery")));
    assertTrue(
        unknownService.getMessage().contains("environments.prod.atmosphere.images.celery"),
        unknownService.getMessage());

    LoadedConfig plainPassword =
        load(
            example(),
            Map.of("CREWCHIEF__environments__prod__atmosphere__engine__registryAuth", "hunter2"));
    ConfigException secret =
        assertThrows(
            ConfigException.class,
            () -> Plans.atmosphere(plainPassword, "prod", List.of("atmosphere")));
    assertTrue(secret.getMessage().contains("secret reference"), secret.getMessage());
    assertTrue(!secret.getMessage().contains("hunter2"), "the message does not echo the secret");
  }

  @Test
  void theReleaseExampleResolvesBetaAndProductionDays() {
    ReleaseContext ctx =
        new ReleaseContext(
            "atmosphere-release",
            "prod",
            "36-1",
            true,
            "tester",
            Map.of("crew-chief", List.of("andy"), "driver", List.of("sgregory")),
            Map.of(),
            List.of());
    AtmosphereReleaseRequest r =
        Plans.atmosphereRelease(
            load(example(), Map.of()),
            ctx,
            "andy",
            "sgregory",
            Instant.parse("2026-12-10T16:00:00Z"));
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

    ConfigException stranger =
        assertThrows(
            ConfigException.class,
            () ->
                Plans.atmosphereRelease(
                    load(example(), Map.of()), ctx, "mallory", "sgregory", Instant.now()));
    assertTrue(stranger.getMessage().contains("'mallory' is not one of"), stranger.getMessage());
    ConfigException plainPassword =
        assertThrows(
            ConfigException.class,
            () ->
                Plans.atmosphereRelease(
                    load(
                        example(),
                        Map.of(
                            "CREWCHIEF__environments__prod__atmosphere__release__notice__smtp__password",
                            "hunter2")),
                    ctx,
                    "andy",
                    "sgregory",
                    Instant.now()));
    assertTrue(
        plainPassword.getMessage().contains("release.notice.smtp.password")
            && !plainPassword.getMessage().contains("hunter2"),
        plainPassword.getMessage());
  }

  @Test
  void releaseIdsAreReadBackWithDashedVersionsAndEnvironments() {
    assertArrayEquals(
        new String[] {"atmosphere-hotfix", "prod", "36-7"},
        CrewChiefCli.ListCmd.parse("release-atmosphere-hotfix-prod-36-7"));
    assertArrayEquals(
        new String[] {"atmosphere-hotfix", "jetstream-prod", "36-7"},
        CrewChiefCli.ListCmd.parse("release-atmosphere-hotfix-jetstream-prod-36-7"));
    assertArrayEquals(
        new String[] {"randopony-promote", "prod", "2014r1"},
        CrewChiefCli.ListCmd.parse("release-randopony-promote-prod-2014r1"));
    assertArrayEquals(
        new String[] {"atmosphere-deploy", "atmobeta", "36-1"},
        CrewChiefCli.ListCmd.parse("release-atmosphere-deploy-atmobeta-36-1"));
    assertNull(CrewChiefCli.ListCmd.parse("something-else"));
  }

  @Test
  void deploymentDayAloneHasTheDriversGateTodaysTitleAndTheComposeFile() {
    ReleaseContext ctx =
        new ReleaseContext(
            "atmosphere-deploy",
            "atmobeta",
            "36-1",
            false,
            "tester",
            Map.of("driver", List.of("sgregory")),
            Map.of(),
            List.of());
    LoadedConfig config = load(example(), Map.of());
    // atmobeta has no release settings of its own: the message must be given.
    ConfigException noMessage =
        assertThrows(
            ConfigException.class,
            () -> Plans.deploymentDay(config, ctx, "sgregory", null, LocalDate.of(2026, 12, 10)));
    assertTrue(
        noMessage.getMessage().contains("environments.atmobeta.atmosphere.release.message")
            && noMessage.getMessage().contains("--message"),
        noMessage.getMessage());
    AtmosphereDeploymentDay.DayRequest r =
        Plans.deploymentDay(config, ctx, "sgregory", "Down for v36-1.", LocalDate.of(2026, 12, 10));
    assertTrue(r.day().testGate(), "the driver tests before the proxy goes back");
    assertEquals("2026-12-10", r.date());
    assertEquals("2026-12-10 v36-1 deployment", r.title());
    assertEquals("Down for v36-1.", r.message());
    assertEquals("/opt/dev/atmosphere-docker", r.day().site().compose().repo().path());
    assertEquals("master", r.day().site().compose().repo().branch());
    assertEquals("docker-compose.prod.yml", r.day().site().compose().file());

    ConfigException stranger =
        assertThrows(
            ConfigException.class,
            () -> Plans.deploymentDay(config, ctx, "mallory", "m", LocalDate.of(2026, 12, 10)));
    assertTrue(stranger.getMessage().contains("'mallory' is not one of"), stranger.getMessage());
    ConfigException absoluteFile =
        assertThrows(
            ConfigException.class,
            () ->
                Plans.deploymentDay(
                    load(
                        example(),
                        Map.of(
                            "CREWCHIEF__environments__atmobeta__atmosphere__compose__file",
                            "/etc/passwd")),
                    ctx,
                    "sgregory",
                    "m",
                    LocalDate.of(2026, 12, 10)));
    assertTrue(
        absoluteFile.getMessage().contains("environments.atmobeta.atmosphere.compose.file"),
        absoluteFile.getMessage());
  }

  static WorkflowExecutionInfo open(String id, String runbook, String env) {
    WorkflowExecutionInfo.Builder b =
        WorkflowExecutionInfo.newBuilder()
            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id).build());
    if (runbook != null) {
      var sa = io.temporal.api.common.v1.SearchAttributes.newBuilder();
      sa.putIndexedFields(
          "CrewChiefRunbook", DefaultDataConverter.STANDARD_INSTANCE.toPayload(runbook).get());
      sa.putIndexedFields(
          "CrewChiefEnvironment", DefaultDataConverter.STANDARD_INSTANCE.toPayload(env).get());
      b.setSearchAttributes(sa.build());
    }
    return b.build();
  }

  @Test
  void oneReleaseAtATimeIsPerRunbookAndEnvironmentNotPerIdPrefix() {
    assertEquals(
        new CrewChiefCli.Lane("atmosphere-hotfix", "prod"),
        CrewChiefCli.StartOptions.identity(
            open("release-atmosphere-hotfix-prod-36-7", null, null)));
    assertEquals(
        new CrewChiefCli.Lane("atmosphere-hotfix", "prod-eu"),
        CrewChiefCli.StartOptions.identity(
            open("release-atmosphere-hotfix-prod-eu-36-7", null, null)),
        "prod-eu is another environment");
    // A release's beta day has no id of the form; its search attributes say what it is.
    assertNull(
        CrewChiefCli.StartOptions.identity(
            open("release-atmosphere-release-prod-36-1-beta", null, null)));
    assertEquals(
        new CrewChiefCli.Lane("atmosphere-deploy", "atmobeta"),
        CrewChiefCli.StartOptions.identity(
            open("release-atmosphere-release-prod-36-1-beta", "atmosphere-deploy", "atmobeta")));
    CrewChiefCli.AtmosphereDeployCmd deploy = new CrewChiefCli.AtmosphereDeployCmd();
    deploy.environment = "prod";
    assertEquals(
        List.of(new CrewChiefCli.Lane("atmosphere-release", "prod")), deploy.exclusiveWith());
    assertTrue(new CrewChiefCli.AtmosphereHotfixCmd().exclusiveWith().isEmpty());
  }
}
