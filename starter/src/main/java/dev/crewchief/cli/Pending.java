package dev.crewchief.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import io.temporal.api.enums.v1.PendingActivityState;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the steps that are running right now are doing, as the server sees them: their progress (the
 * last heartbeat's details: done/total and a message, or a plain message) and, for a step waiting
 * on retries, which attempt comes next, when, and why the last one failed.
 */
final class Pending {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One running step: its activity, and a line for people. */
  record Step(String activity, String line, Progress progress) {}

  /** done/total where a step reports them (total 0: unknown), with its message. */
  record Progress(long done, long total, String unit, String message) {}

  private Pending() {}

  static List<Step> of(DescribeWorkflowExecutionResponse d, Instant now) {
    List<Step> out = new ArrayList<>();
    for (PendingActivityInfo a : d.getPendingActivitiesList()) {
      String type = a.getActivityType().getName();
      if (type.equals("Notify.notify")) {
        continue;
      }
      Progress p = progress(a);
      StringBuilder line = new StringBuilder();
      boolean waitingToRetry =
          a.getState() == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
              && a.getAttempt() > 1;
      if (waitingToRetry) {
        line.append("attempt ").append(a.getAttempt());
        if (a.getMaximumAttempts() > 0) {
          line.append(" of ").append(a.getMaximumAttempts());
        }
        if (a.hasNextAttemptScheduleTime()) {
          Duration in = Duration.between(now, instant(a.getNextAttemptScheduleTime()));
          line.append(", next in ").append(in.isNegative() ? "0 s" : took(in));
        }
        if (a.hasLastFailure()) {
          line.append(": ").append(firstLine(a.getLastFailure().getMessage()));
        }
      } else {
        if (a.getAttempt() > 1) {
          line.append("attempt ").append(a.getAttempt()).append(", ");
        }
        line.append(
            a.getState() == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                ? "running"
                : "scheduled, no worker has taken it yet");
        if (a.hasLastStartedTime()
            && a.getState() == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED) {
          line.append(" for ").append(took(Duration.between(instant(a.getLastStartedTime()), now)));
        }
        if (p != null) {
          line.append(": ").append(describe(p));
        }
        if (a.getAttempt() > 1 && a.hasLastFailure()) {
          line.append(" (the last attempt failed: ")
              .append(firstLine(a.getLastFailure().getMessage()))
              .append(')');
        }
      }
      out.add(new Step(type, line.toString(), p));
    }
    return out;
  }

  static String describe(Progress p) {
    if (p.total() <= 0) {
      return p.done() > 0 ? p.done() + " " + p.unit() + ": " + p.message() : p.message();
    }
    long pct = Math.min(100, p.done() * 100 / p.total());
    return pct + "% (" + p.done() + " of " + p.total() + " " + p.unit() + ") " + p.message();
  }

  /** A terminal's progress bar: [#########...........] 45% message. */
  static String bar(Progress p, int width) {
    if (p.total() <= 0) {
      return describe(p);
    }
    int filled = (int) Math.min(width, p.done() * width / p.total());
    return "["
        + "#".repeat(filled)
        + ".".repeat(width - filled)
        + "] "
        + Math.min(100, p.done() * 100 / p.total())
        + "% "
        + p.message();
  }

  private static Progress progress(PendingActivityInfo a) {
    if (!a.hasHeartbeatDetails() || a.getHeartbeatDetails().getPayloadsCount() == 0) {
      return null;
    }
    try {
      JsonNode n =
          JSON.readTree(
              a.getHeartbeatDetails().getPayloads(0).getData().toString(StandardCharsets.UTF_8));
      if (n.isTextual()) {
        return new Progress(0, 0, "", firstLine(n.asText()));
      }
      if (n.isObject() && n.has("done") && n.has("total")) {
        return new Progress(
            n.path("done").asLong(),
            n.path("total").asLong(),
            n.path("unit").asText(""),
            firstLine(n.path("message").asText("")));
      }
      return null;
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static String firstLine(String s) {
    String t = s == null ? "" : s.strip();
    int nl = t.indexOf('\n');
    String first = nl < 0 ? t : t.substring(0, nl);
    return first.length() > 200 ? first.substring(0, 197) + "..." : first;
  }

  static String took(Duration d) {
    return HistoryReport.took(d);
  }
}
