package dev.crewchief.bench;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.List;

/** See {@link BenchRelease}: built like a runbook's workflow, on {@link ReleaseWorkflow}. */
public final class BenchReleaseImpl extends ReleaseWorkflow implements BenchRelease {
  private final BenchActivities bench =
      Workflow.newActivityStub(
          BenchActivities.class,
          options(Duration.ofSeconds(30), null, remoteRetry("BenchNeverRetried")));

  @WorkflowInit
  public BenchReleaseImpl(BenchPlan plan) {
    super(plan.context());
  }

  @Override
  public ReleaseResult run(BenchPlan plan) {
    if (plan.gateEvery() > 0) {
      for (int i = plan.gateEvery(); i < plan.steps(); i += plan.gateEvery()) {
        release.declareGate(BenchRelease.gateName(i), "benchmark gate " + i, List.of(ROLE));
      }
    }
    Lane lane = plan.lane() ? Lane.of(RUNBOOK, plan.context().environment()) : null;
    String summary =
        release.run(
            lane,
            plan,
            () -> {
              for (int i = 1; i <= plan.steps(); i++) {
                String name = "step " + i;
                // Registered before the step, as every runbook does; never run unless it fails.
                release.onRollback(name, () -> bench.noop("undo " + name));
                ActionResult r = release.step(name, () -> bench.noop(name));
                if (plan.gateEvery() > 0 && i % plan.gateEvery() == 0 && i < plan.steps()) {
                  String gate = BenchRelease.gateName(i);
                  if (plan.gatesTaken()) {
                    release.gate(gate);
                  } else {
                    release.skip("gate: " + gate, "not configured for this environment");
                  }
                }
                if (r == null) {
                  throw new IllegalStateException("no result from " + name);
                }
              }
              if (plan.reindexDays() > 0) {
                BenchActivities reindex =
                    Workflow.newActivityStub(
                        BenchActivities.class,
                        io.temporal.activity.ActivityOptions.newBuilder()
                            .setStartToCloseTimeout(Duration.ofMinutes(1))
                            .setHeartbeatTimeout(Duration.ofSeconds(30))
                            .setRetryOptions(
                                io.temporal.common.RetryOptions.newBuilder()
                                    .setInitialInterval(Duration.ofHours(1))
                                    .setBackoffCoefficient(1)
                                    .build())
                            .build());
                release.step("await the reindex", () -> reindex.awaitReindex(plan.reindexDays()));
              }
              return plan.steps() + " steps";
            });
    return new ReleaseResult(summary, release.progress());
  }
}
