package dev.crewchief.release;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.worker.WorkflowImplementationOptions;
import io.temporal.workflow.DynamicSignalHandler;
import io.temporal.workflow.Workflow;
import java.time.Duration;

/**
 * What every release workflow implementation shares: its {@link Release} and the answers to the
 * {@link ReleaseControl} query, update and signal, which are the same for every runbook.
 */
public abstract class ReleaseWorkflow implements ReleaseControl {
  protected final Release release;

  /** The release exists before the first signal or update can arrive. */
  protected ReleaseWorkflow(ReleaseContext context) {
    this.release = new Release(context);
    // A signal of another name than gateDecision reaches the release too, and is refused with
    // the reason rather than dropped.
    Workflow.registerListener((DynamicSignalHandler) release::signal);
  }

  /**
   * The retry policy of steps acting on a remote system: an unreachable system is retried with
   * backoff for a few minutes before the release gives up; the given failure types are not retried
   * because a retry cannot fix them.
   */
  public static RetryOptions remoteRetry(String... doNotRetry) {
    return RetryOptions.newBuilder()
        .setInitialInterval(Duration.ofSeconds(2))
        .setBackoffCoefficient(2)
        .setMaximumInterval(Duration.ofMinutes(1))
        .setMaximumAttempts(6)
        .setDoNotRetry(doNotRetry)
        .build();
  }

  /**
   * Options for a step of at most {@code startToClose}, heartbeating when {@code heartbeat} is set.
   */
  public static ActivityOptions options(
      Duration startToClose, Duration heartbeat, RetryOptions retry) {
    ActivityOptions.Builder b =
        ActivityOptions.newBuilder().setStartToCloseTimeout(startToClose).setRetryOptions(retry);
    if (heartbeat != null) {
      b.setHeartbeatTimeout(heartbeat);
    }
    return b.build();
  }

  /**
   * How the worker runs release workflows. An exception of one of these types thrown outside a
   * release's own error handling (in a workflow's constructor, say) is a bug that fails the release
   * instead of retrying its workflow task forever, which would leave it stuck with nothing in its
   * status. Inside {@link Release#run} every exception already fails the release with its rollback.
   * Non-determinism (an IllegalStateException) is deliberately not among them: a bad deployment
   * must not fail every open release; it waits for the fix.
   */
  public static WorkflowImplementationOptions implementationOptions() {
    return WorkflowImplementationOptions.newBuilder()
        .setFailWorkflowExceptionTypes(
            NullPointerException.class,
            ClassCastException.class,
            IndexOutOfBoundsException.class,
            ArithmeticException.class,
            java.util.NoSuchElementException.class,
            UnsupportedOperationException.class,
            IllegalArgumentException.class,
            java.time.DateTimeException.class)
        .build();
  }

  @Override
  public ReleaseProgress progress() {
    return release.progress();
  }

  @Override
  public DecisionReply decideGate(GateDecision decision) {
    return release.decide(decision);
  }

  @Override
  public void gateDecision(com.fasterxml.jackson.databind.JsonNode payload) {
    release.signal(payload);
  }
}
