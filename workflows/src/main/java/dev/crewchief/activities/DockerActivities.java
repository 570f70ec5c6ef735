package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * A Docker Engine API (docker-java) with docker-compose services on it. Failure types: {@code
 * DockerUnreachable} (retried), {@code ServiceNotFound}, {@code ImageNotFound}, {@code
 * ContainerExecFailed}, {@code BackupImageExists}, {@code ContainerUnhealthy}, {@code InvalidInput}
 * (not retryable; the message says what to change); {@code ImageNotPublished} (retried: the tag is
 * not in the registry yet).
 */
@ActivityInterface
public interface DockerActivities {
  /** The service's containers, lowest number first. */
  @ActivityMethod(name = "Docker.inspectService")
  ServiceState inspectService(ServiceRequest request);

  /** Run a command in a container of the service and return its exit code and output. */
  @ActivityMethod(name = "Docker.exec")
  ExecOutcome exec(ExecRequest request);

  /** Stop every running container of the service (already stopped ones are left as they are). */
  @ActivityMethod(name = "Docker.stopService")
  ActionResult stopService(ServiceRequest request);

  /** Start every stopped container of the service. */
  @ActivityMethod(name = "Docker.startService")
  ActionResult startService(ServiceRequest request);

  /** Commit a container to a backup image. */
  @ActivityMethod(name = "Docker.commitContainer")
  ActionResult commitContainer(CommitRequest request);

  /** Pull an image from its registry. */
  @ActivityMethod(name = "Docker.pullImage")
  ActionResult pullImage(PullRequest request);

  /**
   * Pull the image of a tag that may not be published yet (a CI build from the release tag): a
   * registry that does not know the tag yet is a retryable {@code ImageNotPublished}, so a retry
   * policy with backoff coefficient 1 polls until it appears; a refused login stays {@code
   * ImageNotFound}, which no wait fixes.
   */
  @ActivityMethod(name = "Docker.awaitImage")
  ActionResult awaitImage(PullRequest request);

  /**
   * {@code up -d} with a new image: the service's containers are replaced by ones from the image
   * (same numbers, same configuration), then started and awaited. Idempotent: containers already on
   * the image are kept.
   */
  @ActivityMethod(name = "Docker.recreateService")
  ContainerResult recreateService(DeployRequest request);

  /**
   * {@code up -d --scale S=n+1 --no-recreate}: one more container of the service from the image,
   * next to the running one, numbered one above the highest, started and awaited until ready.
   * Idempotent: a container of the service already on the image is reused.
   */
  @ActivityMethod(name = "Docker.scaleUp")
  ContainerResult scaleUp(DeployRequest request);

  /** Stop and remove one container. */
  @ActivityMethod(name = "Docker.removeContainer")
  ActionResult removeContainer(RemoveRequest request);
}
