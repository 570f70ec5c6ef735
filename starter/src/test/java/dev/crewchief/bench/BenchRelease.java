package dev.crewchief.bench;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * A release of no-op steps through Crew Chief's own machinery ({@link
 * dev.crewchief.release.Release}: progress, search attributes, undo registration, gates,
 * notifications, the report's data). Registered only by the benchmarks' worker, never as a runbook.
 */
@WorkflowInterface
public interface BenchRelease extends ReleaseControl {
  String TYPE = "CrewChiefBenchRelease";
  String RUNBOOK = "bench";
  String ROLE = "crew-chief";
  String APPROVER = "bench";

  @WorkflowMethod(name = TYPE)
  ReleaseResult run(BenchPlan plan);

  /** The name of the gate after step {@code afterStep} (1-based). */
  static String gateName(int afterStep) {
    return "gate-" + afterStep;
  }
}
