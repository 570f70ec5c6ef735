package dev.crewchief.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The report of a release, built from its event history alone (so it works for closed releases and
 * with no worker running): every step with start, end, attempts and outcome, every gate decision
 * with who, when, how and the comment, and every decision request the release received.
 */
final class HistoryReport {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
  private static final String NOTIFY = "Notify.notify";

  record Step(
      String step,
      String activity,
      Instant scheduled,
      Instant started,
      Instant ended,
      int attempts,
      String outcome) {}

  record GateRow(
      String gate, String decision, String by, String when, String via, String comment) {}

  final String workflowId;
  String workflowType;
  String runId;
  String startedBy;
  JsonNode context;
  Instant started;
  Instant ended;
  String outcome = "RUNNING";
  String failure;
  final List<Step> steps = new ArrayList<>();
  final List<GateRow> gates = new ArrayList<>();
  final List<String> requests = new ArrayList<>();

  HistoryReport(String workflowId, List<HistoryEvent> events) {
    this.workflowId = workflowId;
    Map<Long, Step> scheduled = new LinkedHashMap<>();
    Map<Long, Boolean> notifies = new LinkedHashMap<>();
    for (HistoryEvent e : events) {
      Instant at =
          Instant.ofEpochSecond(e.getEventTime().getSeconds(), e.getEventTime().getNanos());
      switch (e.getEventType()) {
        case EVENT_TYPE_WORKFLOW_EXECUTION_STARTED -> {
          var a = e.getWorkflowExecutionStartedEventAttributes();
          workflowType = a.getWorkflowType().getName();
          runId = a.getOriginalExecutionRunId();
          startedBy = a.getIdentity();
          started = at;
          JsonNode input = first(a.getInput());
          context = input == null ? null : input.get("context");
        }
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> {
          var a = e.getActivityTaskScheduledEventAttributes();
          JsonNode input = first(a.getInput());
          String type = a.getActivityType().getName();
          if (type.equals(NOTIFY)) {
            notifies.put(e.getEventId(), true);
            if (input != null
                && "GATE_DECIDED".equals(text(input, "kind"))
                && input.hasNonNull("gate")) {
              JsonNode g = input.get("gate");
              gates.add(
                  new GateRow(
                      text(g, "name"),
                      text(g, "status"),
                      text(g, "decidedBy"),
                      time(text(g, "decidedAt")),
                      text(g, "via"),
                      text(g, "comment")));
            }
          } else {
            String step = input == null ? type : text(input, "step");
            scheduled.put(e.getEventId(), new Step(step, type, at, null, null, 0, "scheduled"));
          }
        }
        case EVENT_TYPE_ACTIVITY_TASK_STARTED -> {
          var a = e.getActivityTaskStartedEventAttributes();
          scheduled.computeIfPresent(
              a.getScheduledEventId(),
              (k, s) ->
                  new Step(
                      s.step(), s.activity(), s.scheduled(), at, null, a.getAttempt(), "running"));
        }
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED ->
            end(
                scheduled,
                e.getActivityTaskCompletedEventAttributes().getScheduledEventId(),
                at,
                "done");
        case EVENT_TYPE_ACTIVITY_TASK_FAILED ->
            end(
                scheduled,
                e.getActivityTaskFailedEventAttributes().getScheduledEventId(),
                at,
                "failed: " + message(e.getActivityTaskFailedEventAttributes().getFailure()));
        case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT ->
            end(
                scheduled,
                e.getActivityTaskTimedOutEventAttributes().getScheduledEventId(),
                at,
                "timed out: " + message(e.getActivityTaskTimedOutEventAttributes().getFailure()));
        case EVENT_TYPE_ACTIVITY_TASK_CANCELED ->
            end(
                scheduled,
                e.getActivityTaskCanceledEventAttributes().getScheduledEventId(),
                at,
                "cancelled");
        case EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED -> {
          var a = e.getWorkflowExecutionSignaledEventAttributes();
          requests.add(
              TIME.format(at)
                  + " signal "
                  + a.getSignalName()
                  + " from "
                  + a.getIdentity()
                  + ": "
                  + first(a.getInput()));
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED -> {
          var a = e.getWorkflowExecutionUpdateAcceptedEventAttributes();
          var req = a.getAcceptedRequest();
          requests.add(
              TIME.format(at)
                  + " update "
                  + req.getInput().getName()
                  + " from "
                  + req.getMeta().getIdentity()
                  + " (accepted): "
                  + first(req.getInput().getArgs()));
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED -> {
          outcome = "COMPLETED";
          ended = at;
          JsonNode result = first(e.getWorkflowExecutionCompletedEventAttributes().getResult());
          failure = result == null ? null : text(result, "summary");
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> {
          outcome = "FAILED";
          ended = at;
          failure = message(e.getWorkflowExecutionFailedEventAttributes().getFailure());
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED -> {
          outcome = "CANCELLED";
          ended = at;
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED -> {
          outcome = "TERMINATED";
          ended = at;
          failure = e.getWorkflowExecutionTerminatedEventAttributes().getReason();
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT -> {
          outcome = "TIMED_OUT";
          ended = at;
        }
        default -> {}
      }
    }
    steps.addAll(scheduled.values());
  }

  private static void end(Map<Long, Step> scheduled, long id, Instant at, String outcome) {
    scheduled.computeIfPresent(
        id,
        (k, s) ->
            new Step(
                s.step(),
                s.activity(),
                s.scheduled(),
                s.started() == null ? s.scheduled() : s.started(),
                at,
                Math.max(1, s.attempts()),
                outcome));
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("# Release ").append(workflowId).append("\n\n");
    md.append("- Workflow: ").append(workflowType).append(", run ").append(runId).append('\n');
    if (context != null) {
      md.append("- Runbook: ")
          .append(text(context, "runbook"))
          .append(", environment: ")
          .append(text(context, "environment"))
          .append(", version: ")
          .append(text(context, "version"))
          .append(context.path("dryRun").asBoolean() ? ", **dry run** (no side effects)" : "")
          .append('\n');
    }
    md.append("- Started: ").append(fmt(started)).append(" by ").append(startedBy).append('\n');
    md.append("- Ended: ").append(ended == null ? "(still running)" : fmt(ended)).append('\n');
    md.append("- Outcome: ").append(outcome);
    if (failure != null && !failure.isBlank()) {
      md.append(" - ").append(failure.replace('\n', ' '));
    }
    md.append("\n\n## Steps\n\n");
    md.append("| # | Step | Activity | Started | Ended | Took | Attempts | Outcome |\n");
    md.append("|---|---|---|---|---|---|---|---|\n");
    int n = 1;
    for (Step s : steps) {
      md.append("| ")
          .append(n++)
          .append(" | ")
          .append(cell(s.step()))
          .append(" | ")
          .append(s.activity())
          .append(" | ")
          .append(fmt(s.started()))
          .append(" | ")
          .append(fmt(s.ended()))
          .append(" | ")
          .append(
              s.started() != null && s.ended() != null
                  ? took(Duration.between(s.started(), s.ended()))
                  : "")
          .append(" | ")
          .append(s.attempts() == 0 ? "" : s.attempts())
          .append(" | ")
          .append(cell(s.outcome()))
          .append(" |\n");
    }
    md.append("\n## Gate decisions\n\n");
    if (gates.isEmpty()) {
      md.append("(none)\n");
    } else {
      md.append("| Gate | Decision | By | When | Via | Comment |\n|---|---|---|---|---|---|\n");
      for (GateRow g : gates) {
        md.append("| ")
            .append(g.gate())
            .append(" | ")
            .append(g.decision())
            .append(" | ")
            .append(g.by() == null ? "(nobody)" : g.by())
            .append(" | ")
            .append(g.when())
            .append(" | ")
            .append(g.via() == null ? "" : g.via())
            .append(" | ")
            .append(cell(g.comment() == null ? "" : g.comment()))
            .append(" |\n");
      }
    }
    md.append("\n## Decision requests received\n\n");
    if (requests.isEmpty()) {
      md.append("(none)\n");
    } else {
      for (String r : requests) {
        md.append("- ").append(r).append('\n');
      }
    }
    return md.toString();
  }

  private static String took(Duration d) {
    return d.toMillis() < 1000 ? d.toMillis() + " ms" : d.toSeconds() + " s";
  }

  private static String cell(String s) {
    return s == null ? "" : s.replace("|", "\\|").replace('\n', ' ');
  }

  private static String fmt(Instant i) {
    return i == null ? "" : TIME.format(i);
  }

  private static String time(String iso) {
    if (iso == null) {
      return "";
    }
    try {
      return TIME.format(Instant.parse(iso));
    } catch (RuntimeException e) {
      return iso;
    }
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static String message(Failure f) {
    StringBuilder sb = new StringBuilder(f.getMessage());
    Failure c = f;
    while (c.hasCause()) {
      c = c.getCause();
      sb.append(": ").append(c.getMessage());
    }
    if (f.hasApplicationFailureInfo() && !f.getApplicationFailureInfo().getType().isEmpty()) {
      sb.append(" [").append(f.getApplicationFailureInfo().getType()).append(']');
    }
    return sb.toString();
  }

  static JsonNode first(Payloads payloads) {
    if (payloads == null || payloads.getPayloadsCount() == 0) {
      return null;
    }
    Payload p = payloads.getPayloads(0);
    try {
      return JSON.readTree(p.getData().toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return null;
    }
  }
}
