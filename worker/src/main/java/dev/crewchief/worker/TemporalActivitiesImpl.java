package dev.crewchief.worker;

import dev.crewchief.activities.LaneHolder;
import dev.crewchief.activities.TemporalActivities;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.failure.ApplicationFailure;

/**
 * What the workflows ask of Temporal itself through the worker's own client: who holds a lane (the
 * hold's parent, and whether that release still runs).
 */
public final class TemporalActivitiesImpl implements TemporalActivities {
  private final WorkflowClient client;

  public TemporalActivitiesImpl(WorkflowClient client) {
    this.client = client;
  }

  @Override
  public LaneHolder describeLaneHolder(String laneId) {
    DescribeWorkflowExecutionResponse hold = describe(laneId);
    if (hold == null || !running(hold)) {
      return new LaneHolder(laneId, false, null, false, "the lane is free");
    }
    if (!hold.getWorkflowExecutionInfo().hasParentExecution()) {
      return new LaneHolder(
          laneId, true, null, true, "held by a workflow started without a release (no parent)");
    }
    String holder = hold.getWorkflowExecutionInfo().getParentExecution().getWorkflowId();
    DescribeWorkflowExecutionResponse parent = describe(holder);
    boolean holderRunning = parent != null && running(parent);
    return new LaneHolder(
        laneId,
        true,
        holder,
        holderRunning,
        "held by " + holder + (holderRunning ? " (running)" : " (closed; its hold is ending)"));
  }

  private DescribeWorkflowExecutionResponse describe(String id) {
    try {
      return client
          .getWorkflowServiceStubs()
          .blockingStub()
          .describeWorkflowExecution(
              DescribeWorkflowExecutionRequest.newBuilder()
                  .setNamespace(client.getOptions().getNamespace())
                  .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id).build())
                  .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return null;
      }
      throw ApplicationFailure.newFailure(
          "cannot describe " + id + " on Temporal: " + e.getStatus(), "TemporalUnreachable");
    }
  }

  private static boolean running(DescribeWorkflowExecutionResponse r) {
    return r.getWorkflowExecutionInfo().getStatus()
        == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  }
}
