package dev.crewchief.atmosphere;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.LaneHolder;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.activities.PostgresActivities;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.TemporalActivities;
import dev.crewchief.activities.WebhookActivities;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.NginxConfig;
import dev.crewchief.release.Decisions;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseStatus;
import dev.crewchief.release.StepStatus;
import dev.crewchief.release.TestReleases;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.InOrder;

/**
 * AtmosphereRelease with mocked activities and time skipping: the notice timing and a late start,
 * the release candidate, beta first and its gate, deployment day in the runbook's order, a rejected
 * test gate and failures after the containers stopped with their rollback.
 */
class AtmosphereReleaseTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow =
      TestReleases.extension(AtmosphereReleaseImpl.class, AtmosphereDeploymentDayImpl.class);

  static final EngineRef ENGINE =
      new EngineRef("prod-docker", "unix:///run/docker.sock", null, null);
  static final HostRef PROXY =
      new HostRef("proxy", "proxy.example", 22, "root", "file:/keys/proxy", "/etc/known_hosts");
  static final NginxConfig NGINX =
      new NginxConfig(
          "/etc/nginx/sites-enabled", "80", "/run/nginx.pid", "nginx -t", "nginx -s reload", null);

  static DayPlan day(String env, boolean testGate) {
    AtmosphereSite site =
        new AtmosphereSite(
            ENGINE,
            "atmosphere-docker",
            Map.of("atmosphere", "cyverse/atmosphere", "troposphere", "cyverse/troposphere"),
            "v",
            "troposphere",
            List.of("service", "nginx", "restart"),
            false,
            Duration.ofMinutes(10),
            Map.of(),
            new ComposeFileRef(
                new GitRepoRef(
                    "atmosphere-docker", "/opt/dev/atmosphere-docker", "origin", "master"),
                "docker-compose.prod.yml"));
    return new DayPlan(
        env,
        site,
        List.of("troposphere", "atmosphere"),
        List.of(
            new DatabaseRef("atmo", "localhost", 5432, "atmo_prod", "atmo_app", "env:PGPASS"),
            new DatabaseRef("tropo", "localhost", 5432, "troposphere", "atmo_app", "env:PGPASS")),
        "/root",
        PROXY,
        NGINX,
        "/etc/nginx/sites-enabled/proxy.conf",
        "/etc/nginx/sites-available/default",
        "/etc/nginx/sites-available/proxy.conf",
        "https://atmo.example/",
        "Scheduled Maintenance",
        "Atmosphere",
        Map.of(
            "troposphere", List.of("bash", "-c", "./manage.py maintenance start --title '{title}'"),
            "atmosphere", List.of("bash", "-c", "./manage.py maintenance start --title '{title}'")),
        Map.of(
            "troposphere", List.of("bash", "-c", "./manage.py maintenance stop"),
            "atmosphere", List.of("bash", "-c", "./manage.py maintenance stop")),
        new GitRepoRef("secrets", "/opt/dev/atmosphere-docker-secrets", "origin", env),
        testGate);
  }

  DockerActivities docker;
  PostgresActivities postgres;
  ProxyActivities proxy;
  GitActivities git;
  MailActivities mail;
  WebhookActivities webhook;
  TestWorkflowEnvironment env;
  String taskQueue;
  final AtomicLong mailSentAt = new AtomicLong();

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    this.env = env;
    AtmosphereMocks m = new AtmosphereMocks();
    docker = m.docker;
    postgres = m.postgres;
    proxy = m.proxy;
    git = m.git;
    mail = m.mail;
    webhook = m.webhook;
    when(mail.send(any()))
        .thenAnswer(
            i -> {
              mailSentAt.set(env.currentTimeMillis());
              return new ActionResult("sent", false, "");
            });
    m.register(worker);
    // Who holds a lane, as the worker's client would find out from Temporal.
    TemporalActivities temporal =
        mock(TemporalActivities.class, withSettings().withoutAnnotations());
    when(temporal.describeLaneHolder(any()))
        .thenAnswer(
            i ->
                new LaneHolder(
                    i.getArgument(0),
                    true,
                    ReleaseIds.workflowId(AtmosphereRelease.RUNBOOK, "prod", "36-1"),
                    true,
                    "held"));
    worker.registerActivitiesImplementations(temporal);
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  @Test
  void deploymentDayCannotStartWhileAReleaseHoldsTheContainersOfItsEnvironment(
      WorkflowClient client) {
    AtmosphereRelease release = start(client, now().plus(Duration.ofDays(20)), false, false);
    // The release holds its lane while it waits to send the notice.
    for (int i = 0; i < 100 && !release.progress().laneHeld(); i++) {
      env.sleep(Duration.ofSeconds(1));
    }
    assertTrue(release.progress().laneHeld(), release.progress().toString());
    assertEquals("lane-atmosphere-containers-prod", release.progress().lane());

    AtmosphereDeploymentDay day =
        client.newWorkflowStub(
            AtmosphereDeploymentDay.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(
                    ReleaseIds.workflowId(AtmosphereDeploymentDay.RUNBOOK, "prod", "36-2"))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowClient.start(
        day::deploy,
        new AtmosphereDeploymentDay.DayRequest(
            new ReleaseContext(
                AtmosphereDeploymentDay.RUNBOOK,
                "prod",
                "36-2",
                false,
                "tester",
                Map.of("driver", List.of("sgregory")),
                Map.of(),
                List.of()),
            day("prod", true),
            "2026-12-10",
            "2026-12-10 v36-2 deployment",
            "down"));
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(day).getResult(ReleaseResult.class));
    ApplicationFailure f = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals("LaneBusy", f.getType());
    assertTrue(
        f.getOriginalMessage()
            .contains("release-atmosphere-release-prod-36-1 is running and holds"),
        f.getOriginalMessage());
    // Refused before it touched anything; the release is not disturbed.
    verify(postgres, never()).dumpDatabase(any());
    assertEquals(ReleaseStatus.FAILED, day.progress().status());
    assertTrue(release.progress().laneHeld());
    WorkflowStub.fromTyped(release).cancel();
  }

  AtmosphereRelease start(WorkflowClient client, Instant window, boolean beta, boolean dryRun) {
    ReleaseContext ctx =
        new ReleaseContext(
            AtmosphereRelease.RUNBOOK,
            "prod",
            "36-1",
            dryRun,
            "tester",
            Map.of("crew-chief", List.of("andy"), "driver", List.of("sgregory")),
            Map.of(
                "tested-in-production",
                new GateConfig(
                    null,
                    Duration.ofHours(12),
                    Duration.ofHours(1),
                    GateConfig.OnTimeout.ROLLBACK)),
            List.of());
    AtmosphereRelease wf =
        client.newWorkflowStub(
            AtmosphereRelease.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(AtmosphereRelease.RUNBOOK, "prod", "36-1"))
                .setTaskQueue(taskQueue)
                .build());
    AtmosphereReleaseRequest req =
        new AtmosphereReleaseRequest(
            ctx,
            "andy",
            "sgregory",
            window,
            "Atmosphere is down for a Scheduled Maintenance.",
            new NoticePlan(
                new MailServerRef("smtp", "smtp.example", 587, "starttls", null, null),
                "atmosphere@example.org",
                List.of("atmosphere-users@example.org"),
                Duration.ofDays(14),
                "https://status.example/api/maintenance",
                "env:STATUS_TOKEN"),
            new CandidatePlan(
                new GitRepoRef("atmosphere", "/opt/dev/atmosphere", "origin", "master"),
                "CHANGELOG.md",
                "Crew Chief",
                "crewchief@example.org",
                Duration.ofHours(6)),
            beta ? day("beta", false) : null,
            day("prod", true));
    WorkflowClient.start(wf::release, req);
    return wf;
  }

  Instant now() {
    return Instant.ofEpochMilli(env.currentTimeMillis());
  }

  /** Lets time pass (skipped) until the gate waits, in steps shorter than its timeout. */
  void awaitGate(AtmosphereRelease wf, String gate) {
    for (int i = 0; i < 24 * 40; i++) {
      for (GateView g : wf.progress().gates()) {
        if (g.name().equals(gate) && g.status() == GateStatus.WAITING) {
          return;
        }
      }
      env.sleep(Duration.ofMinutes(30));
    }
    throw new AssertionError("gate " + gate + " never opened: " + wf.progress());
  }

  static ApplicationFailure failure(AtmosphereRelease wf) {
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    return assertInstanceOf(ApplicationFailure.class, e.getCause());
  }

  static void keep(WorkflowClient client, String id, String name) {
    try {
      java.nio.file.Path dir = java.nio.file.Path.of("target", "histories");
      java.nio.file.Files.createDirectories(dir);
      java.nio.file.Files.writeString(
          dir.resolve(name + ".json"), client.fetchHistory(id).toJson(true));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aStartTooLateForTwoWorkingDaysNoticeIsRefusedWithTheEarliestWindow(WorkflowClient client) {
    AtmosphereRelease wf = start(client, now().plus(Duration.ofHours(20)), false, false);
    ApplicationFailure f = failure(wf);
    assertEquals("InvalidInput", f.getType());
    assertTrue(f.getOriginalMessage().contains("earliest possible window"), f.getOriginalMessage());
    verify(mail, never()).send(any());
    verify(docker, never()).stopService(any());
  }

  @Test
  void theWholeCalendarInTheRunbooksOrder(WorkflowClient client) {
    Instant window = now().plus(Duration.ofDays(20));
    AtmosphereRelease wf = start(client, window, true, false);
    awaitGate(wf, AtmosphereRelease.BETA_GATE);
    // The notice went out two weeks before the window, by a durable timer.
    Instant sent = Instant.ofEpochMilli(mailSentAt.get());
    assertTrue(
        !sent.isBefore(window.minus(Duration.ofDays(14)).minusSeconds(60))
            && sent.isBefore(window.minus(Duration.ofDays(13))),
        "notice sent at " + sent + " for a window at " + window);
    wf.decideGate(
        Decisions.at(
            env, AtmosphereRelease.BETA_GATE, GateDecision.Decision.APPROVE, "andy", "beta ok"));
    awaitGate(wf, DeploymentDay.TEST_GATE);
    assertTrue(!now().isBefore(window), "deployment day waits for the window");
    wf.decideGate(
        Decisions.at(
            env, DeploymentDay.TEST_GATE, GateDecision.Decision.APPROVE, "sgregory", "tested"));
    ReleaseResult r = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
    assertTrue(r.summary().contains("v36-1 is live on prod"), r.summary());
    // Kept for the replay test's recordings (src/test/resources/histories), refreshed by hand.
    String id = ReleaseIds.workflowId(AtmosphereRelease.RUNBOOK, "prod", "36-1");
    keep(client, id, "atmosphere-release-calendar");
    keep(client, id + "-beta", "atmosphere-release-calendar-beta-child");

    InOrder o = inOrder(mail, webhook, git, docker, postgres, proxy);
    o.verify(mail).send(argThat(m -> m.to().contains("atmosphere-users@example.org")));
    o.verify(webhook).post(any());
    o.verify(git)
        .cutRelease(argThat(c -> c.version().equals("36-1") && c.tagName().equals("v36-1")));
    o.verify(docker).awaitImage(argThat(p -> p.image().equals("cyverse/troposphere:v36-1")));
    // Beta: its own dumps first; production's come after the beta gate.
    o.verify(postgres).dumpDatabase(argThat(d -> d.fileName().startsWith("atmo-")));
    o.verify(docker).recreateService(argThat(d -> d.service().service().equals("atmosphere")));
    // Production deployment day, in order.
    o.verify(postgres).dumpDatabase(argThat(d -> d.database().database().equals("atmo_prod")));
    o.verify(postgres).dumpDatabase(argThat(d -> d.database().database().equals("troposphere")));
    o.verify(docker)
        .exec(
            argThat(
                e ->
                    e.service().service().equals("troposphere")
                        && e.command().get(2).contains("maintenance start")
                        && e.command().get(2).contains("v36-1 deployment")));
    o.verify(docker).exec(argThat(e -> e.service().service().equals("atmosphere")));
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/default")));
    o.verify(proxy).probe(argThat(p -> "Scheduled Maintenance".equals(p.expect())));
    o.verify(git).checkoutBranch(argThat(c -> c.branch().equals("prod")));
    o.verify(docker).stopService(argThat(s -> s.service().service().equals("troposphere")));
    o.verify(docker).stopService(argThat(s -> s.service().service().equals("atmosphere")));
    o.verify(docker)
        .commitContainer(
            argThat(
                c ->
                    c.repository().equals("old_atmosphere-docker_troposphere")
                        && c.tag().equals("before-36-1")));
    o.verify(docker).commitContainer(argThat(c -> c.service().service().equals("atmosphere")));
    // The runbook's 5 and 6: the compose checkout up to date (local changes stashed, never
    // reset away), then its image tags set to the release.
    o.verify(git)
        .checkoutBranch(
            argThat(
                c ->
                    c.repo().name().equals("atmosphere-docker")
                        && c.branch().equals("master")
                        && c.stashAs() != null
                        && c.stashAs().contains("release-atmosphere-release-prod-36-1")));
    o.verify(git)
        .setImageTags(
            argThat(
                t ->
                    t.images()
                        .equals(
                            Map.of(
                                "troposphere", "cyverse/troposphere:v36-1",
                                "atmosphere", "cyverse/atmosphere:v36-1"))));
    o.verify(docker).pullImage(argThat(p -> p.image().equals("cyverse/atmosphere:v36-1")));
    o.verify(docker).recreateService(argThat(d -> d.image().equals("cyverse/atmosphere:v36-1")));
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    o.verify(proxy).probe(argThat(p -> "Atmosphere".equals(p.expect())));
    o.verify(docker, times(2)).exec(argThat(e -> e.command().get(2).contains("maintenance stop")));
  }

  @Test
  void theReleaseWaitsForTheImagesOfItsTagUntilTheyArePublished(WorkflowClient client) {
    ApplicationFailure notYet =
        ApplicationFailure.newFailure("no cyverse/atmosphere:v36-1 yet", "ImageNotPublished");
    when(docker.awaitImage(argThat(p -> p != null && p.image().equals("cyverse/atmosphere:v36-1"))))
        .thenThrow(notYet, notYet, notYet)
        .thenReturn(new ActionResult("pulled", false, ""));
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), false, false);
    awaitGate(wf, DeploymentDay.TEST_GATE);
    // Polled (every minute) until the build published it, then the release went on.
    verify(docker, times(4)).awaitImage(argThat(p -> p.image().equals("cyverse/atmosphere:v36-1")));
    wf.decideGate(
        Decisions.at(env, DeploymentDay.TEST_GATE, GateDecision.Decision.APPROVE, "sgregory", ""));
    assertEquals(
        ReleaseStatus.SUCCEEDED,
        WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class).progress().status());
  }

  @Test
  void anImageThatNeverAppearsFailsTheReleaseBeforeAnythingIsTouched(WorkflowClient client) {
    when(docker.awaitImage(any()))
        .thenThrow(ApplicationFailure.newFailure("no image yet", "ImageNotPublished"));
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), false, false);
    ApplicationFailure f = failure(wf);
    assertTrue(f.getOriginalMessage().contains("wait until the image"), f.getOriginalMessage());
    verify(postgres, never()).dumpDatabase(any());
    verify(docker, never()).stopService(any());
  }

  @Test
  void rejectedTestGateRestoresTheBackupsThenTheProxyThenEndsMaintenance(WorkflowClient client) {
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), false, false);
    awaitGate(wf, DeploymentDay.TEST_GATE);
    wf.decideGate(
        Decisions.at(
            env, DeploymentDay.TEST_GATE, GateDecision.Decision.REJECT, "sgregory", "broken"));
    assertEquals("GateRejected", failure(wf).getType());
    InOrder o = inOrder(docker, proxy);
    o.verify(docker).recreateService(argThat(d -> d.image().equals("cyverse/atmosphere:v36-1")));
    o.verify(docker)
        .recreateService(
            argThat(d -> d.image().equals("old_atmosphere-docker_troposphere:before-36-1")));
    o.verify(docker)
        .recreateService(
            argThat(d -> d.image().equals("old_atmosphere-docker_atmosphere:before-36-1")));
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    o.verify(proxy).probe(argThat(p -> "Atmosphere".equals(p.expect())));
    o.verify(docker, times(2)).exec(argThat(e -> e.command().get(2).contains("maintenance stop")));
  }

  @Test
  void aFailedRecreateRollsBackAndTheOldVersionNotAnsweringKeepsMaintenanceOn(
      WorkflowClient client) {
    when(docker.recreateService(argThat(d -> d != null && d.image().contains(":v36-1"))))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "atmosphere-docker_atmosphere_1 not healthy", "ContainerUnhealthy"));
    when(proxy.probe(argThat(p -> p != null && "Atmosphere".equals(p.expect()))))
        .thenThrow(ApplicationFailure.newNonRetryableFailure("502", "InvalidInput"));
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), false, false);
    env.sleep(Duration.ofDays(6));
    ApplicationFailure f = failure(wf);
    assertEquals("ContainerUnhealthy", f.getType());
    verify(docker)
        .recreateService(
            argThat(d -> d.image().equals("old_atmosphere-docker_atmosphere:before-36-1")));
    verify(docker, never()).exec(argThat(e -> e.command().get(2).contains("maintenance stop")));
    // The proxy's undo failed (its probe never saw the old version) and maintenance was left on:
    // the release must not claim it rolled back.
    ReleaseProgress p = wf.progress();
    assertEquals(ReleaseStatus.ROLLBACK_INCOMPLETE, p.status());
    assertTrue(
        p.steps().stream()
            .anyMatch(
                st ->
                    st.name().equals("undo: proxy back to the app")
                        && st.status() == StepStatus.FAILED),
        p.steps().toString());
    String incomplete =
        p.notes().stream().filter(n -> n.startsWith("ROLLBACK INCOMPLETE")).findFirst().orElse("");
    assertTrue(incomplete.contains("proxy back to the app"), p.notes().toString());
    assertTrue(incomplete.contains("maintenance is still on"), p.notes().toString());
    // The failure itself says so too, and carries the notes for the report.
    assertTrue(f.getOriginalMessage().contains("ROLLBACK INCOMPLETE"), f.getOriginalMessage());
  }

  @Test
  void aFailureBeforeTheContainersStoppedOnlyPutsTheProxyBackAndEndsMaintenance(
      WorkflowClient client) {
    when(git.checkoutBranch(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure("secrets.env modified", "WorkTreeDirty"));
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), false, false);
    env.sleep(Duration.ofDays(6));
    assertEquals("WorkTreeDirty", failure(wf).getType());
    verify(docker, never()).stopService(any());
    verify(docker, never()).recreateService(any());
    verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    verify(docker, times(2)).exec(argThat(e -> e.command().get(2).contains("maintenance stop")));
  }

  @Test
  void rejectedBetaGateStopsBeforeProduction(WorkflowClient client) {
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), true, false);
    awaitGate(wf, AtmosphereRelease.BETA_GATE);
    wf.decideGate(
        Decisions.at(env, AtmosphereRelease.BETA_GATE, GateDecision.Decision.REJECT, "andy", "no"));
    assertEquals("GateRejected", failure(wf).getType());
    // Only beta's two databases were dumped: production was never touched.
    verify(postgres, times(2)).dumpDatabase(any());
    verify(docker, times(2)).stopService(any());
    verify(git, never()).checkoutBranch(argThat(c -> c.branch().equals("prod")));
  }

  @Test
  void theDriverNotTheCrewChiefPassesTheTestGate(WorkflowClient client) {
    AtmosphereRelease wf = start(client, now().plus(Duration.ofDays(5)), false, false);
    awaitGate(wf, DeploymentDay.TEST_GATE);
    dev.crewchief.release.DecisionReply refused =
        wf.decideGate(
            Decisions.at(env, DeploymentDay.TEST_GATE, GateDecision.Decision.APPROVE, "andy", ""));
    assertTrue(!refused.accepted());
    String why = refused.reason();
    assertTrue(why.contains("may not decide") && why.contains("driver"), why);
    wf.decideGate(
        Decisions.at(env, DeploymentDay.TEST_GATE, GateDecision.Decision.APPROVE, "sgregory", ""));
    assertEquals(
        ReleaseStatus.SUCCEEDED,
        WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class).progress().status());
  }
}
