package dev.crewchief.atmosphere;

import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.ContainerInfo;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runbook's hotfix with no downtime: with the new image tag, a second container of the service
 * is started next to the running one without recreating it ({@code up -d --scale S=2
 * --no-recreate}), awaited until healthy, then the old one is stopped and removed and nginx is
 * restarted inside the proxy service's container. Until the old container is gone, a failure
 * removes the new one again and leaves the old one serving.
 */
public final class AtmosphereHotfixImpl extends ReleaseWorkflow implements AtmosphereHotfix {

  static final String COMPOSE_FILE_CHANGE = "hotfix-compose-file";

  @WorkflowInit
  public AtmosphereHotfixImpl(HotfixRequest request) {
    super(request.context());
  }

  /** One hotfix at a time per environment. */
  static Lane lane(String environment) {
    return Lane.of(RUNBOOK, environment);
  }

  @Override
  public ReleaseResult hotfix(HotfixRequest request) {
    String summary =
        release.run(lane(request.context().environment()), request, () -> steps(request));
    return new ReleaseResult(summary, release.progress());
  }

  private String steps(HotfixRequest request) {
    AtmosphereValidation.version(request.context().version());
    AtmosphereSite site = request.site();
    AtmosphereValidation.site(site);
    String service = request.service();
    if (service == null || service.isBlank()) {
      throw new IllegalArgumentException("name the service to hotfix, e.g. atmosphere");
    }
    String image = site.image(service, request.context().version());
    DockerSteps docker = new DockerSteps(release, site);

    ServiceState before = docker.inspect("find the running " + service + " container", service);
    List<ContainerInfo> old = DockerSteps.runningNotOn(before, image);
    if (before.known() && old.isEmpty()) {
      boolean onImage =
          before.containers().stream()
              .anyMatch(
                  c -> "running".equals(c.state()) && DockerSteps.sameImage(image, c.image()));
      throw new IllegalArgumentException(
          onImage
              ? "service " + service + " already runs " + image + ": nothing to hotfix"
              : "no running container of service "
                  + service
                  + " in project "
                  + site.project()
                  + ": a hotfix swaps a running container (start the service first)");
    }

    docker.pull("pull " + image, image);
    // The runbook's first step: the compose file names the new tag, so that later compose
    // commands (with --index) keep the new image. Hotfixes started before this step existed go
    // on without it.
    boolean composeStep =
        Workflow.getVersion(COMPOSE_FILE_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1;
    if (composeStep) {
      composeTag(site, service, image, docker);
    }

    // Registered before the new container exists, so that one created by a step that then failed
    // (not healthy in time, say) is removed too. It only removes containers on the new image while
    // an old one still runs, so it can never leave the service with no container.
    release.onRollback(
        "remove the new " + service + " container",
        () -> {
          ServiceState now = docker.inspect("find the new " + service + " container", service);
          if (DockerSteps.runningNotOn(now, image).isEmpty()) {
            return;
          }
          for (ContainerInfo c : now.containers()) {
            if (DockerSteps.sameImage(image, c.image())) {
              docker.remove("remove the new container " + c.name(), service, c.id());
            }
          }
        });
    ContainerResult fresh =
        docker.scaleUp(
            "start a second "
                + service
                + " container from "
                + image
                + " next to the old one and wait until it is ready",
            service,
            image);

    for (ContainerInfo c : old) {
      docker.remove("stop and remove the old container " + c.name(), service, c.id());
    }
    if (composeStep) {
      // The old container is gone and the new one serves: nothing is left to undo.
      release.settle(
          "the old "
              + service
              + " container was already removed and the new one serves "
              + image
              + "; finish the remaining steps by hand");
    }
    if (site.proxyService() != null && !site.proxyService().isBlank()) {
      docker.exec(
          "restart nginx inside the " + site.proxyService() + " container",
          site.proxyService(),
          site.proxyRestartCommand() == null || site.proxyRestartCommand().isEmpty()
              ? List.of("service", "nginx", "restart")
              : site.proxyRestartCommand());
    }

    String name = fresh.container() == null ? "(rehearsal)" : fresh.container().name();
    int number = fresh.container() == null ? 2 : fresh.container().number();
    release.note(
        "new "
            + service
            + " container: "
            + name
            + " (container number "
            + number
            + "). As the runbook warns, its index changed: docker-compose commands for it now need"
            + " --index="
            + number
            + ", and crontab entries that use docker-compose must be updated.");
    for (ContainerInfo c : old) {
      release.note("removed the old container " + c.name() + " (" + c.image() + ")");
    }
    return (request.context().dryRun() ? "rehearsed: " : "")
        + service
        + " now runs "
        + image
        + " in container "
        + name
        + " (index "
        + number
        + ": update crontab entries that use docker-compose to --index="
        + number
        + ")";
  }

  /**
   * Sets the service's image tag in the compose file; the undo, registered first, sets the old one
   * back as long as an old container still runs (after that the new image is the service's).
   */
  private void composeTag(AtmosphereSite site, String service, String image, DockerSteps docker) {
    ComposeFileRef compose = site.compose();
    if (compose == null) {
      release.skip(
          "image tag in the compose file",
          "no compose file is configured (atmosphere.compose): it still names the old image of "
              + service
              + "; set it to "
              + image
              + " by hand before the next compose command");
      return;
    }
    GitActivities git =
        Workflow.newActivityStub(
            GitActivities.class,
            ReleaseWorkflow.options(
                Duration.ofMinutes(1),
                null,
                ReleaseWorkflow.remoteRetry(
                    "InvalidInput", "ComposeFileInvalid", "RepoMissing", "GitMissing")));
    Map<String, String> previous = new LinkedHashMap<>();
    release.onRollback(
        "image tag in " + compose.file() + " back to the old one",
        () -> {
          if (previous.isEmpty()) {
            return;
          }
          String step = "image tag in " + compose.file() + " set back to " + previous.get(service);
          release.step(
              step,
              () ->
                  git.setImageTags(
                      new ImageTagsRequest(step, compose, previous, release.dryRun())));
        });
    String step = "image tag of " + service + " in " + compose.file() + " set to " + image;
    ImageTagsResult set =
        release.step(
            step,
            () ->
                git.setImageTags(
                    new ImageTagsRequest(step, compose, Map.of(service, image), release.dryRun())));
    if (set.previous() != null) {
      previous.putAll(set.previous());
    }
  }
}
