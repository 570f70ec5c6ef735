package dev.crewchief.metaspace;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** METASPACE's production release: review, CI, branches and tag, one of four strategies. */
@WorkflowInterface
public interface MetaspaceRelease extends ReleaseControl {
  String TYPE = "MetaspaceRelease";
  String RUNBOOK = "metaspace-release";

  /** The releaser confirms the review's recommended strategy or chooses another. */
  String STRATEGY_GATE = "strategy";

  /** Reindex before deployment: the old index is dropped only after this (or a delay). */
  String DROP_INDEX_GATE = "drop-old-index";

  /** Fork the VM: everything works on the new instance, read-only mode may end. */
  String CONFIRM_GATE = "confirmed-working";

  /** Fork the VM: the old instance may be terminated (or a delay). */
  String TERMINATE_GATE = "terminate-old-vm";

  @WorkflowMethod(name = TYPE)
  ReleaseResult release(MetaspaceRequest request);
}
