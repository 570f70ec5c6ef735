package dev.crewchief.randopony;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The runbook's {@code promote_staging_to_production}. */
@WorkflowInterface
public interface PromoteToProduction extends ReleaseControl {
  String TYPE = "PromoteToProduction";
  String RUNBOOK = "randopony-promote";
  String CONFIRM_GATE = "confirm-release";

  @WorkflowMethod(name = TYPE)
  ReleaseResult promote(PromoteRequest request);
}
