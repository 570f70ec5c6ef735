package dev.crewchief.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.crewchief.worker.TemporalConnection;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.HistoryEventFilterType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.client.WorkflowClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code crewchief watch RELEASE}: the release's history as it grows, by long poll (the server
 * answers when something happens), each event with its own time. While a step runs, its progress is
 * refreshed every two seconds from the server's view of it: a progress bar on a terminal, a line
 * when it changes otherwise. Exit 0 when the release completed, 1 otherwise.
 */
@Command(
    name = "watch",
    description = {
      "Follow a release until it ends: each step, gate, decision and timer as it happens, with the"
          + " time it happened, and the progress of the running step.",
      "Exit code 0 when the release completed, 1 when it failed, was cancelled or terminated."
    })
final class WatchCmd implements Callable<Integer> {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

  @ParentCommand CrewChiefCli cli;

  @picocli.CommandLine.Mixin CrewChiefCli.HelpOption help;

  /** How long a watch rides out a server it cannot reach, unless told otherwise. */
  static final Duration OUTAGE_LIMIT = Duration.ofMinutes(5);

  @Parameters(index = "0", description = "the release id")
  String release;

  @Option(
      names = "--give-up-after",
      paramLabel = "DURATION",
      description =
          "stop watching (exit 1) when Temporal has been unreachable this long, ISO-8601"
              + " (default: PT5M); a shorter outage, such as a restart, is ridden out")
  Duration giveUpAfter = OUTAGE_LIMIT;

  @Override
  public Integer call() {
    if (giveUpAfter.isNegative() || giveUpAfter.isZero()) {
      throw new IllegalArgumentException(
          "--give-up-after " + giveUpAfter + " is not a positive duration (e.g. PT30S, PT5M)");
    }
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      Releases.describe(s.stubs(), s.namespace(), release);
      return new Follower(s, release, cli.out, System.console() != null, giveUpAfter).run();
    }
  }

  /** Follows the release until it closes; 0 when it completed, 1 otherwise. */
  static int follow(WorkflowClient client, Session s, String id, PrintWriter out) {
    return new Follower(s, id, out, System.console() != null, OUTAGE_LIMIT).run();
  }

  /** One watch: where it is in the history, and what it knows of the steps seen so far. */
  private static final class Follower {
    private final Session s;
    private final String id;
    private final PrintWriter out;
    private final boolean terminal;
    private final Map<Long, String> steps = new HashMap<>();
    private int running;
    private String lastProgress = "";
    private final Duration outageLimit;
    private Instant lostSince;
    private boolean barShown;
    private long lastEventId;

    Follower(Session s, String id, PrintWriter out, boolean terminal, Duration outageLimit) {
      this.s = s;
      this.id = id;
      this.out = out;
      this.terminal = terminal;
      this.outageLimit = outageLimit;
    }

    int run() {
      // Temporal's own test server (the embedded default) cannot long-poll a history page by
      // page; there the history is read again every half second instead.
      boolean longPoll = !s.embedded();
      ByteString token = ByteString.EMPTY;
      while (true) {
        GetWorkflowExecutionHistoryResponse page;
        try {
          // Long poll: the server answers as soon as the history grows. While a step runs the
          // poll is cut short every two seconds to refresh its progress.
          page =
              s.stubs()
                  .blockingStub()
                  .withDeadlineAfter(running > 0 || !longPoll ? 2 : 30, TimeUnit.SECONDS)
                  .getWorkflowExecutionHistory(
                      GetWorkflowExecutionHistoryRequest.newBuilder()
                          .setNamespace(s.namespace())
                          .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id))
                          .setWaitNewEvent(longPoll)
                          .setHistoryEventFilterType(
                              HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
                          .setNextPageToken(token)
                          .build());
          reachedAgain();
        } catch (StatusRuntimeException e) {
          Status.Code code = e.getStatus().getCode();
          if (code == Status.Code.DEADLINE_EXCEEDED) {
            // The long poll's own end, with nothing new; or a server that does not answer at
            // all (a network that drops everything), which a quick question tells apart.
            if (serverAnswers()) {
              reachedAgain();
              progress();
            } else {
              outage(e);
            }
            continue;
          }
          if (unreachable(e) || (lostSince != null && comingBack(code))) {
            outage(e);
            continue;
          }
          if (longPoll && (code == Status.Code.UNKNOWN || code == Status.Code.INTERNAL)) {
            longPoll = false; // a server that cannot long-poll: read the history again instead
            token = ByteString.EMPTY;
            continue;
          }
          throw e;
        }
        for (HistoryEvent e : page.getHistory().getEventsList()) {
          if (e.getEventId() <= lastEventId) {
            continue;
          }
          lastEventId = e.getEventId();
          Integer end = event(e);
          if (end != null) {
            out.flush();
            return end;
          }
        }
        out.flush();
        token = page.getNextPageToken();
        if (!longPoll && token.isEmpty()) {
          progress();
          sleep(500);
        } else if (token.isEmpty() && page.getHistory().getEventsCount() == 0) {
          // A history with no next page and no events: the release has closed.
          try {
            return Releases.statusName(Releases.describe(s.stubs(), s.namespace(), id).getStatus())
                    .equals("COMPLETED")
                ? 0
                : 1;
          } catch (StatusRuntimeException e) {
            if (!unreachable(e)) {
              throw e;
            }
            outage(e);
          }
        }
      }
    }

    /**
     * The server is gone (stopped, restarting, the network between): nothing to do with the
     * release, which goes on where it runs.
     */
    private static boolean unreachable(StatusRuntimeException e) {
      return e.getStatus().getCode() == Status.Code.UNAVAILABLE;
    }

    /**
     * What a server says while it starts again (its namespaces not loaded yet, internal errors):
     * part of the outage, not the release's end, within the same bound.
     */
    private static boolean comingBack(Status.Code code) {
      return code == Status.Code.NOT_FOUND
          || code == Status.Code.UNKNOWN
          || code == Status.Code.INTERNAL
          || code == Status.Code.RESOURCE_EXHAUSTED;
    }

    private boolean serverAnswers() {
      try {
        s.stubs()
            .blockingStub()
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
        return true;
      } catch (StatusRuntimeException e) {
        return false;
      }
    }

    /**
     * Rides out an outage: says so once, tries again every two seconds (without gRPC's growing
     * reconnect backoff, so a server back up is seen within seconds), and gives up with a clear
     * refusal once the outage has lasted longer than the limit.
     */
    private void outage(StatusRuntimeException e) {
      Instant now = Instant.now();
      String target = s.connection().target();
      if (lostSince == null) {
        lostSince = now;
        line(
            now,
            "Temporal at "
                + target
                + " is unreachable ("
                + TemporalConnection.describe(e)
                + "): trying again every 2 s for up to "
                + HistoryReport.took(outageLimit)
                + " (Ctrl-C to stop watching; the release does not depend on it)");
        out.flush();
      } else if (Duration.between(lostSince, now).compareTo(outageLimit) > 0) {
        out.flush();
        throw new Releases.Refused(
            "Temporal at "
                + target
                + " has been unreachable since "
                + TIME.format(lostSince)
                + " UTC (more than "
                + HistoryReport.took(outageLimit)
                + "): stopped watching. The release itself is not affected; once the server is"
                + " back, `crewchief watch "
                + id
                + "` again, or `crewchief status "
                + id
                + "`");
      }
      sleep(2000);
      s.stubs().getRawChannel().resetConnectBackoff();
    }

    private void reachedAgain() {
      if (lostSince != null) {
        Instant now = Instant.now();
        line(
            now,
            "reached Temporal again after " + HistoryReport.took(Duration.between(lostSince, now)));
        lostSince = null;
      }
    }

    /** Prints one event; the exit code when it ends the release, else null. */
    private Integer event(HistoryEvent e) {
      Instant at =
          Instant.ofEpochSecond(e.getEventTime().getSeconds(), e.getEventTime().getNanos());
      switch (e.getEventType()) {
        case EVENT_TYPE_WORKFLOW_EXECUTION_STARTED ->
            line(
                at,
                "started "
                    + e.getWorkflowExecutionStartedEventAttributes().getWorkflowType().getName()
                    + " by "
                    + e.getWorkflowExecutionStartedEventAttributes().getIdentity());
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> {
          var a = e.getActivityTaskScheduledEventAttributes();
          JsonNode input = HistoryReport.first(a.getInput());
          if (a.getActivityType().getName().equals("Notify.notify")) {
            gateNotice(at, input);
            return null;
          }
          String step = input != null && input.hasNonNull("step") ? input.get("step").asText() : "";
          steps.put(e.getEventId(), step.isEmpty() ? a.getActivityType().getName() : step);
          running++;
          line(at, "RUNNING     " + steps.get(e.getEventId()));
        }
        case EVENT_TYPE_ACTIVITY_TASK_STARTED -> {
          var a = e.getActivityTaskStartedEventAttributes();
          if (a.getAttempt() > 1 && steps.containsKey(a.getScheduledEventId())) {
            line(
                at,
                "            "
                    + steps.get(a.getScheduledEventId())
                    + ": attempt "
                    + a.getAttempt()
                    + (a.hasLastFailure() ? " after: " + a.getLastFailure().getMessage() : ""));
          }
        }
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> {
          long sid = e.getActivityTaskCompletedEventAttributes().getScheduledEventId();
          if (steps.containsKey(sid)) {
            JsonNode result =
                HistoryReport.first(e.getActivityTaskCompletedEventAttributes().getResult());
            String action = result == null ? null : HistoryReport.textOf(result, "action");
            stepEnded(at, sid, "DONE", action);
          }
        }
        case EVENT_TYPE_ACTIVITY_TASK_FAILED ->
            stepEnded(
                at,
                e.getActivityTaskFailedEventAttributes().getScheduledEventId(),
                "FAILED",
                HistoryReport.message(e.getActivityTaskFailedEventAttributes().getFailure()));
        case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT ->
            stepEnded(
                at,
                e.getActivityTaskTimedOutEventAttributes().getScheduledEventId(),
                "TIMED OUT",
                HistoryReport.message(e.getActivityTaskTimedOutEventAttributes().getFailure()));
        case EVENT_TYPE_ACTIVITY_TASK_CANCELED ->
            stepEnded(
                at,
                e.getActivityTaskCanceledEventAttributes().getScheduledEventId(),
                "CANCELLED",
                null);
        case EVENT_TYPE_TIMER_STARTED -> {
          var t = e.getTimerStartedEventAttributes();
          Instant until = at.plusSeconds(t.getStartToFireTimeout().getSeconds());
          if (t.getStartToFireTimeout().getSeconds() >= 60) {
            line(
                at,
                "WAITING     until "
                    + until
                    + " ("
                    + HistoryReport.took(Duration.ofSeconds(t.getStartToFireTimeout().getSeconds()))
                    + ")");
          }
        }
        case EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED -> {
          var c = e.getStartChildWorkflowExecutionInitiatedEventAttributes();
          line(
              at,
              c.getWorkflowType().getName().equals("CrewChiefLaneHold")
                  ? "LANE        taking " + c.getWorkflowId()
                  : "CHILD       "
                      + c.getWorkflowId()
                      + " ("
                      + c.getWorkflowType().getName()
                      + ")");
        }
        case EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED ->
            line(
                at,
                "            "
                    + e.getStartChildWorkflowExecutionFailedEventAttributes().getWorkflowId()
                    + " is taken");
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED ->
            line(
                at,
                "            "
                    + e.getChildWorkflowExecutionCompletedEventAttributes()
                        .getWorkflowExecution()
                        .getWorkflowId()
                    + " ended");
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED ->
            line(
                at,
                "            "
                    + e.getChildWorkflowExecutionFailedEventAttributes()
                        .getWorkflowExecution()
                        .getWorkflowId()
                    + " failed: "
                    + HistoryReport.message(
                        e.getChildWorkflowExecutionFailedEventAttributes().getFailure()));
        case EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED -> {
          var a = e.getWorkflowExecutionSignaledEventAttributes();
          line(
              at,
              "SIGNAL      "
                  + a.getSignalName()
                  + " from "
                  + a.getIdentity()
                  + ": "
                  + HistoryReport.first(a.getInput()));
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED -> {
          var req = e.getWorkflowExecutionUpdateAcceptedEventAttributes().getAcceptedRequest();
          JsonNode d = HistoryReport.first(req.getInput().getArgs());
          line(
              at,
              "DECISION    "
                  + (d == null
                      ? ""
                      : HistoryReport.textOf(d, "decision")
                          + " at "
                          + HistoryReport.textOf(d, "gate")
                          + " by "
                          + HistoryReport.textOf(d, "approver"))
                  + " (update from "
                  + req.getMeta().getIdentity()
                  + ")");
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED -> {
          var o = e.getWorkflowExecutionUpdateCompletedEventAttributes().getOutcome();
          JsonNode reply = o.hasSuccess() ? HistoryReport.first(o.getSuccess()) : null;
          if (reply != null && reply.has("accepted")) {
            line(
                at,
                "            "
                    + (reply.path("accepted").asBoolean()
                        ? "accepted"
                        : "refused: " + reply.path("reason").asText()));
          }
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED -> {
          JsonNode result =
              HistoryReport.first(e.getWorkflowExecutionCompletedEventAttributes().getResult());
          line(
              at,
              "release "
                  + id
                  + " COMPLETED"
                  + (result == null ? "" : ": " + HistoryReport.textOf(result, "summary")));
          return 0;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> {
          line(
              at,
              "release "
                  + id
                  + " FAILED: "
                  + HistoryReport.message(
                      e.getWorkflowExecutionFailedEventAttributes().getFailure()));
          return 1;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED -> {
          line(at, "release " + id + " CANCELLED");
          return 1;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED -> {
          line(
              at,
              "release "
                  + id
                  + " TERMINATED: "
                  + e.getWorkflowExecutionTerminatedEventAttributes().getReason());
          return 1;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT -> {
          line(at, "release " + id + " TIMED OUT");
          return 1;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW -> {
          line(at, "release " + id + " continues in a new run");
        }
        default -> {}
      }
      return null;
    }

    private void gateNotice(Instant at, JsonNode n) {
      if (n == null) {
        return;
      }
      String kind = HistoryReport.textOf(n, "kind");
      if ("GATE_OPEN".equals(kind) || "GATE_DECIDED".equals(kind)) {
        line(
            at,
            ("GATE_OPEN".equals(kind) ? "GATE        " : "            ")
                + HistoryReport.textOf(n, "subject"));
        if ("GATE_OPEN".equals(kind)) {
          String body = HistoryReport.textOf(n, "body");
          if (body != null) {
            for (String l : body.split("\n")) {
              if (l.startsWith("Approve:") || l.startsWith("Reject:") || l.startsWith("Web UI:")) {
                out.println("                     " + l);
              }
            }
          }
        }
      }
    }

    private void stepEnded(Instant at, long scheduledId, String what, String detail) {
      String step = steps.remove(scheduledId);
      if (step == null) {
        return;
      }
      running = Math.max(0, running - 1);
      lastProgress = "";
      line(
          at,
          StatusCmd.pad(what, 11)
              + " "
              + step
              + (detail == null || detail.isBlank()
                  ? ""
                  : "  (" + StatusCmd.abbreviate(detail) + ")"));
    }

    /** The running step's progress, from the server's view of the pending activity. */
    private void progress() {
      List<Pending.Step> pending;
      try {
        pending = Pending.of(Releases.describeFully(s.stubs(), s.namespace(), id), Instant.now());
      } catch (RuntimeException e) {
        return;
      }
      for (Pending.Step p : pending) {
        String text =
            terminal && p.progress() != null && p.progress().total() > 0
                ? Pending.bar(p.progress(), 30)
                : p.line();
        if (text.equals(lastProgress)) {
          continue;
        }
        lastProgress = text;
        if (terminal) {
          out.print("\r         " + text + "\u001b[K");
          barShown = true;
        } else {
          out.println("         " + text);
        }
        out.flush();
      }
    }

    private void line(Instant at, String text) {
      if (barShown) {
        out.print("\r\u001b[K");
        barShown = false;
      }
      out.println(TIME.format(at) + " " + text);
    }

    private static void sleep(long ms) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Releases.Refused("interrupted");
      }
    }
  }
}
