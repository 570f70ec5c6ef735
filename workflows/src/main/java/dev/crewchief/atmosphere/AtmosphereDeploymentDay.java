package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** Deployment day on one environment; the release runs it on beta as a child workflow. */
@WorkflowInterface
public interface AtmosphereDeploymentDay extends ReleaseControl {
  String TYPE = "AtmosphereDeploymentDay";
  String RUNBOOK = "atmosphere-deploy";

  @WorkflowMethod(name = TYPE)
  ReleaseResult deploy(DayRequest request);

  /** The day, the version, and the maintenance title, message and date of its dumps. */
  record DayRequest(
      dev.crewchief.release.ReleaseContext context,
      DayPlan day,
      String date,
      String title,
      String message)
      implements dev.crewchief.release.ReleaseInput {}
}
