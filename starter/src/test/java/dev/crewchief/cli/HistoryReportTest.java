package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.temporal.common.WorkflowExecutionHistory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The report built from a history recorded on the real Temporal server (a promotion whose gate was
 * approved by signal from the Web UI after a refused one).
 */
class HistoryReportTest {
  private static final Pattern RECT =
      Pattern.compile(
          "<rect class=\"([a-z-]+)\" x=\"([0-9.]+)\" y=\"[0-9]+\" width=\"([0-9.]+)\""
              + " height=\"[0-9]+\" data-start-ms=\"([0-9]+)\" data-end-ms=\"([0-9]+)\">");

  static HistoryReport recorded() throws Exception {
    Path file = Path.of("src/test/resources/promote-approved-by-signal.json");
    WorkflowExecutionHistory h = WorkflowExecutionHistory.fromJson(Files.readString(file));
    return new HistoryReport("release-randopony-promote-sandbox-2015r1", h.getEvents());
  }

  @Test
  void markdownListsStepsGateDecisionAndTheRefusedRequest() throws Exception {
    String md = recorded().markdown();
    assertTrue(md.contains("Outcome: COMPLETED"), md);
    assertTrue(md.contains("| confirm-release | APPROVED | alice |"), md);
    assertTrue(md.contains("| signal |"), md);
    assertTrue(md.contains("\"approver\":\"mallory\""), "the refused signal is on record");
    // Each step says what it did, from its result in the history.
    assertTrue(md.contains("| done: on ccsandbox@127.0.0.1:"), md);
    assertTrue(
        recorded().steps.stream().allMatch(s -> !s.outcome().equals("done")),
        "every completed step of this history returned its action");
  }

  @Test
  void htmlTimelineIsDrawnToScale() throws Exception {
    HistoryReport r = recorded();
    String html = r.html();
    long total = Duration.between(r.started, r.ended).toMillis();
    assertTrue(total > 0);
    List<String[]> bars = new ArrayList<>();
    Matcher m = RECT.matcher(html);
    while (m.find()) {
      bars.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)});
    }
    // One bar per step and one per gate.
    assertEquals(r.steps.size() + r.gateOpened.size(), bars.size(), html);
    for (String[] b : bars) {
      long start = Long.parseLong(b[3]);
      long end = Long.parseLong(b[4]);
      assertTrue(0 <= start && start <= end && end <= total, String.join(" ", b));
      double x = Double.parseDouble(b[1]);
      double width = Double.parseDouble(b[2]);
      assertEquals(330 + 760.0 * start / total, x, 0.1, "x of " + String.join(" ", b));
      assertEquals(Math.max(2, 760.0 * (end - start) / total), width, 0.1, String.join(" ", b));
    }
    // The gate's bar runs from its opening to alice's decision, recorded in the history.
    String[] gate = bars.stream().filter(b -> b[0].startsWith("gate-")).findFirst().orElseThrow();
    assertEquals("gate-approved", gate[0]);
    HistoryReport.GateRow row = r.gates.get(0);
    assertEquals(Duration.between(r.started, row.decidedAt()).toMillis(), Long.parseLong(gate[4]));
    assertEquals(
        Duration.between(r.started, r.gateOpened.get("confirm-release")).toMillis(),
        Long.parseLong(gate[3]));
  }

  @Test
  void htmlEscapesWhatPeopleTyped() {
    assertEquals(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;",
        HistoryReport.esc("<script>alert('x')</script> & \"q\""));
    assertFalse(HistoryReport.esc("<b>").contains("<"));
  }
}
