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
import dev.crewchief.activities.ContainerInfo;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.config.GateConfig;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.StepStatus;
import dev.crewchief.release.TestReleases;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
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
import org.mockito.InOrder;

/** AtmosphereHotfix with a mocked Docker engine: the swap, its rollback, refusals, dry run. */
class AtmosphereHotfixTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow =
      TestReleases.extension(AtmosphereHotfixImpl.class);

  static final String OLD_IMAGE = "cyverse/atmosphere:v36-6";
  static final String NEW_IMAGE = "cyverse/atmosphere:v36-7";
  static final AtmosphereSite SITE =
      new AtmosphereSite(
          new EngineRef("prod-docker", "unix:///var/run/docker.sock", null, null),
          "atmosphere-docker",
          Map.of("atmosphere", "cyverse/atmosphere", "troposphere", "cyverse/troposphere"),
          "v",
          "troposphere",
          List.of("service", "nginx", "restart"),
          false,
          Duration.ofMinutes(10),
          Map.of(),
          new ComposeFileRef(
              new GitRepoRef("atmosphere-docker", "/opt/dev/atmosphere-docker", "origin", "master"),
              "docker-compose.prod.yml"));
  static final ContainerInfo OLD =
      new ContainerInfo("old1", "atmosphere-docker_atmosphere_1", 1, OLD_IMAGE, "running", "none");
  static final ContainerInfo NEW =
      new ContainerInfo(
          "new2", "atmosphere-docker_atmosphere_2", 2, NEW_IMAGE, "running", "healthy");

  DockerActivities docker;
  GitActivities git;
  String taskQueue;

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    docker = mock(DockerActivities.class, withSettings().withoutAnnotations());
    NotifyActivities notify = mock(NotifyActivities.class, withSettings().withoutAnnotations());
    when(docker.inspectService(any()))
        .thenAnswer(
            i -> {
              ServiceRequest r = i.getArgument(0);
              // Null while a test re-stubs the method (Mockito calls the answer once then).
              return r == null ? null : new ServiceState(r.service(), true, List.of(OLD));
            });
    when(docker.pullImage(any())).thenReturn(new ActionResult("pulled", false, ""));
    when(docker.scaleUp(any())).thenReturn(new ContainerResult("scaled", false, NEW));
    when(docker.removeContainer(any())).thenReturn(new ActionResult("removed", false, ""));
    when(docker.exec(any()))
        .thenReturn(new ExecOutcome("exec", false, "tropo_1", 0, "Restarting nginx"));
    git = mock(GitActivities.class, withSettings().withoutAnnotations());
    when(git.setImageTags(any()))
        .thenAnswer(
            i -> {
              ImageTagsRequest r = i.getArgument(0);
              return r == null
                  ? null
                  : new ImageTagsResult(
                      "set", r.dryRun(), Map.of("atmosphere", OLD_IMAGE), !r.dryRun());
            });
    worker.registerActivitiesImplementations(docker, git, notify);
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  ReleaseResult hotfix(WorkflowClient client, String version, boolean dryRun) {
    return hotfix(client, version, dryRun, SITE);
  }

  ReleaseResult hotfix(WorkflowClient client, String version, boolean dryRun, AtmosphereSite site) {
    ReleaseContext ctx =
        new ReleaseContext(
            AtmosphereHotfix.RUNBOOK,
            "prod",
            version,
            dryRun,
            "tester",
            Map.of("crew-chief", List.of("alice"), "driver", List.of("bob")),
            Map.<String, GateConfig>of(),
            List.of());
    AtmosphereHotfix wf =
        client.newWorkflowStub(
            AtmosphereHotfix.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(AtmosphereHotfix.RUNBOOK, "prod", version))
                .setTaskQueue(taskQueue)
                .build());
    return wf.hotfix(new HotfixRequest(ctx, site, "atmosphere"));
  }

  @Test
  void swapsTheContainerWithNoDowntimeAndWarnsAboutTheIndex(WorkflowClient client) {
    ReleaseResult r = hotfix(client, "36-7", false);
    InOrder order = inOrder(docker, git);
    order.verify(docker).inspectService(argThat(s -> s.service().service().equals("atmosphere")));
    order.verify(docker).pullImage(argThat(p -> p.image().equals(NEW_IMAGE)));
    // The runbook's first step: the compose file names the new tag before the scale-up.
    order
        .verify(git)
        .setImageTags(
            argThat(
                t ->
                    t.images().equals(Map.of("atmosphere", NEW_IMAGE))
                        && t.compose().file().equals("docker-compose.prod.yml")));
    order
        .verify(docker)
        .scaleUp(
            argThat(
                d ->
                    d.image().equals(NEW_IMAGE)
                        && d.service().project().equals("atmosphere-docker")
                        && d.ready().equals(Duration.ofMinutes(10))));
    // The old container goes only once the new one is ready.
    order.verify(docker).removeContainer(argThat(x -> x.containerId().equals("old1")));
    order
        .verify(docker)
        .exec(
            argThat(
                e ->
                    e.service().service().equals("troposphere")
                        && e.command().equals(List.of("service", "nginx", "restart"))));
    assertTrue(r.summary().contains("atmosphere-docker_atmosphere_2"), r.summary());
    assertTrue(r.summary().contains("--index=2"), r.summary());
    assertTrue(
        r.progress().notes().stream().anyMatch(n -> n.contains("crontab")),
        r.progress().notes().toString());
  }

  @Test
  void newContainerNotReadyIsRemovedAndTheOldOneKeepsServing(WorkflowClient client) {
    when(docker.scaleUp(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "atmosphere-docker_atmosphere_2 not healthy within PT10M", "ContainerUnhealthy"));
    when(docker.inspectService(any()))
        .thenReturn(
            new ServiceState(SITE.service("atmosphere"), true, List.of(OLD)),
            new ServiceState(
                SITE.service("atmosphere"),
                true,
                List.of(
                    OLD,
                    new ContainerInfo(
                        "new2",
                        "atmosphere-docker_atmosphere_2",
                        2,
                        NEW_IMAGE,
                        "running",
                        "unhealthy"))));
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> hotfix(client, "36-7", false));
    ApplicationFailure af = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals("ContainerUnhealthy", af.getType());
    verify(docker).removeContainer(argThat(x -> x.containerId().equals("new2")));
    verify(docker, never()).removeContainer(argThat(x -> x.containerId().equals("old1")));
    verify(docker, never()).exec(any());
    // The compose file names the old image again, after the new container is gone.
    InOrder undo = inOrder(docker, git);
    undo.verify(docker).removeContainer(argThat(x -> x.containerId().equals("new2")));
    undo.verify(git).setImageTags(argThat(t -> t.images().equals(Map.of("atmosphere", OLD_IMAGE))));
  }

  @Test
  void failureAfterTheOldContainerIsGoneLeavesTheNewOneRunning(WorkflowClient client) {
    when(docker.exec(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "nginx: command not found", "ContainerExecFailed"));
    when(docker.inspectService(any()))
        .thenReturn(
            new ServiceState(SITE.service("atmosphere"), true, List.of(OLD)),
            new ServiceState(SITE.service("atmosphere"), true, List.of(NEW)));
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> hotfix(client, "36-7", false));
    ApplicationFailure af = assertInstanceOf(ApplicationFailure.class, e.getCause());
    assertEquals("ContainerExecFailed", af.getType());
    // Once the old container is gone the hotfix is settled: nothing is undone, the new container
    // and the compose file's new tag stay, and the failure says so.
    verify(docker, times(1)).inspectService(any());
    verify(docker, never()).removeContainer(argThat(x -> x.containerId().equals("new2")));
    verify(git, times(1)).setImageTags(any());
    String notes = af.getDetails().get(0, List.class).toString();
    assertTrue(notes.contains("not rolled back") && notes.contains("by hand"), notes);
  }

  @Test
  void withNoComposeFileConfiguredTheStepIsSkippedAndSaysSo(WorkflowClient client) {
    AtmosphereSite noCompose =
        new AtmosphereSite(
            SITE.engine(),
            SITE.project(),
            SITE.images(),
            SITE.tagPrefix(),
            SITE.proxyService(),
            SITE.proxyRestartCommand(),
            false,
            SITE.readyTimeout(),
            Map.of(),
            null);
    ReleaseResult r = hotfix(client, "36-7", false, noCompose);
    verify(git, never()).setImageTags(any());
    assertTrue(
        r.progress().steps().stream()
            .anyMatch(
                s ->
                    s.status() == StepStatus.SKIPPED
                        && s.detail().contains("by hand")
                        && s.detail().contains(NEW_IMAGE)),
        r.progress().steps().toString());
  }

  @Test
  void refusesAMalformedVersionAndAServiceAlreadyOnTheImage(WorkflowClient client) {
    WorkflowFailedException bad =
        assertThrows(WorkflowFailedException.class, () -> hotfix(client, "v36.7", false));
    ApplicationFailure af = assertInstanceOf(ApplicationFailure.class, bad.getCause());
    assertEquals("InvalidInput", af.getType());
    assertTrue(af.getOriginalMessage().contains("Major-Minor"), af.getOriginalMessage());

    when(docker.inspectService(any()))
        .thenReturn(new ServiceState(SITE.service("atmosphere"), true, List.of(NEW)));
    WorkflowFailedException same =
        assertThrows(WorkflowFailedException.class, () -> hotfix(client, "36-7", false));
    assertTrue(
        assertInstanceOf(ApplicationFailure.class, same.getCause())
            .getOriginalMessage()
            .contains("already runs " + NEW_IMAGE));
    verify(docker, never()).scaleUp(any());
  }

  @Test
  void dryRunRehearsesEveryStep(WorkflowClient client) {
    when(docker.inspectService(any()))
        .thenReturn(new ServiceState(SITE.service("atmosphere"), false, List.of()));
    when(docker.scaleUp(any())).thenReturn(new ContainerResult("would scale", true, null));
    ReleaseResult r = hotfix(client, "36-7", true);
    assertTrue(r.summary().startsWith("rehearsed:"), r.summary());
    verify(docker).scaleUp(argThat(d -> d.dryRun()));
    verify(docker).exec(argThat(x -> x.dryRun()));
  }
}
