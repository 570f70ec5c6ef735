package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.WorkflowInit;

/** Deployment day as a workflow of its own (beta, run by the release as a child). */
public final class AtmosphereDeploymentDayImpl extends ReleaseWorkflow
    implements AtmosphereDeploymentDay {

  @WorkflowInit
  public AtmosphereDeploymentDayImpl(DayRequest request) {
    super(request.context());
    DeploymentDay.declareGates(release, request.day());
  }

  @Override
  public ReleaseResult deploy(DayRequest request) {
    String summary =
        release.run(
            AtmospherePlans.containers(request.context().environment()),
            request,
            () -> {
              AtmosphereValidation.version(request.context().version());
              new DeploymentDay(release, request.day())
                  .run(
                      request.context().version(),
                      request.date(),
                      request.title(),
                      request.message());
              return (request.context().dryRun() ? "rehearsed: " : "")
                  + "deployed "
                  + request.context().version()
                  + " to "
                  + request.day().environment();
            });
    return new ReleaseResult(summary, release.progress());
  }
}
