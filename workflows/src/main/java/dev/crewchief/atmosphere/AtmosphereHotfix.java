package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The runbook's "Hotfixing": a service's container swapped for one on a new image, no downtime. */
@WorkflowInterface
public interface AtmosphereHotfix extends ReleaseControl {
  String TYPE = "AtmosphereHotfix";
  String RUNBOOK = "atmosphere-hotfix";

  @WorkflowMethod(name = TYPE)
  ReleaseResult hotfix(HotfixRequest request);
}
