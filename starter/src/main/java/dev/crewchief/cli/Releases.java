package dev.crewchief.cli;

import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseProgress;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.TaskQueueType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.filter.v1.StartTimeFilter;
import io.temporal.api.taskqueue.v1.TaskQueue;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeTaskQueueRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.common.SearchAttributeKey;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.failure.ApplicationFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Finding releases and reading their state. */
final class Releases {
  private Releases() {}

  /** A listing: the releases found, newest first, and whether more exist beyond its limit. */
  record Listing(List<WorkflowExecutionInfo> releases, boolean more) {}

  /**
   * Executions whose id starts with {@code release-}, newest first, at most {@code limit} of them
   * (0: all). With the search attributes registered ({@code indexed}) the server is asked for
   * releases only ({@code WorkflowId STARTS_WITH 'release-'}), a page at a time up to the limit, so
   * that lane holds and other workflows neither cost time nor push releases out of the page;
   * otherwise (the embedded test server) open and closed executions are listed and filtered here.
   */
  static Listing list(
      WorkflowServiceStubs stubs, String namespace, String query, boolean indexed, int limit) {
    List<WorkflowExecutionInfo> out = new ArrayList<>();
    boolean more = false;
    try {
      String q = query == null || query.isBlank() ? "" : query;
      if (indexed) {
        q =
            q.isEmpty()
                ? "WorkflowId STARTS_WITH 'release-'"
                : "WorkflowId STARTS_WITH 'release-' AND " + q;
      }
      com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
      do {
        // One more than the limit: whether more exist is known by finding one, not from the
        // page token (the server may hand one out with nothing behind it).
        int page = limit == 0 ? 1000 : Math.min(1000, limit + 1 - out.size());
        var resp =
            stubs
                .blockingStub()
                .listWorkflowExecutions(
                    ListWorkflowExecutionsRequest.newBuilder()
                        .setNamespace(namespace)
                        .setQuery(q)
                        .setPageSize(page)
                        .setNextPageToken(token)
                        .build());
        for (WorkflowExecutionInfo i : resp.getExecutionsList()) {
          if (i.getExecution().getWorkflowId().startsWith("release-")) {
            if (limit > 0 && out.size() == limit) {
              more = true;
              break;
            }
            out.add(i);
          }
        }
        token = resp.getNextPageToken();
      } while (!more && !token.isEmpty() && (limit == 0 || out.size() < limit));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
        throw e;
      }
      out.clear();
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
      out.removeIf(i -> !i.getExecution().getWorkflowId().startsWith("release-"));
    }
    out.sort((a, b) -> Long.compare(b.getStartTime().getSeconds(), a.getStartTime().getSeconds()));
    if (limit > 0 && out.size() > limit) {
      out.subList(limit, out.size()).clear();
      more = true;
    }
    return new Listing(out, more);
  }

  static WorkflowExecutionInfo describe(WorkflowServiceStubs stubs, String namespace, String id) {
    return describeFully(stubs, namespace, id).getWorkflowExecutionInfo();
  }

  /** The release as the server describes it, with its pending steps. */
  static io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse describeFully(
      WorkflowServiceStubs stubs, String namespace, String id) {
    try {
      return stubs
          .blockingStub()
          .describeWorkflowExecution(
              DescribeWorkflowExecutionRequest.newBuilder()
                  .setNamespace(namespace)
                  .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id).build())
                  .build());
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

  /** The release, refused with its status when it is not running (decisions, cancels). */
  static WorkflowExecutionInfo requireRunning(
      WorkflowServiceStubs stubs, String namespace, String id) {
    WorkflowExecutionInfo info = describe(stubs, namespace, id);
    if (!running(info)) {
      throw new Refused("release " + id + " is not running (" + statusName(info.getStatus()) + ")");
    }
    return info;
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

  /**
   * The release's live progress, or null when no worker answers the query within the time. A query
   * is answered by a worker, and the SDK retries one that no worker picks up for a minute: the
   * deadline of a gRPC context bounds the call and the SDK's retries together, in this thread, so
   * nobody is kept waiting and nothing is left running behind.
   */
  static ReleaseProgress progressWithin(WorkflowClient client, String id, int seconds) {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "query-deadline");
              t.setDaemon(true);
              return t;
            });
    try (Context.CancellableContext bounded =
        Context.current().withDeadlineAfter(seconds, TimeUnit.SECONDS, timer)) {
      return bounded.call(() -> progress(client, id));
    } catch (Exception noAnswer) {
      return null;
    } finally {
      timer.shutdownNow();
    }
  }

  static ReleaseProgress progress(WorkflowClient client, String id) {
    WorkflowStub stub = client.newUntypedWorkflowStub(id);
    return stub.query(ReleaseControl.PROGRESS_QUERY, ReleaseProgress.class);
  }

  /**
   * Whether a worker polls the task queue: it has polled within the last two minutes. A worker
   * long-polls for up to about a minute per request, so a live one is always seen; one that died a
   * moment ago may still be, which is why a gate also refuses decisions that arrive stale.
   */
  static boolean workerPolls(WorkflowServiceStubs stubs, String namespace, String taskQueue) {
    io.temporal.api.workflowservice.v1.DescribeTaskQueueResponse resp;
    try {
      resp =
          stubs
              .blockingStub()
              .describeTaskQueue(
                  DescribeTaskQueueRequest.newBuilder()
                      .setNamespace(namespace)
                      .setTaskQueue(TaskQueue.newBuilder().setName(taskQueue).build())
                      .setTaskQueueType(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
                      .build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
        return true; // a server that cannot tell (the embedded test server)
      }
      throw e;
    }
    long now = System.currentTimeMillis() / 1000;
    for (var p : resp.getPollersList()) {
      if (now - p.getLastAccessTime().getSeconds() <= 120) {
        return true;
      }
    }
    return false;
  }

  /**
   * Waits (up to half a minute) until a just-started release holds its lane, and turns a release
   * that ended at once into the refusal it is: another release holds the lane, or its input was
   * refused. A rehearsal holds no lane and is through as soon as it passed that step.
   */
  static void awaitLane(WorkflowClient client, Session s, String id, String laneId) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      WorkflowExecutionInfo info = describe(s.stubs(), s.namespace(), id);
      if (!running(info)) {
        if (info.getStatus() == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
          return;
        }
        String why = failureOf(client, id);
        throw new Refused(
            why.contains("[LaneBusy]")
                ? "refused: " + why
                : "release " + id + " failed at once: " + why);
      }
      ReleaseProgress p = progressWithin(client, id, 5);
      if (p != null) {
        if (p.laneHeld() || p.lane() == null && !p.currentStep().equals("starting")) {
          return;
        }
        for (var st : p.steps()) {
          if (st.name().equals("hold the lane " + laneId)
              && st.status() != dev.crewchief.release.StepStatus.RUNNING) {
            if (st.status() == dev.crewchief.release.StepStatus.FAILED) {
              break; // the release is failing: its end says why
            }
            return;
          }
        }
      } // else no workflow task has run yet: keep waiting.
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The failure message of a closed release, from its last event. */
  static String failureOf(WorkflowClient client, String id) {
    try {
      client
          .newUntypedWorkflowStub(id)
          .getResult(5, java.util.concurrent.TimeUnit.SECONDS, Object.class);
      return "(completed)";
    } catch (io.temporal.client.WorkflowFailedException e) {
      Throwable c = e.getCause();
      if (c instanceof ApplicationFailure af) {
        return af.getOriginalMessage() + " [" + af.getType() + "]";
      }
      return String.valueOf(c == null ? e.getMessage() : c.getMessage());
    } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
      return e.getMessage();
    }
  }

  /** A refusal the user should read: exit code 1. */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message);
    }
  }
}
