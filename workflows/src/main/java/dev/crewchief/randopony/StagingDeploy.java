package dev.crewchief.randopony;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The runbook's initial staging deployment and its later {@code deploy_staging} updates. */
@WorkflowInterface
public interface StagingDeploy extends ReleaseControl {
  String TYPE = "StagingDeploy";
  String RUNBOOK = "randopony-staging";

  @WorkflowMethod(name = TYPE)
  ReleaseResult deploy(StagingDeployRequest request);
}
