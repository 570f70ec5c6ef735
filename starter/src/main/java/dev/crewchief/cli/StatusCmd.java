package dev.crewchief.cli;

import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.StepState;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code crewchief status RELEASE}: where a release is, what its running step is doing (progress,
 * or the retry it waits for and why), who may pass the gate it waits at and how. Exit 0 while it
 * runs and when it completed, 1 when it failed, was cancelled, terminated or timed out.
 */
@Command(
    name = "status",
    description = {
      "Show where a release is: its steps, what the running one is doing, its gates and notes.",
      "Exit code 0 while it runs or when it completed, 1 when it failed, was cancelled,"
          + " terminated or timed out."
    })
final class StatusCmd implements Callable<Integer> {
  @ParentCommand CrewChiefCli cli;

  @picocli.CommandLine.Mixin CrewChiefCli.HelpOption help;

  /** How long a worker has to answer: a person is waiting. */
  static final int QUERY_SECONDS = 5;

  @Parameters(index = "0", description = "the release id")
  String release;

  @Override
  public Integer call() {
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      DescribeWorkflowExecutionResponse d =
          Releases.describeFully(s.stubs(), s.namespace(), release);
      String execution = Releases.statusName(d.getWorkflowExecutionInfo().getStatus());
      cli.out.println(release + ": " + execution);
      List<Pending.Step> pending = Pending.of(d, Instant.now());
      // The steps and gates are the workflow's own state, which only a worker can answer for;
      // the query is bounded, so a release without a worker still gets its answer at once.
      // Where no worker has polled the release's task queue for two minutes, none will answer:
      // the query is not even tried.
      String queue = d.getWorkflowExecutionInfo().getTaskQueue();
      boolean polls = workerPolls(s, queue);
      ReleaseProgress p = polls ? Releases.progressWithin(client, release, QUERY_SECONDS) : null;
      if (p == null) {
        cli.out.println(noAnswer(d, queue, polls));
        for (Pending.Step st : pending) {
          cli.out.println("  now: " + st.activity() + ": " + st.line());
        }
      } else {
        printProgress(cli.out, p, pending);
      }
      cli.out.flush();
      return execution.equals("RUNNING") || execution.equals("COMPLETED") ? 0 : 1;
    }
  }

  /**
   * What it means that no worker answered: the release's steps and gates live in the workflow,
   * which only a worker can run; the server still knows the pending steps and the history.
   */
  private String noAnswer(DescribeWorkflowExecutionResponse d, String queue, boolean polls) {
    String why =
        polls
            ? "no worker answered within "
                + QUERY_SECONDS
                + " s (one polls task queue '"
                + queue
                + "', but is busy or has just gone)"
            : "no worker to answer: none has polled task queue '"
                + queue
                + "' in the last two minutes";
    boolean running = Releases.running(d.getWorkflowExecutionInfo());
    return why
        + ". "
        + (running
            ? "The release waits, losing nothing, until a worker runs"
                + " (deploy/bin/crewchief-worker); its steps and gates show then. "
            : "")
        + "`crewchief report "
        + release
        + "` reads its history now.";
  }

  private static boolean workerPolls(Session s, String queue) {
    if (s.embedded() || queue.isEmpty()) {
      return true;
    }
    try {
      return Releases.workerPolls(s.stubs(), s.namespace(), queue);
    } catch (RuntimeException e) {
      return true; // cannot tell: the bounded query will
    }
  }

  static void printProgress(PrintWriter out, ReleaseProgress p) {
    printProgress(out, p, List.of());
  }

  static void printProgress(PrintWriter out, ReleaseProgress p, List<Pending.Step> pending) {
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
    for (Pending.Step st : pending) {
      out.println("  now: " + st.line());
    }
    for (GateView g : p.gates()) {
      List<String> people = g.people() == null ? List.of() : g.people();
      String who =
          String.join("/", g.allowed())
              + (people.isEmpty() ? "" : " (" + String.join(", ", people) + ")")
              + (g.signatureRequired() ? ", signed decisions only" : "");
      out.println(
          "  gate "
              + g.name()
              + ": "
              + g.status()
              + (g.decidedBy() == null
                  ? " (allowed: " + who + ")"
                  : " by " + g.decidedBy() + " via " + g.via())
              + (g.choice() == null ? "" : ", chose " + g.choice()));
      boolean choices = g.choices() != null && !g.choices().isEmpty();
      if (g.status() == GateStatus.WAITING) {
        if (choices) {
          // What the gate shows (the findings behind its proposal), as the Web UI shows it.
          for (String line : g.description().split("\n")) {
            out.println("    | " + line);
          }
        }
        out.println(
            "    decide: crewchief approve|reject "
                + p.releaseId()
                + " "
                + g.name()
                + " --as NAME -m \"why\"");
        if (choices) {
          out.println(
              "    proposed: "
                  + g.proposed()
                  + "; another: approve with --choice "
                  + String.join("|", g.choices())
                  + " and the reason in -m");
        }
      }
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
