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
      String gate,
      String decision,
      String by,
      String when,
      String via,
      String comment,
      Instant decidedAt) {}

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
  final List<String> notes = new ArrayList<>();
  final Map<String, Instant> gateOpened = new LinkedHashMap<>();

  /** Each switch that measured its downtime: the step, and what its probes saw. */
  final List<String> downtimes = new ArrayList<>();

  /** Refused decision requests, as the release recorded them in its memo. */
  final List<String> refused = new ArrayList<>();

  /** The release's own last word on itself (its final progress), when the history has it. */
  JsonNode finalProgress;

  Instant lastEvent;

  HistoryReport(String workflowId, List<HistoryEvent> events) {
    this.workflowId = workflowId;
    Map<Long, Step> scheduled = new LinkedHashMap<>();
    Map<Long, Boolean> notifies = new LinkedHashMap<>();
    Map<Long, io.temporal.api.common.v1.RetryPolicy> retries = new LinkedHashMap<>();
    Map<Long, String> lastFailures = new LinkedHashMap<>();
    Map<String, String> updateReplies = new LinkedHashMap<>();
    Map<String, Integer> updateLines = new LinkedHashMap<>();
    Map<String, Step> timers = new LinkedHashMap<>();
    Map<Long, Step> children = new LinkedHashMap<>();
    boolean gateOpen = false;
    for (HistoryEvent e : events) {
      Instant at =
          Instant.ofEpochSecond(e.getEventTime().getSeconds(), e.getEventTime().getNanos());
      lastEvent = at;
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
                && "GATE_OPEN".equals(text(input, "kind"))
                && input.hasNonNull("gate")) {
              gateOpened.putIfAbsent(text(input.get("gate"), "name"), at);
              gateOpen = true;
            }
            if (input != null && "GATE_DECIDED".equals(text(input, "kind"))) {
              gateOpen = false;
            }
            if (input != null
                && "GATE_DECIDED".equals(text(input, "kind"))
                && input.hasNonNull("gate")) {
              JsonNode g = input.get("gate");
              gates.add(
                  new GateRow(
                      text(g, "name"),
                      decisionOf(g),
                      text(g, "decidedBy"),
                      time(text(g, "decidedAt")),
                      text(g, "via"),
                      text(g, "comment"),
                      instant(text(g, "decidedAt"))));
            }
          } else {
            String step = input == null ? type : text(input, "step");
            scheduled.put(e.getEventId(), new Step(step, type, at, null, null, 0, "scheduled"));
            if (a.hasRetryPolicy()) {
              retries.put(e.getEventId(), a.getRetryPolicy());
            }
          }
        }
        case EVENT_TYPE_ACTIVITY_TASK_STARTED -> {
          var a = e.getActivityTaskStartedEventAttributes();
          if (a.hasLastFailure()) {
            lastFailures.put(a.getScheduledEventId(), message(a.getLastFailure()));
          }
          scheduled.computeIfPresent(
              a.getScheduledEventId(),
              (k, s) ->
                  new Step(
                      s.step(), s.activity(), s.scheduled(), at, null, a.getAttempt(), "running"));
        }
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> {
          // What the step did, in its own words (every step result starts with its action).
          JsonNode result = first(e.getActivityTaskCompletedEventAttributes().getResult());
          String action = result == null ? null : text(result, "action");
          JsonNode out = result == null ? null : result.get("output");
          String output = out != null && out.isTextual() ? out.asText().strip() : "";
          JsonNode down = result == null ? null : result.get("downtime");
          String downtime = down == null || down.isNull() ? null : downtime(down);
          if (downtime != null) {
            Step sw =
                scheduled.get(e.getActivityTaskCompletedEventAttributes().getScheduledEventId());
            downtimes.add((sw == null ? "switch" : sw.step()) + ": " + downtime);
            output = (output.isEmpty() ? "" : output + "; ") + "measured: " + downtime;
          }
          end(
              scheduled,
              e.getActivityTaskCompletedEventAttributes().getScheduledEventId(),
              at,
              (action == null || action.isBlank() ? "done" : "done: " + abbreviate(action, 600))
                  + (output.isEmpty() ? "" : " -> " + abbreviate(output.replace('\n', ' '), 300)));
        }
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
          updateLines.put(a.getProtocolInstanceId(), requests.size());
          requests.add(
              TIME.format(at)
                  + " update "
                  + req.getInput().getName()
                  + " from "
                  + req.getMeta().getIdentity()
                  + " (accepted): "
                  + first(req.getInput().getArgs()));
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED -> {
          var a = e.getWorkflowExecutionUpdateCompletedEventAttributes();
          JsonNode reply = a.getOutcome().hasSuccess() ? first(a.getOutcome().getSuccess()) : null;
          Integer line = updateLines.get(a.getMeta().getUpdateId());
          if (line != null && reply != null && reply.has("accepted")) {
            requests.set(
                line,
                requests.get(line)
                    + (reply.path("accepted").asBoolean()
                        ? " -> taken"
                        : " -> refused: " + reply.path("reason").asText()));
          }
        }
        case EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED -> {
          var memo = e.getWorkflowPropertiesModifiedEventAttributes().getUpsertedMemo();
          var field = memo.getFieldsMap().get("CrewChiefRefusals");
          if (field != null) {
            refused.clear();
            try {
              JsonNode list = JSON.readTree(field.getData().toString(StandardCharsets.UTF_8));
              list.forEach(r -> refused.add(r.asText()));
            } catch (IOException ignored) {
              // Not ours to read: the memo field is written by the release only.
            }
          }
        }
        case EVENT_TYPE_TIMER_STARTED -> {
          var t = e.getTimerStartedEventAttributes();
          long secs = t.getStartToFireTimeout().getSeconds();
          // Long waits are steps of their own (the notice, the window); gates' short reminder
          // timers are the gates' business.
          if (secs >= 60 && !gateOpen) {
            timers.put(
                t.getTimerId(),
                new Step(
                    "wait " + took(Duration.ofSeconds(secs)), "timer", at, at, null, 0, "waiting"));
          }
        }
        case EVENT_TYPE_TIMER_FIRED ->
            endTimer(timers, e.getTimerFiredEventAttributes().getTimerId(), at, "done: waited");
        case EVENT_TYPE_TIMER_CANCELED ->
            endTimer(
                timers,
                e.getTimerCanceledEventAttributes().getTimerId(),
                at,
                "ended early (what it waited for happened)");
        case EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED -> {
          var c = e.getStartChildWorkflowExecutionInitiatedEventAttributes();
          boolean lane = c.getWorkflowType().getName().equals("CrewChiefLaneHold");
          children.put(
              e.getEventId(),
              new Step(
                  lane ? "hold " + c.getWorkflowId() : "child release " + c.getWorkflowId(),
                  lane ? "lane" : "child workflow " + c.getWorkflowType().getName(),
                  at,
                  at,
                  null,
                  0,
                  "running"));
        }
        case EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED ->
            endChild(
                children,
                e.getStartChildWorkflowExecutionFailedEventAttributes().getInitiatedEventId(),
                at,
                "not started: "
                    + e.getStartChildWorkflowExecutionFailedEventAttributes().getWorkflowId()
                    + " is running (held by another release)");
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED ->
            endChild(
                children,
                e.getChildWorkflowExecutionCompletedEventAttributes().getInitiatedEventId(),
                at,
                "done");
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED ->
            endChild(
                children,
                e.getChildWorkflowExecutionFailedEventAttributes().getInitiatedEventId(),
                at,
                "failed: "
                    + message(e.getChildWorkflowExecutionFailedEventAttributes().getFailure()));
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED ->
            endChild(
                children,
                e.getChildWorkflowExecutionCanceledEventAttributes().getInitiatedEventId(),
                at,
                "cancelled");
        case EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED ->
            endChild(
                children,
                e.getChildWorkflowExecutionTerminatedEventAttributes().getInitiatedEventId(),
                at,
                "terminated");
        case EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED -> {
          outcome = "COMPLETED";
          ended = at;
          JsonNode result = first(e.getWorkflowExecutionCompletedEventAttributes().getResult());
          failure = result == null ? null : text(result, "summary");
          notes(result == null ? null : result.path("progress").path("notes"));
          finalProgress = result == null ? null : result.get("progress");
        }
        case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> {
          outcome = "FAILED";
          ended = at;
          Failure f = e.getWorkflowExecutionFailedEventAttributes().getFailure();
          failure = message(f);
          // A failed release carries its notes (what was left for a person) as the details.
          if (f.hasApplicationFailureInfo()) {
            notes(first(f.getApplicationFailureInfo().getDetails()));
            finalProgress = second(f.getApplicationFailureInfo().getDetails());
          }
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
    for (Map.Entry<Long, Step> e : scheduled.entrySet()) {
      steps.add(withAttempts(e.getValue(), retries.get(e.getKey()), lastFailures.get(e.getKey())));
    }
    steps.addAll(timers.values());
    steps.addAll(children.values());
    steps.sort((a, b) -> a.scheduled().compareTo(b.scheduled()));
  }

  /**
   * A retried step says so: the history keeps the first scheduling and the last attempt's start;
   * the waits between attempts follow the step's retry policy, and the failure before the last
   * attempt is recorded with it.
   */
  private static Step withAttempts(
      Step s, io.temporal.api.common.v1.RetryPolicy policy, String lastFailure) {
    if (s.attempts() <= 1) {
      return s;
    }
    StringBuilder how = new StringBuilder();
    how.append(" (")
        .append(s.attempts())
        .append(" attempts: first scheduled ")
        .append(fmt(s.scheduled()))
        .append(", the last started ")
        .append(fmt(s.started()));
    if (policy != null && policy.hasInitialInterval()) {
      how.append("; waits between attempts by its retry policy: ");
      double wait =
          policy.getInitialInterval().getSeconds() + policy.getInitialInterval().getNanos() / 1e9;
      double coefficient = policy.getBackoffCoefficient() <= 0 ? 2 : policy.getBackoffCoefficient();
      double max =
          policy.hasMaximumInterval() ? policy.getMaximumInterval().getSeconds() : Double.MAX_VALUE;
      List<String> waits = new ArrayList<>();
      for (int i = 1; i < s.attempts() && i <= 10; i++) {
        waits.add(took(Duration.ofMillis((long) (Math.min(wait, max) * 1000))));
        wait *= coefficient;
      }
      how.append(String.join(", ", waits)).append(s.attempts() > 11 ? ", ..." : "");
    }
    if (lastFailure != null) {
      how.append("; attempt ").append(s.attempts() - 1).append(" failed: ").append(lastFailure);
    }
    how.append(')');
    return new Step(
        s.step(),
        s.activity(),
        s.scheduled(),
        s.started(),
        s.ended(),
        s.attempts(),
        s.outcome() + how);
  }

  private static void endTimer(Map<String, Step> timers, String id, Instant at, String outcome) {
    timers.computeIfPresent(
        id, (k, s) -> new Step(s.step(), s.activity(), s.scheduled(), s.started(), at, 0, outcome));
  }

  private static void endChild(Map<Long, Step> children, long id, Instant at, String outcome) {
    children.computeIfPresent(
        id,
        (k, s) ->
            new Step(
                s.step(),
                s.activity(),
                s.scheduled(),
                s.started(),
                at,
                0,
                s.activity().equals("lane") && outcome.equals("done") ? "done: let go" : outcome));
  }

  private static String downtime(JsonNode d) {
    int probes = d.path("probes").asInt();
    int down = d.path("down").asInt();
    boolean settled = d.path("settled").asBoolean(true);
    String tail = settled ? "" : ", not settled when the watch ended";
    if (down == 0) {
      return "no downtime (" + probes + " probes" + tail + ")";
    }
    return "down "
        + d.path("millis").asLong()
        + " ms ("
        + down
        + " of "
        + probes
        + " probes down, from "
        + time(text(d, "firstDown"))
        + " to "
        + time(text(d, "lastDown"))
        + tail
        + ")";
  }

  static JsonNode second(Payloads payloads) {
    if (payloads == null || payloads.getPayloadsCount() < 2) {
      return null;
    }
    try {
      return JSON.readTree(payloads.getPayloads(1).getData().toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return null;
    }
  }

  private void notes(JsonNode list) {
    if (list != null && list.isArray()) {
      list.forEach(n -> notes.add(n.asText()));
    }
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
    String state = finalProgress == null ? null : text(finalProgress, "status");
    if (state != null && !state.equals("SUCCEEDED") && !state.equals(outcome)) {
      md.append(" (").append(state).append(")");
    }
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
    List<String> rollback = rollback();
    if (!rollback.isEmpty()) {
      md.append("\n## Rollback\n\n");
      for (String u : rollback) {
        md.append("- ").append(u.replace('\n', ' ')).append('\n');
      }
    }
    List<String> skipped = skipped();
    if (!skipped.isEmpty()) {
      md.append("\n## Skipped steps\n\n");
      for (String sk : skipped) {
        md.append("- ").append(sk.replace('\n', ' ')).append('\n');
      }
    }
    if (!downtimes.isEmpty()) {
      md.append("\n## Downtime measured at the switches\n\n");
      for (String d : downtimes) {
        md.append("- ").append(d).append('\n');
      }
    }
    if (!notes.isEmpty()) {
      md.append("\n## Notes\n\n");
      for (String note : notes) {
        md.append("- ").append(note.replace('\n', ' ')).append('\n');
      }
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
    if (!refused.isEmpty()) {
      md.append("\n## Decision requests refused\n\n");
      for (String r : refused) {
        md.append("- ").append(r.replace('\n', ' ')).append('\n');
      }
    }
    return md.toString();
  }

  /**
   * The undo steps the release ran and how each went (undone, or failed and left by hand), from its
   * own final record: the history shows their activities, the record which were undos.
   */
  List<String> rollback() {
    List<String> out = new ArrayList<>();
    if (finalProgress != null && finalProgress.path("steps").isArray()) {
      for (JsonNode st : finalProgress.get("steps")) {
        String name = text(st, "name");
        if (name != null && name.startsWith("undo: ")) {
          String status = text(st, "status");
          String detail = text(st, "detail");
          out.add(
              name.substring("undo: ".length())
                  + ": "
                  + ("COMPENSATED".equals(status) ? "undone" : status)
                  + (detail == null ? "" : " (" + detail + ")"));
        }
      }
    }
    return out;
  }

  /** The steps the release left out and why, from its own final record. */
  List<String> skipped() {
    List<String> out = new ArrayList<>();
    if (finalProgress != null && finalProgress.path("steps").isArray()) {
      for (JsonNode st : finalProgress.get("steps")) {
        if ("SKIPPED".equals(text(st, "status"))) {
          out.add(text(st, "name") + ": " + text(st, "detail"));
        }
      }
    }
    return out;
  }

  static String took(Duration d) {
    if (d.toMillis() < 1000) {
      return d.toMillis() + " ms";
    }
    if (d.toSeconds() < 120) {
      return d.toSeconds() + " s";
    }
    if (d.toMinutes() < 120) {
      return d.toMinutes() + " min";
    }
    return d.toHours() + " h " + d.toMinutesPart() + " min";
  }

  private static String cell(String s) {
    return s == null ? "" : s.replace("|", "\\|").replace('\n', ' ');
  }

  private static String fmt(Instant i) {
    return i == null ? "" : TIME.format(i);
  }

  private static Instant instant(String iso) {
    try {
      return iso == null ? null : Instant.parse(iso);
    } catch (RuntimeException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- HTML

  private static final int LABEL_W = 330;
  private static final int CHART_W = 760;
  private static final int ROW_H = 22;

  /**
   * A self-contained HTML page: the summary, a timeline drawn to scale (every step and every gate
   * as a bar from its start to its end, on one time axis from the release's start to its end), then
   * the same tables as the Markdown report.
   */
  String html() {
    Instant t0 = started == null ? Instant.EPOCH : started;
    Instant t1 = ended != null ? ended : lastEvent == null ? t0 : lastEvent;
    long total = Math.max(1, Duration.between(t0, t1).toMillis());
    List<String[]> bars = new ArrayList<>(); // label, class, startMs, endMs, tooltip
    for (Step st : steps) {
      Instant a = st.started() != null ? st.started() : st.scheduled();
      Instant b = st.ended() != null ? st.ended() : t1;
      bars.add(
          new String[] {
            st.step(),
            outcomeClass(st.outcome()),
            String.valueOf(Duration.between(t0, a).toMillis()),
            String.valueOf(Duration.between(t0, b).toMillis()),
            st.step() + ": " + st.outcome() + " (" + took(Duration.between(a, b)) + ")"
          });
    }
    for (Map.Entry<String, Instant> open : gateOpened.entrySet()) {
      GateRow row =
          gates.stream().filter(g -> g.gate().equals(open.getKey())).findFirst().orElse(null);
      Instant b = row == null || row.decidedAt() == null ? t1 : row.decidedAt();
      String what =
          row == null
              ? "waiting"
              : row.decision() + (row.by() == null ? "" : " by " + row.by() + " via " + row.via());
      bars.add(
          new String[] {
            "gate: " + open.getKey(),
            row == null
                ? "gate-waiting"
                : "APPROVED".equals(row.decision()) ? "gate-approved" : "gate-stopped",
            String.valueOf(Duration.between(t0, open.getValue()).toMillis()),
            String.valueOf(Duration.between(t0, b).toMillis()),
            "gate "
                + open.getKey()
                + ": "
                + what
                + " ("
                + took(Duration.between(open.getValue(), b))
                + ")"
          });
    }
    bars.sort((x, y) -> Long.compare(Long.parseLong(x[2]), Long.parseLong(y[2])));

    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Release ")
        .append(esc(workflowId))
        .append("</title>\n<style>\n")
        .append(
            "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0}"
                + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}"
                + "th{background:#f3f3f3}.timeline text{font-size:12px}"
                + ".done{fill:#3a8f3a}.failed{fill:#c0392b}.running{fill:#2e6fd8}"
                + ".cancelled{fill:#999}.gate-approved{fill:#e0a100}.gate-stopped{fill:#8e44ad}"
                + ".gate-waiting{fill:#f5d76e}.axis{stroke:#999}.grid{stroke:#eee}\n")
        .append("</style></head><body>\n");
    h.append("<h1>Release ").append(esc(workflowId)).append("</h1>\n<ul>\n");
    h.append("<li>Workflow: ")
        .append(esc(workflowType))
        .append(", run ")
        .append(esc(runId))
        .append("</li>\n");
    if (context != null) {
      h.append("<li>Runbook: ")
          .append(esc(text(context, "runbook")))
          .append(", environment: ")
          .append(esc(text(context, "environment")))
          .append(", version: ")
          .append(esc(text(context, "version")))
          .append(context.path("dryRun").asBoolean() ? ", <b>dry run</b> (no side effects)" : "")
          .append("</li>\n");
    }
    h.append("<li>Started: ")
        .append(fmt(started))
        .append(" by ")
        .append(esc(startedBy))
        .append("</li>\n<li>Ended: ")
        .append(ended == null ? "(still running)" : fmt(ended))
        .append("</li>\n<li>Outcome: <b>")
        .append(outcome)
        .append(
            finalProgress == null
                    || "SUCCEEDED".equals(text(finalProgress, "status"))
                    || outcome.equals(text(finalProgress, "status"))
                ? ""
                : " (" + esc(text(finalProgress, "status")) + ")")
        .append("</b>")
        .append(failure == null || failure.isBlank() ? "" : " - " + esc(failure))
        .append("</li>\n</ul>\n");

    int height = 30 + bars.size() * ROW_H + 10;
    h.append("<h2>Timeline</h2>\n<svg class=\"timeline\" width=\"")
        .append(LABEL_W + CHART_W + 20)
        .append("\" height=\"")
        .append(height)
        .append("\" xmlns=\"http://www.w3.org/2000/svg\">\n");
    for (int i = 0; i <= 4; i++) {
      long ms = total * i / 4;
      int x = LABEL_W + (int) (CHART_W * (double) i / 4);
      h.append("<line class=\"grid\" x1=\"")
          .append(x)
          .append("\" y1=\"20\" x2=\"")
          .append(x)
          .append("\" y2=\"")
          .append(height - 10)
          .append("\"/><text x=\"")
          .append(x)
          .append("\" y=\"14\" text-anchor=\"middle\">+")
          .append(took(Duration.ofMillis(ms)))
          .append("</text>\n");
    }
    int y = 30;
    for (String[] b : bars) {
      long a = Long.parseLong(b[2]);
      long e = Long.parseLong(b[3]);
      double x = LABEL_W + CHART_W * (double) a / total;
      double w = Math.max(2, CHART_W * (double) (e - a) / total);
      h.append("<text x=\"")
          .append(LABEL_W - 8)
          .append("\" y=\"")
          .append(y + 14)
          .append("\" text-anchor=\"end\">")
          .append(esc(abbreviate(b[0], 48)))
          .append("</text><rect class=\"")
          .append(b[1])
          .append("\" x=\"")
          .append(String.format(java.util.Locale.ROOT, "%.1f", x))
          .append("\" y=\"")
          .append(y + 3)
          .append("\" width=\"")
          .append(String.format(java.util.Locale.ROOT, "%.1f", w))
          .append("\" height=\"")
          .append(ROW_H - 6)
          .append("\" data-start-ms=\"")
          .append(a)
          .append("\" data-end-ms=\"")
          .append(e)
          .append("\"><title>")
          .append(esc(b[4]))
          .append("</title></rect>\n");
      y += ROW_H;
    }
    h.append("<line class=\"axis\" x1=\"")
        .append(LABEL_W)
        .append("\" y1=\"20\" x2=\"")
        .append(LABEL_W)
        .append("\" y2=\"")
        .append(height - 10)
        .append("\"/>\n</svg>\n");
    h.append("<p>Scale: ")
        .append(CHART_W)
        .append(" px = ")
        .append(took(Duration.ofMillis(total)))
        .append(" from start to ")
        .append(ended == null ? "the last event" : "end")
        .append(". Steps in green (done), red (failed), blue (running), grey (cancelled);")
        .append(
            " gates in amber (approved), purple (rejected or timed out), yellow (waiting).</p>\n");

    h.append("<h2>Steps</h2>\n<table><tr><th>#</th><th>Step</th><th>Activity</th><th>Started</th>")
        .append("<th>Ended</th><th>Took</th><th>Attempts</th><th>Outcome</th></tr>\n");
    int n = 1;
    for (Step st : steps) {
      h.append("<tr><td>")
          .append(n++)
          .append("</td><td>")
          .append(esc(st.step()))
          .append("</td><td>")
          .append(esc(st.activity()))
          .append("</td><td>")
          .append(fmt(st.started()))
          .append("</td><td>")
          .append(fmt(st.ended()))
          .append("</td><td>")
          .append(
              st.started() != null && st.ended() != null
                  ? took(Duration.between(st.started(), st.ended()))
                  : "")
          .append("</td><td>")
          .append(st.attempts() == 0 ? "" : String.valueOf(st.attempts()))
          .append("</td><td>")
          .append(esc(st.outcome()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n");
    section(h, "Rollback", rollback());
    section(h, "Skipped steps", skipped());
    section(h, "Downtime measured at the switches", downtimes);
    if (!notes.isEmpty()) {
      h.append("<h2>Notes</h2>\n<ul>\n");
      for (String note : notes) {
        h.append("<li>").append(esc(note)).append("</li>\n");
      }
      h.append("</ul>\n");
    }
    h.append("<h2>Gate decisions</h2>\n");
    if (gates.isEmpty()) {
      h.append("<p>(none)</p>\n");
    } else {
      h.append("<table><tr><th>Gate</th><th>Decision</th><th>By</th><th>When</th><th>Via</th>")
          .append("<th>Comment</th></tr>\n");
      for (GateRow g : gates) {
        h.append("<tr><td>")
            .append(esc(g.gate()))
            .append("</td><td>")
            .append(esc(g.decision()))
            .append("</td><td>")
            .append(esc(g.by() == null ? "(nobody)" : g.by()))
            .append("</td><td>")
            .append(esc(g.when()))
            .append("</td><td>")
            .append(esc(g.via()))
            .append("</td><td>")
            .append(esc(g.comment()))
            .append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    h.append("<h2>Decision requests received</h2>\n");
    if (requests.isEmpty()) {
      h.append("<p>(none)</p>\n");
    } else {
      h.append("<ul>\n");
      for (String r : requests) {
        h.append("<li>").append(esc(r)).append("</li>\n");
      }
      h.append("</ul>\n");
    }
    section(h, "Decision requests refused", refused);
    return h.append("</body></html>\n").toString();
  }

  private static void section(StringBuilder h, String title, List<String> items) {
    if (items.isEmpty()) {
      return;
    }
    h.append("<h2>").append(esc(title)).append("</h2>\n<ul>\n");
    for (String i : items) {
      h.append("<li>").append(esc(i)).append("</li>\n");
    }
    h.append("</ul>\n");
  }

  private static String outcomeClass(String outcome) {
    if (outcome.startsWith("done")) {
      return "done";
    }
    if (outcome.startsWith("failed") || outcome.startsWith("timed out")) {
      return "failed";
    }
    if (outcome.startsWith("cancelled")) {
      return "cancelled";
    }
    return "running";
  }

  private static String abbreviate(String s, int n) {
    return s.length() > n ? s.substring(0, n - 3) + "..." : s;
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
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

  static String textOf(JsonNode n, String field) {
    return text(n, field);
  }

  /**
   * A gate's outcome; at a gate that offers choices, with the option taken and, when it is not the
   * one proposed, the proposal overruled.
   */
  private static String decisionOf(JsonNode g) {
    String status = text(g, "status");
    String choice = text(g, "choice");
    if (choice == null) {
      return status;
    }
    String proposed = text(g, "proposed");
    return status
        + ": "
        + choice
        + (proposed == null || proposed.equals(choice)
            ? " (proposed)"
            : " (instead of the proposed " + proposed + ")");
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  static String message(Failure f) {
    StringBuilder sb = new StringBuilder(f.getMessage());
    Failure c = f;
    while (c.hasCause()) {
      c = c.getCause();
      // A cause that says what its failure said already adds nothing.
      if (!f.getMessage().contains(c.getMessage())) {
        sb.append(": ").append(c.getMessage());
      }
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
