package dev.crewchief.cli;

import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.StepState;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show where a release is.")
final class StatusCmd implements Callable<Integer> {
  @ParentCommand CrewChiefCli cli;

  @Parameters(index = "0", description = "the release id")
  String release;

  @Override
  public Integer call() {
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      WorkflowExecutionInfo info = Releases.describe(s.stubs(), s.namespace(), release);
      cli.out.println(release + ": " + Releases.statusName(info.getStatus()));
      try {
        printProgress(cli.out, Releases.progress(client, release));
      } catch (RuntimeException e) {
        cli.out.println(
            "(no live progress: "
                + e.getMessage()
                + "; `crewchief report "
                + release
                + "` reads the history)");
      }
      return 0;
    }
  }

  static void printProgress(PrintWriter out, ReleaseProgress p) {
    out.println(
        "runbook "
            + p.runbook()
            + ", environment "
            + p.environment()
            + ", version "
            + p.version()
            + (p.dryRun() ? ", DRY RUN" : "")
            + ": "
            + p.status()
            + ", current step: "
            + p.currentStep());
    for (StepState st : p.steps()) {
      out.println(
          "  "
              + pad(st.status().name(), 11)
              + " "
              + st.name()
              + (st.detail() == null ? "" : "  (" + abbreviate(st.detail()) + ")"));
    }
    for (GateView g : p.gates()) {
      out.println(
          "  gate "
              + g.name()
              + ": "
              + g.status()
              + (g.decidedBy() == null
                  ? " (allowed: " + String.join(", ", g.allowed()) + ")"
                  : " by " + g.decidedBy() + " via " + g.via()));
      for (String r : g.refusals()) {
        out.println("    " + r);
      }
    }
    for (String n : p.notes()) {
      out.println("  note: " + n);
    }
    out.flush();
  }

  static String pad(String s, int n) {
    return s.length() >= n ? s : s + " ".repeat(n - s.length());
  }

  static String abbreviate(String s) {
    String t = s.replace('\n', ' ');
    return t.length() > 160 ? t.substring(0, 160) + "..." : t;
  }
}
