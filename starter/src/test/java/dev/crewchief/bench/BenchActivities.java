package dev.crewchief.bench;

import dev.crewchief.activities.ActionResult;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** The benchmarks' steps: they do nothing, so that what is measured is the orchestration. */
@ActivityInterface
public interface BenchActivities {
  @ActivityMethod(name = "Bench.noop")
  ActionResult noop(String step);

  /**
   * One look at a reindex that takes {@code days}: heartbeats its progress, and fails (to be
   * retried an hour later) until an attempt falls after the reindex's end.
   */
  @ActivityMethod(name = "Bench.awaitReindex")
  ActionResult awaitReindex(int days);

  /** The benchmarks' no-op step. */
  final class Impl implements BenchActivities {
    @Override
    public ActionResult noop(String step) {
      return new ActionResult(step, false, "");
    }

    @Override
    public ActionResult awaitReindex(int days) {
      int attempt = io.temporal.activity.Activity.getExecutionContext().getInfo().getAttempt();
      int hours = days * 24;
      io.temporal.activity.Activity.getExecutionContext()
          .heartbeat(new dev.crewchief.activities.Progress(attempt, hours, "hours", "reindexing"));
      if (attempt < hours) {
        throw io.temporal.failure.ApplicationFailure.newFailure(
            "reindex at " + attempt + " of " + hours + " hours", "ReindexRunning");
      }
      return new ActionResult("reindex done after " + attempt + " looks", false, "");
    }
  }
}
