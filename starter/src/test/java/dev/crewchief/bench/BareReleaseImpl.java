package dev.crewchief.bench;

import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/** See {@link BareRelease}: the same activity stub options as {@link BenchReleaseImpl}. */
public final class BareReleaseImpl implements BareRelease {
  private final BenchActivities bench =
      Workflow.newActivityStub(
          BenchActivities.class,
          ReleaseWorkflow.options(
              Duration.ofSeconds(30), null, ReleaseWorkflow.remoteRetry("BenchNeverRetried")));

  @Override
  public String run(int steps) {
    for (int i = 1; i <= steps; i++) {
      bench.noop("step " + i);
    }
    return steps + " steps";
  }
}
