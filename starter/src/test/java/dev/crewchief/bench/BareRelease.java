package dev.crewchief.bench;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** The same no-op steps in a bare Temporal workflow: the baseline of the overhead benchmark. */
@WorkflowInterface
public interface BareRelease {
  String TYPE = "CrewChiefBenchBare";

  @WorkflowMethod(name = TYPE)
  String run(int steps);
}
