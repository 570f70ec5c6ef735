package dev.crewchief.adapters.secrets;

import com.uber.m3.tally.Scope;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.activity.ManualActivityCompletionClient;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.WorkflowClient;
import io.temporal.common.CancellationToken;
import java.lang.reflect.Type;
import java.util.Optional;

/**
 * The activity's execution context with its heartbeat details scrubbed. Heartbeat details reach
 * history too (the last ones are in a heartbeat timeout's failure, and the Web UI shows a pending
 * activity's), and the adapters heartbeat with what they are doing: the command being run, the last
 * healthcheck output. Everything else is the SDK's context unchanged.
 *
 * <p>An activity that reads its own heartbeat details back on a retry gets the scrubbed ones; the
 * adapters heartbeat for progress only, never to checkpoint a secret.
 */
final class ScrubbingExecutionContext implements ActivityExecutionContext {
  private final ActivityExecutionContext context;
  private final ValueScrubber values;

  ScrubbingExecutionContext(ActivityExecutionContext context, ValueScrubber values) {
    this.context = context;
    this.values = values;
  }

  @Override
  public <V> void heartbeat(V details) throws ActivityCompletionException {
    context.heartbeat(values.scrub(details));
  }

  @Override
  public ActivityInfo getInfo() {
    return context.getInfo();
  }

  @Override
  public <V> Optional<V> getHeartbeatDetails(Class<V> detailsClass) {
    return context.getHeartbeatDetails(detailsClass);
  }

  @Override
  public <V> Optional<V> getHeartbeatDetails(Class<V> detailsClass, Type detailsGenericType) {
    return context.getHeartbeatDetails(detailsClass, detailsGenericType);
  }

  @Override
  public <V> Optional<V> getLastHeartbeatDetails(Class<V> detailsClass) {
    return context.getLastHeartbeatDetails(detailsClass);
  }

  @Override
  public <V> Optional<V> getLastHeartbeatDetails(Class<V> detailsClass, Type detailsGenericType) {
    return context.getLastHeartbeatDetails(detailsClass, detailsGenericType);
  }

  @Override
  public byte[] getTaskToken() {
    return context.getTaskToken();
  }

  @Override
  public CancellationToken<ActivityCanceledException> getCancellationToken() {
    return context.getCancellationToken();
  }

  @Override
  public void doNotCompleteOnReturn() {
    context.doNotCompleteOnReturn();
  }

  @Override
  public boolean isDoNotCompleteOnReturn() {
    return context.isDoNotCompleteOnReturn();
  }

  @Override
  public boolean isUseLocalManualCompletion() {
    return context.isUseLocalManualCompletion();
  }

  @Override
  public ManualActivityCompletionClient useLocalManualCompletion() {
    return context.useLocalManualCompletion();
  }

  @Override
  public Scope getMetricsScope() {
    return context.getMetricsScope();
  }

  @Override
  public WorkflowClient getWorkflowClient() {
    return context.getWorkflowClient();
  }

  @Override
  public Object getInstance() {
    return context.getInstance();
  }
}
