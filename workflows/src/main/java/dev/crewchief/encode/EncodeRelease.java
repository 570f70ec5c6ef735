package dev.crewchief.encode;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseResult;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** ENCODE's AWS release: new servers, keys, days of indexing, then the PostgreSQL switch-over. */
@WorkflowInterface
public interface EncodeRelease extends ReleaseControl {
  String TYPE = "EncodeRelease";
  String RUNBOOK = "encode-release";

  /** The merge admin confirms every merge is in master before the tag. */
  String MERGES_GATE = "all-merges-in";

  /** The driver: the old server is quiet, traffic low; the switch-over may start. */
  String QUIET_GATE = "old-server-quiet";

  /** After promotion a step failed: fixed by hand (approve: retry it) or end here (reject). */
  String AFTER_PROMOTION_GATE = "after-promotion";

  /** The site is stable (the runbook says next morning): the file indexer goes back on. */
  String STABLE_GATE = "site-stable";

  @WorkflowMethod(name = TYPE)
  ReleaseResult release(EncodeRequest request);
}
