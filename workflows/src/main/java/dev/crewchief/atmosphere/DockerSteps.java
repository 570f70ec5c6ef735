package dev.crewchief.atmosphere;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ContainerInfo;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DeployRequest;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.ExecRequest;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.activities.RemoveRequest;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.release.Release;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.List;

/**
 * Docker steps of the Atmosphere workflows, each one activity call on the site's engine. The retry
 * policies sit here, with the steps they govern.
 */
final class DockerSteps {
  /** Failures a retry cannot fix: bad input, a missing service or image, a failing command. */
  static final String[] NON_RETRYABLE = {
    "InvalidInput",
    "ServiceNotFound",
    "ImageNotFound",
    "ContainerExecFailed",
    "BackupImageExists",
    "ContainerUnhealthy"
  };

  /**
   * The adapter's own limits, which the stubs' timeouts follow: a command in a container may run
   * ten minutes (DockerActivitiesImpl's exec limit), an image pull half an hour.
   */
  static final Duration EXEC_LIMIT = Duration.ofMinutes(10);

  static final Duration PULL_LIMIT = Duration.ofMinutes(30);

  /**
   * Every Docker step heartbeats at least every five seconds while it works (exec and pull with
   * their progress, stop and commit while the engine works), so a worker lost mid-step is noticed
   * within this, not at the end of a start-to-close timeout of up to half an hour.
   */
  static final Duration HEARTBEAT = Duration.ofSeconds(30);

  private final Release release;
  private final AtmosphereSite site;
  private final DockerActivities docker;
  private final DockerActivities executor;
  private final DockerActivities deployer;
  private final DockerActivities puller;

  DockerSteps(Release release, AtmosphereSite site) {
    this.release = release;
    this.site = site;
    RetryOptions retry = ReleaseWorkflow.remoteRetry(NON_RETRYABLE);
    // Inspecting, stopping (a 10 s grace per container), committing and removing containers.
    this.docker =
        Workflow.newActivityStub(
            DockerActivities.class,
            ReleaseWorkflow.options(Duration.ofMinutes(10), HEARTBEAT, retry));
    this.executor =
        Workflow.newActivityStub(
            DockerActivities.class,
            ReleaseWorkflow.options(EXEC_LIMIT.plus(Duration.ofMinutes(1)), HEARTBEAT, retry));
    // A new container may take minutes to pass its setup tasks; the adapter heartbeats while it
    // waits, so a worker lost meanwhile is noticed within the heartbeat timeout.
    this.deployer =
        Workflow.newActivityStub(
            DockerActivities.class,
            ReleaseWorkflow.options(
                readyTimeout(site).plus(Duration.ofMinutes(5)), HEARTBEAT, retry));
    // Image pulls of a few hundred megabytes take a while on a slow registry.
    this.puller =
        Workflow.newActivityStub(
            DockerActivities.class,
            ReleaseWorkflow.options(PULL_LIMIT.plus(Duration.ofMinutes(1)), HEARTBEAT, retry));
  }

  static Duration readyTimeout(AtmosphereSite site) {
    return site.readyTimeout() == null ? Duration.ofMinutes(10) : site.readyTimeout();
  }

  ServiceState inspect(String step, String service) {
    return release.step(
        step,
        () ->
            docker.inspectService(
                new ServiceRequest(step, site.service(service), release.dryRun())));
  }

  ActionResult pull(String step, String image) {
    return release.step(
        step,
        () ->
            puller.pullImage(
                new PullRequest(
                    step, site.engine(), image, site.pullIfMissingOnly(), release.dryRun())));
  }

  ContainerResult scaleUp(String step, String service, String image) {
    return release.step(
        step,
        () ->
            deployer.scaleUp(
                new DeployRequest(
                    step,
                    site.service(service),
                    image,
                    site.probeUrl(service),
                    readyTimeout(site),
                    release.dryRun())));
  }

  ActionResult remove(String step, String service, String containerId) {
    return release.step(
        step,
        () ->
            docker.removeContainer(
                new RemoveRequest(step, site.service(service), containerId, release.dryRun())));
  }

  /** The plain stub, for steps that need no wrapper here. */
  DockerActivities engine() {
    return docker;
  }

  ContainerResult recreate(String step, String service, String image) {
    return release.step(
        step,
        () ->
            deployer.recreateService(
                new DeployRequest(
                    step,
                    site.service(service),
                    image,
                    site.probeUrl(service),
                    readyTimeout(site),
                    release.dryRun())));
  }

  ExecOutcome exec(String step, String service, List<String> command) {
    return release.step(
        step,
        () ->
            executor.exec(
                new ExecRequest(step, site.service(service), 0, command, false, release.dryRun())));
  }

  /** Running containers of a service that are not on the given image. */
  static List<ContainerInfo> runningNotOn(ServiceState state, String image) {
    return state.containers().stream()
        .filter(c -> "running".equals(c.state()) && !sameImage(image, c.image()))
        .toList();
  }

  /**
   * Whether two image references name the same image: engines report Docker Hub images with or
   * without their implied registry (docker.io/) and namespace (library/).
   */
  static boolean sameImage(String a, String b) {
    return a != null && b != null && normal(a).equals(normal(b));
  }

  private static String normal(String ref) {
    String r = ref.startsWith("docker.io/") ? ref.substring("docker.io/".length()) : ref;
    return r.startsWith("library/") ? r.substring("library/".length()) : r;
  }
}
