package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The runbook's whole calendar: notice, release candidate, beta, deployment day. */
@WorkflowInterface
public interface AtmosphereRelease extends ReleaseControl {
  String TYPE = "AtmosphereRelease";
  String RUNBOOK = "atmosphere-release";
  String BETA_GATE = "tested-on-beta";

  @WorkflowMethod(name = TYPE)
  ReleaseResult release(AtmosphereReleaseRequest request);
}
