package dev.crewchief.adapters.docker;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommitRequest;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DeployRequest;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.ExecRequest;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.activities.RemoveRequest;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.adapters.secrets.SecretResolver;

/**
 * {@link DockerActivities} with docker-java on a Docker Engine API (Docker, or podman's
 * Docker-compatible service). The containers of a docker-compose service are found by compose's
 * labels ({@link ComposeLabels}); new ones are created the way docker-compose v1 does it (name
 * {@code <project>_<service>_<number>}, the compose labels with the new number) from the
 * configuration of the container they follow, with only the image changed ({@link ServiceDeploys},
 * {@link ContainerTemplate}).
 *
 * <p>This class only routes each activity to the class of its concern; the activity names and their
 * inputs and outputs are fixed by the interface, because running workflow histories hold them.
 *
 * <p>Dry runs check their input and describe the exact action without contacting the engine at all,
 * so a rehearsal works from a machine that cannot reach production.
 *
 * <p>Failure types, beyond those of the interface: {@code DockerEngineError} (a 5xx from the
 * engine, retried), {@code DockerRequestRejected} (the engine refused a request as malformed or
 * conflicting; not retried), {@code RegistryUnreachable} (the engine could not reach the image's
 * registry; retried) and {@code SecretUnresolved} (registry credentials; not retried).
 */
public final class DockerActivitiesImpl implements DockerActivities {
  private final ServiceContainers containers;
  private final ContainerExec execs;
  private final BackupCommits backups;
  private final ImagePulls pulls;
  private final ServiceDeploys deploys;

  /** The adapter on these engines, with registry logins resolved through {@code secrets}. */
  public DockerActivitiesImpl(DockerEngines engines, SecretResolver secrets) {
    this(
        new ServiceContainers(engines),
        new ContainerExec(engines),
        new BackupCommits(engines),
        new ImagePulls(engines, new RegistryLogins(secrets)),
        new ServiceDeploys(engines, new ContainerReadiness()));
  }

  DockerActivitiesImpl(
      ServiceContainers containers,
      ContainerExec execs,
      BackupCommits backups,
      ImagePulls pulls,
      ServiceDeploys deploys) {
    this.containers = containers;
    this.execs = execs;
    this.backups = backups;
    this.pulls = pulls;
    this.deploys = deploys;
  }

  @Override
  public ServiceState inspectService(ServiceRequest r) {
    return containers.inspectService(r);
  }

  @Override
  public ExecOutcome exec(ExecRequest r) {
    return execs.exec(r);
  }

  @Override
  public ActionResult stopService(ServiceRequest r) {
    return containers.stopService(r);
  }

  @Override
  public ActionResult startService(ServiceRequest r) {
    return containers.startService(r);
  }

  @Override
  public ActionResult commitContainer(CommitRequest r) {
    return backups.commitContainer(r);
  }

  @Override
  public ActionResult pullImage(PullRequest r) {
    return pulls.pull(r, false);
  }

  @Override
  public ActionResult awaitImage(PullRequest r) {
    return pulls.pull(r, true);
  }

  @Override
  public ContainerResult recreateService(DeployRequest r) {
    return deploys.recreateService(r);
  }

  @Override
  public ContainerResult scaleUp(DeployRequest r) {
    return deploys.scaleUp(r);
  }

  @Override
  public ActionResult removeContainer(RemoveRequest r) {
    return containers.removeContainer(r);
  }
}
