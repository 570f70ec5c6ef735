package dev.crewchief.bench;

import dev.crewchief.cli.CrewChiefCli;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseProgress;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.common.WorkflowExecutionHistory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark 2, gate latency: releases that wait at a gate after every step, each gate decided by
 * {@code crewchief approve} run in this process (the CLI's own code: its checks that the release
 * runs and a worker answers, then the decideGate update). The figure is, from the release's
 * history, the time from the decision's UpdateAccepted event to the ActivityTaskStarted event of
 * the next runbook step (not a notification): p50 and p99.
 */
public final class GateLatency {
  private GateLatency() {}

  public static void main(String[] args) throws Exception {
    Bench bench = new Bench("gates");
    int total = bench.quick ? 30 : 200;
    int perRelease = bench.quick ? 10 : 20;
    int releases = (total + perRelease - 1) / perRelease;
    Bench.WorkerProcess worker = bench.startWorker("gates-worker", Map.of());
    try {
      WorkflowClient client = bench.client();
      List<String> ids = new ArrayList<>();
      for (int r = 0; r < releases; r++) {
        String env = "gates-" + bench.run + "-" + r;
        String id = "bench-gates-" + bench.run + "-" + r;
        BenchRelease wf = client.newWorkflowStub(BenchRelease.class, bench.options(id));
        WorkflowClient.start(
            wf::run, new BenchPlan(bench.context(env, bench.run), perRelease + 1, 1, true, true));
        ids.add(id);
      }
      Map<String, String> env = bench.env();
      int decided = 0;
      for (int k = 1; k <= perRelease && decided < total; k++) {
        String gate = BenchRelease.gateName(k);
        for (String id : ids) {
          if (decided >= total) {
            break;
          }
          awaitGate(client, id, gate);
          int code =
              CrewChiefCli.run(
                  new String[] {"approve", id, gate, "--as", BenchRelease.APPROVER, "-m", "bench"},
                  env);
          if (code != 0) {
            throw new IllegalStateException(
                "crewchief approve " + id + " " + gate + ": exit " + code);
          }
          decided++;
        }
      }
      // Releases with gates left undecided (when total is not a multiple) are cancelled.
      List<Double> latencies = new ArrayList<>();
      int notificationsFirst = 0;
      for (String id : ids) {
        awaitEnd(client, id, decided == releases * perRelease);
        WorkflowExecutionHistory h = client.fetchHistory(id);
        notificationsFirst += measure(h.getEvents(), latencies);
      }
      double p50 = Bench.percentile(latencies, 50);
      double p99 = Bench.percentile(latencies, 99);
      String note = latencies.size() + " gates decided by `crewchief approve` in-process";
      bench.figure("p50 decision accepted -> next step started", p50, "ms", "", null, note);
      bench.figure(
          "p99 decision accepted -> next step started", p99, "ms", "<= 100", p99 <= 100, note);
      bench.figure(
          "max decision accepted -> next step started",
          Bench.percentile(latencies, 100),
          "ms",
          "",
          null,
          note);
      bench.figure(
          "next steps not scheduled with the gate's notification",
          notificationsFirst,
          "gates",
          "0",
          notificationsFirst == 0,
          "the step and the notification are scheduled by the same workflow task: it does not wait");
    } finally {
      worker.stop();
    }
  }

  /** Polls the release's progress query until the gate waits (the driver's wait, not a test's). */
  private static void awaitGate(WorkflowClient client, String id, String gate)
      throws InterruptedException {
    ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, id);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      ReleaseProgress p = stub.progress();
      for (GateView g : p.gates()) {
        if (g.name().equals(gate) && g.status() == GateStatus.WAITING) {
          return;
        }
      }
      Thread.sleep(5);
    }
    throw new IllegalStateException(id + " did not reach gate " + gate + " within a minute");
  }

  private static void awaitEnd(WorkflowClient client, String id, boolean complete) {
    if (!complete) {
      client.newUntypedWorkflowStub(id).cancel();
    }
    try {
      client.newUntypedWorkflowStub(id).getResult(Object.class);
    } catch (RuntimeException e) {
      if (complete) {
        throw e;
      }
    }
  }

  /**
   * Adds the latency of every decided gate in the history; returns at how many of them the next
   * step was not scheduled by the same workflow task as the gate's notification (it waited for the
   * notification, or for anything else, before it was scheduled).
   */
  static int measure(List<HistoryEvent> events, List<Double> latencies) {
    Map<Long, HistoryEvent> scheduled = new HashMap<>();
    Map<Long, HistoryEvent> started = new HashMap<>();
    Map<Long, HistoryEvent> closed = new HashMap<>();
    for (HistoryEvent e : events) {
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        scheduled.put(e.getEventId(), e);
      } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        started.put(e.getActivityTaskStartedEventAttributes().getScheduledEventId(), e);
      } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        closed.put(e.getActivityTaskCompletedEventAttributes().getScheduledEventId(), e);
      }
    }
    int notificationFirst = 0;
    for (int i = 0; i < events.size(); i++) {
      HistoryEvent accepted = events.get(i);
      if (accepted.getEventType() != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
        continue;
      }
      Long notifyTask = null;
      for (int j = i + 1; j < events.size(); j++) {
        HistoryEvent e = events.get(j);
        if (e.getEventType() != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
          continue;
        }
        HistoryEvent s = started.get(e.getEventId());
        String type = e.getActivityTaskScheduledEventAttributes().getActivityType().getName();
        if (!type.equals("Bench.noop")) {
          if (notifyTask == null) {
            notifyTask =
                e.getActivityTaskScheduledEventAttributes().getWorkflowTaskCompletedEventId();
          }
          continue;
        }
        if (s != null) {
          double stepStart = millis(s);
          latencies.add(stepStart - millis(accepted));
          long stepTask =
              e.getActivityTaskScheduledEventAttributes().getWorkflowTaskCompletedEventId();
          if (notifyTask != null && notifyTask != stepTask) {
            notificationFirst++;
          }
        }
        break;
      }
    }
    return notificationFirst;
  }

  static double millis(HistoryEvent e) {
    return e.getEventTime().getSeconds() * 1000.0 + e.getEventTime().getNanos() / 1e6;
  }
}
