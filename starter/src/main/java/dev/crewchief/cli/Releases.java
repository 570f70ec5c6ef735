package dev.crewchief.cli;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseProgress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.filter.v1.StartTimeFilter;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.ArrayList;
import java.util.List;

/** Finding releases and reading their state. */
final class Releases {
  private Releases() {}

  /**
   * Executions whose id starts with {@code release-}, newest first. Uses the visibility query when
   * the server has it, otherwise (the embedded test server) open and closed listing.
   */
  static List<WorkflowExecutionInfo> list(
      WorkflowServiceStubs stubs, String namespace, String query, boolean openOnly) {
    List<WorkflowExecutionInfo> out = new ArrayList<>();
    try {
      String q = query == null || query.isBlank() ? "" : query;
      if (openOnly) {
        q = q.isEmpty() ? "ExecutionStatus='Running'" : "(" + q + ") AND ExecutionStatus='Running'";
      }
      var resp =
          stubs
              .blockingStub()
              .listWorkflowExecutions(
                  ListWorkflowExecutionsRequest.newBuilder()
                      .setNamespace(namespace)
                      .setQuery(q)
                      .setPageSize(1000)
                      .build());
      out.addAll(resp.getExecutionsList());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
        throw e;
      }
      out.addAll(
          stubs
              .blockingStub()
              .listOpenWorkflowExecutions(
                  ListOpenWorkflowExecutionsRequest.newBuilder()
                      .setNamespace(namespace)
                      .setMaximumPageSize(1000)
                      .setStartTimeFilter(StartTimeFilter.getDefaultInstance())
                      .build())
              .getExecutionsList());
      if (!openOnly) {
        out.addAll(
            stubs
                .blockingStub()
                .listClosedWorkflowExecutions(
                    ListClosedWorkflowExecutionsRequest.newBuilder()
                        .setNamespace(namespace)
                        .setMaximumPageSize(1000)
                        .setStartTimeFilter(StartTimeFilter.getDefaultInstance())
                        .build())
                .getExecutionsList());
      }
    }
    out.removeIf(i -> !i.getExecution().getWorkflowId().startsWith("release-"));
    out.sort((a, b) -> Long.compare(b.getStartTime().getSeconds(), a.getStartTime().getSeconds()));
    return out;
  }

  static WorkflowExecutionInfo describe(WorkflowServiceStubs stubs, String namespace, String id) {
    try {
      return stubs
          .blockingStub()
          .describeWorkflowExecution(
              DescribeWorkflowExecutionRequest.newBuilder()
                  .setNamespace(namespace)
                  .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id).build())
                  .build())
          .getWorkflowExecutionInfo();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new Refused(
            "no release '"
                + id
                + "': `crewchief list` shows the releases (ids look like release-<runbook>-<env>-<version>)");
      }
      throw e;
    }
  }

  static boolean running(WorkflowExecutionInfo info) {
    return info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  }

  static String statusName(WorkflowExecutionStatus s) {
    return s.name().replace("WORKFLOW_EXECUTION_STATUS_", "");
  }

  /** A keyword search attribute of a listed execution, or null when it has none. */
  static String keyword(WorkflowExecutionInfo info, SearchAttributeKey<String> key) {
    Payload p = info.getSearchAttributes().getIndexedFieldsMap().get(key.getName());
    if (p == null) {
      return null;
    }
    try {
      return DefaultDataConverter.STANDARD_INSTANCE.fromPayload(p, String.class, String.class);
    } catch (RuntimeException e) {
      return null;
    }
  }

  static ReleaseProgress progress(WorkflowClient client, String id) {
    WorkflowStub stub = client.newUntypedWorkflowStub(id);
    return stub.query(ReleaseControl.PROGRESS_QUERY, ReleaseProgress.class);
  }

  /** A refusal the user should read: exit code 1. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }
}
