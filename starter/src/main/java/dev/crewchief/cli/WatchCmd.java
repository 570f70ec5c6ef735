package dev.crewchief.cli;

import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.StepState;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = "Follow a release step by step until it ends.")
final class WatchCmd implements Callable<Integer> {
  @ParentCommand CrewChiefCli cli;

  @Parameters(index = "0", description = "the release id")
  String release;

  @Override
  public Integer call() {
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      Releases.describe(s.stubs(), s.namespace(), release);
      return follow(client, s, release, cli.out);
    }
  }

  /** Prints each step as it changes; returns 0 when the release succeeded, 1 otherwise. */
  static int follow(WorkflowClient client, Session s, String id, PrintWriter out) {
    List<String> printed = new ArrayList<>();
    String lastGate = "";
    while (true) {
      WorkflowExecutionInfo info = Releases.describe(s.stubs(), s.namespace(), id);
      try {
        ReleaseProgress p = Releases.progress(client, id);
        for (int i = 0; i < p.steps().size(); i++) {
          StepState st = p.steps().get(i);
          String line =
              Instant.now().toString().substring(11, 19)
                  + " "
                  + StatusCmd.pad(st.status().name(), 11)
                  + " "
                  + st.name();
          String key = i + ":" + st.status();
          if (!printed.contains(key)) {
            printed.add(key);
            out.println(
                line
                    + (st.detail() == null || st.status().name().equals("RUNNING")
                        ? ""
                        : "  (" + StatusCmd.abbreviate(st.detail()) + ")"));
          }
        }
        for (GateView g : p.gates()) {
          String gk = g.name() + g.status() + g.refusals().size();
          if (g.status() == GateStatus.WAITING && !lastGate.equals(gk)) {
            lastGate = gk;
            out.println(
                "         waiting at gate "
                    + g.name()
                    + " for "
                    + String.join("/", g.allowed())
                    + ": crewchief approve "
                    + id
                    + " "
                    + g.name()
                    + " --as NAME");
            for (String r : g.refusals()) {
              out.println("           " + r);
            }
          }
        }
        out.flush();
      } catch (RuntimeException e) {
        // No worker answered the query (yet): keep following the execution's status.
      }
      if (!Releases.running(info)) {
        String st = Releases.statusName(info.getStatus());
        out.println("release " + id + " " + st);
        out.flush();
        return st.equals("COMPLETED") ? 0 : 1;
      }
      try {
        Thread.sleep(700);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      }
    }
  }
}
