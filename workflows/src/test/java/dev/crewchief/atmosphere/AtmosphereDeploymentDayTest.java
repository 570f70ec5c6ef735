package dev.crewchief.atmosphere;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.CommitRequest;
import dev.crewchief.activities.DeployRequest;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.ExecRequest;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.PostgresActivities;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.config.GateConfig;
import dev.crewchief.release.Decisions;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseStatus;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mockito.InOrder;

/**
 * Deployment day on its own ({@code crewchief start atmosphere-deploy}): the runbook's order with
 * the compose file, the driver's gate, and a failure at every stage after the containers stopped,
 * each with the rollback it must get. Once the new version serves through the proxy the day is
 * settled and a failing maintenance stop is not rolled back.
 */
class AtmosphereDeploymentDayTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow =
      TestReleases.extension(AtmosphereDeploymentDayImpl.class);

  static final String NEW_ATMO = "cyverse/atmosphere:v36-1";
  static final String NEW_TROPO = "cyverse/troposphere:v36-1";
  static final String OLD_ATMO = "cyverse/atmosphere:v36-0";
  static final String OLD_TROPO = "cyverse/troposphere:v36-0";
  static final String BACKUP_ATMO = "old_atmosphere-docker_atmosphere:before-36-1";
  static final String BACKUP_TROPO = "old_atmosphere-docker_troposphere:before-36-1";

  DockerActivities docker;
  PostgresActivities postgres;
  ProxyActivities proxy;
  GitActivities git;
  TestWorkflowEnvironment env;
  String taskQueue;

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    this.env = env;
    AtmosphereMocks m = new AtmosphereMocks();
    docker = m.docker;
    postgres = m.postgres;
    proxy = m.proxy;
    git = m.git;
    m.register(worker);
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  AtmosphereDeploymentDay start(WorkflowClient client) {
    ReleaseContext ctx =
        new ReleaseContext(
            AtmosphereDeploymentDay.RUNBOOK,
            "prod",
            "36-1",
            false,
            "tester",
            Map.of("driver", List.of("sgregory")),
            Map.of(
                DeploymentDay.TEST_GATE,
                new GateConfig(
                    null, Duration.ofHours(6), Duration.ofHours(1), GateConfig.OnTimeout.ROLLBACK)),
            List.of());
    AtmosphereDeploymentDay wf =
        client.newWorkflowStub(
            AtmosphereDeploymentDay.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(
                    ReleaseIds.workflowId(AtmosphereDeploymentDay.RUNBOOK, "prod", "36-1"))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowClient.start(
        wf::deploy,
        new AtmosphereDeploymentDay.DayRequest(
            ctx,
            AtmosphereReleaseTest.day("prod", true),
            "2026-12-10",
            "2026-12-10 v36-1 deployment",
            "Atmosphere is down for a Scheduled Maintenance."));
    return wf;
  }

  /** Lets (skipped) time pass until the gate waits; false if the day ended before. */
  boolean awaitGate(AtmosphereDeploymentDay wf) {
    for (int i = 0; i < 200; i++) {
      ReleaseProgress p = wf.progress();
      if (p.status() != ReleaseStatus.RUNNING && p.status() != ReleaseStatus.WAITING_FOR_GATE) {
        return false;
      }
      for (GateView g : p.gates()) {
        if (g.name().equals(DeploymentDay.TEST_GATE) && g.status() == GateStatus.WAITING) {
          return true;
        }
      }
      env.sleep(Duration.ofSeconds(30));
    }
    throw new AssertionError("the gate never opened: " + wf.progress());
  }

  void decide(AtmosphereDeploymentDay wf, GateDecision.Decision d) {
    wf.decideGate(Decisions.at(env, DeploymentDay.TEST_GATE, d, "sgregory", "checked"));
  }

  static ApplicationFailure failure(AtmosphereDeploymentDay wf) {
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    return assertInstanceOf(ApplicationFailure.class, e.getCause());
  }

  @Test
  void theDayInTheRunbooksOrderWithTheDriversGate(WorkflowClient client) {
    AtmosphereDeploymentDay wf = start(client);
    assertTrue(awaitGate(wf));
    // Nothing goes back to the app before the driver says so.
    verify(proxy, never()).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    decide(wf, GateDecision.Decision.APPROVE);
    ReleaseResult r = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
    assertTrue(r.summary().contains("deployed 36-1 to prod"), r.summary());

    InOrder o = inOrder(docker, postgres, proxy, git);
    o.verify(postgres, times(2)).dumpDatabase(any());
    o.verify(docker, times(2)).exec(argThat(e -> e.command().get(2).contains("maintenance start")));
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/default")));
    o.verify(proxy).probe(argThat(p -> "Scheduled Maintenance".equals(p.expect())));
    o.verify(git).checkoutBranch(argThat(c -> c.repo().name().equals("secrets")));
    // What the compose file names is read while the old version still runs.
    o.verify(git).readImageTags(argThat(t -> t.images().containsValue(NEW_ATMO)));
    o.verify(docker, times(2)).stopService(any());
    o.verify(docker, times(2)).commitContainer(any());
    o.verify(git).checkoutBranch(argThat(c -> c.repo().name().equals("atmosphere-docker")));
    o.verify(git).setImageTags(any());
    o.verify(docker, times(2)).pullImage(any());
    o.verify(docker, times(2)).recreateService(any());
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    o.verify(proxy).probe(argThat(p -> "Atmosphere".equals(p.expect())));
    o.verify(docker, times(2)).exec(argThat(e -> e.command().get(2).contains("maintenance stop")));
    // The secrets checkout refuses local changes; only the compose checkout stashes them.
    verify(git)
        .checkoutBranch(argThat(c -> c.repo().name().equals("secrets") && c.stashAs() == null));
  }

  /** Where deployment day fails after the containers were stopped, and how. */
  enum Stage {
    STOP_SECOND_SERVICE(0, false),
    COMMIT_SECOND_SERVICE(1, false),
    COMPOSE_CHECKOUT(2, true),
    IMAGE_TAGS(2, true),
    PULL(2, true),
    RECREATE(2, true),
    GATE_REJECTED(2, true),
    GATE_TIMED_OUT(2, true),
    NEW_VERSION_NOT_ANSWERING(2, true);

    /** How many services (troposphere first) had a backup image made before the failure. */
    final int backedUp;

    /** Whether the compose file may have been changed (and must get its old tags back). */
    final boolean tagsSet;

    Stage(int backedUp, boolean tagsSet) {
      this.backedUp = backedUp;
      this.tagsSet = tagsSet;
    }
  }

  static ApplicationFailure boom(String type) {
    return ApplicationFailure.newNonRetryableFailure("injected failure", type);
  }

  @ParameterizedTest
  @EnumSource(Stage.class)
  void aFailureAfterTheContainersStoppedRollsBackWhatWasDone(Stage stage, WorkflowClient client) {
    switch (stage) {
      case STOP_SECOND_SERVICE ->
          when(docker.stopService(
                  argThat(
                      (ServiceRequest r) ->
                          r != null && r.service().service().equals("atmosphere"))))
              .thenThrow(boom("DockerEngineError"));
      case COMMIT_SECOND_SERVICE ->
          when(docker.commitContainer(
                  argThat(
                      (CommitRequest c) ->
                          c != null && c.service().service().equals("atmosphere"))))
              .thenThrow(boom("BackupImageExists"));
      case COMPOSE_CHECKOUT ->
          when(git.checkoutBranch(argThat((CheckoutRequest c) -> c != null && c.stashAs() != null)))
              .thenThrow(boom("LocalCommitsAhead"));
      case IMAGE_TAGS ->
          when(git.setImageTags(
                  argThat((ImageTagsRequest t) -> t != null && t.images().containsValue(NEW_ATMO))))
              .thenThrow(boom("ComposeFileInvalid"));
      case PULL ->
          when(docker.pullImage(
                  argThat((PullRequest p) -> p != null && p.image().equals(NEW_ATMO))))
              .thenThrow(boom("ImageNotFound"));
      case RECREATE ->
          when(docker.recreateService(
                  argThat((DeployRequest d) -> d != null && d.image().equals(NEW_ATMO))))
              .thenThrow(boom("ContainerUnhealthy"));
      case NEW_VERSION_NOT_ANSWERING ->
          // The first probe of the app fails (the new version); the rollback's probe succeeds.
          when(proxy.probe(
                  argThat((ProbeRequest p) -> p != null && "Atmosphere".equals(p.expect()))))
              .thenThrow(boom("ProbeFailed"))
              .thenReturn(new ActionResult("probe", false, "200"));
      default -> {}
    }
    AtmosphereDeploymentDay wf = start(client);
    String expectedType =
        switch (stage) {
          case STOP_SECOND_SERVICE -> "DockerEngineError";
          case COMMIT_SECOND_SERVICE -> "BackupImageExists";
          case COMPOSE_CHECKOUT -> "LocalCommitsAhead";
          case IMAGE_TAGS -> "ComposeFileInvalid";
          case PULL -> "ImageNotFound";
          case RECREATE -> "ContainerUnhealthy";
          case GATE_REJECTED -> "GateRejected";
          case GATE_TIMED_OUT -> "GateTimedOut";
          case NEW_VERSION_NOT_ANSWERING -> "ProbeFailed";
        };
    if (stage == Stage.GATE_REJECTED || stage == Stage.NEW_VERSION_NOT_ANSWERING) {
      assertTrue(awaitGate(wf));
      decide(
          wf,
          stage == Stage.GATE_REJECTED
              ? GateDecision.Decision.REJECT
              : GateDecision.Decision.APPROVE);
    }
    ApplicationFailure f = failure(wf);
    assertEquals(expectedType, f.getType(), f.getOriginalMessage());
    assertEquals(ReleaseStatus.ROLLED_BACK, wf.progress().status());

    // The compose file: its old tags back if (and only if) the new ones were written.
    if (stage.tagsSet) {
      verify(git)
          .setImageTags(
              argThat(
                  t ->
                      t.images().get("atmosphere").equals(OLD_ATMO)
                          && t.images().get("troposphere").equals(OLD_TROPO)));
    } else {
      verify(git, never()).setImageTags(argThat(t -> t.images().containsValue(OLD_ATMO)));
    }
    // Each service comes back: from its backup image when one was made, else started again.
    if (stage.backedUp >= 1) {
      verify(docker).recreateService(argThat(d -> d.image().equals(BACKUP_TROPO)));
    } else {
      verify(docker).startService(argThat(r -> r.service().service().equals("troposphere")));
    }
    if (stage.backedUp >= 2) {
      verify(docker).recreateService(argThat(d -> d.image().equals(BACKUP_ATMO)));
    } else {
      verify(docker).startService(argThat(r -> r.service().service().equals("atmosphere")));
    }
    // Then the proxy, and maintenance ends once the old version answers through it.
    InOrder o = inOrder(docker, proxy);
    if (stage.backedUp >= 2) {
      o.verify(docker).recreateService(argThat(d -> d.image().equals(BACKUP_ATMO)));
    } else {
      o.verify(docker).startService(argThat(r -> r.service().service().equals("atmosphere")));
    }
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    o.verify(proxy).probe(argThat(p -> "Atmosphere".equals(p.expect())));
    o.verify(docker, times(2))
        .exec(argThat((ExecRequest e) -> e.command().get(2).contains("maintenance stop")));
  }

  @Test
  void aBugInTheWorkflowCodeFailsTheDayWithItsRollbackInsteadOfRetryingForever(
      WorkflowClient client) {
    // The compose file's tags come back as null: the day's code dereferences them, as a bug
    // would, after maintenance started and the proxy showed the maintenance page.
    when(git.readImageTags(any())).thenReturn(null);
    AtmosphereDeploymentDay wf = start(client);
    ApplicationFailure f = failure(wf);
    assertEquals("ReleaseBug", f.getType(), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("NullPointerException"), f.getOriginalMessage());
    ReleaseProgress p = wf.progress();
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status());
    assertTrue(
        p.notes().stream().anyMatch(n -> n.contains("unexpected error in Crew Chief")),
        p.notes().toString());
    verify(docker, never()).stopService(any());
    verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    verify(docker, times(2))
        .exec(argThat((ExecRequest e) -> e.command().get(2).contains("maintenance stop")));
  }

  @Test
  void aComposeFileThatCannotBeReadStopsTheDayBeforeTheContainersStop(WorkflowClient client) {
    when(git.readImageTags(any())).thenThrow(boom("ComposeFileInvalid"));
    AtmosphereDeploymentDay wf = start(client);
    assertEquals("ComposeFileInvalid", failure(wf).getType());
    verify(docker, never()).stopService(any());
    verify(docker, never()).recreateService(any());
    verify(git, never()).setImageTags(any());
    verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    verify(docker, times(2))
        .exec(argThat((ExecRequest e) -> e.command().get(2).contains("maintenance stop")));
    assertEquals(ReleaseStatus.ROLLED_BACK, wf.progress().status());
  }

  @Test
  void aMaintenanceStopFailingOnceTheNewVersionServesIsNotRolledBack(WorkflowClient client) {
    when(docker.exec(
            argThat(
                (ExecRequest e) ->
                    e != null
                        && e.service().service().equals("atmosphere")
                        && e.command().get(2).contains("maintenance stop"))))
        .thenThrow(boom("ContainerExecFailed"));
    AtmosphereDeploymentDay wf = start(client);
    assertTrue(awaitGate(wf));
    decide(wf, GateDecision.Decision.APPROVE);
    ApplicationFailure f = failure(wf);
    assertEquals("ContainerExecFailed", f.getType());
    assertTrue(
        f.getOriginalMessage().contains("maintenance stop in atmosphere"), f.getOriginalMessage());
    assertEquals(ReleaseStatus.FAILED, wf.progress().status());
    // The new version stays: no backup restored, no tag set back, the proxy left on the app.
    verify(docker, never()).recreateService(argThat(d -> d.image().startsWith("old_")));
    verify(git, times(1)).setImageTags(any());
    verify(proxy, times(1)).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    String notes = f.getDetails().get(0, List.class).toString();
    assertTrue(
        notes.contains("not rolled back") && notes.contains("./manage.py maintenance stop"), notes);
  }

  @Test
  void aCancelledDayRollsBackLikeARejectedOne(WorkflowClient client) {
    AtmosphereDeploymentDay wf = start(client);
    assertTrue(awaitGate(wf));
    WorkflowStub.fromTyped(wf).cancel();
    assertThrows(
        WorkflowFailedException.class,
        () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    assertEquals(ReleaseStatus.CANCELLED, wf.progress().status());
    // crewchief cancel: the compose tags, the backups, the proxy, then maintenance, as on a no.
    InOrder o = inOrder(git, docker, proxy);
    o.verify(git).setImageTags(argThat(t -> OLD_ATMO.equals(t.images().get("atmosphere"))));
    o.verify(docker).recreateService(argThat(d -> d.image().equals(BACKUP_TROPO)));
    o.verify(docker).recreateService(argThat(d -> d.image().equals(BACKUP_ATMO)));
    o.verify(proxy).linkSite(argThat(l -> l.target().endsWith("/proxy.conf")));
    o.verify(proxy).probe(argThat(p -> "Atmosphere".equals(p.expect())));
    o.verify(docker, times(2))
        .exec(argThat((ExecRequest e) -> e.command().get(2).contains("maintenance stop")));
  }

  @Test
  void onlyTheDriverPassesTheGate(WorkflowClient client) {
    AtmosphereDeploymentDay wf = start(client);
    assertTrue(awaitGate(wf));
    dev.crewchief.release.DecisionReply refused =
        wf.decideGate(
            Decisions.at(env, DeploymentDay.TEST_GATE, GateDecision.Decision.APPROVE, "andy", ""));
    assertTrue(!refused.accepted());
    String why = refused.reason();
    assertTrue(why.contains("may not decide") && why.contains("driver"), why);
    decide(wf, GateDecision.Decision.APPROVE);
    assertEquals(
        ReleaseStatus.SUCCEEDED,
        WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class).progress().status());
  }
}
