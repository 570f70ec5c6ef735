package dev.crewchief.cli;

import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseControl;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code approve} and {@code reject}: a decision at a gate, sent as an update. */
abstract class DecideCmd implements Callable<Integer> {
  @ParentCommand CrewChiefCli cli;

  @Parameters(
      index = "0",
      description = "the release id, e.g. release-randopony-promote-prod-2014r1")
  String release;

  @Parameters(index = "1", description = "the gate, e.g. confirm-release")
  String gate;

  @Option(
      names = "--as",
      required = true,
      description = "who decides (must hold a role the gate allows)")
  String approver;

  @Option(
      names = {"-m", "--comment"},
      description = "why",
      defaultValue = "")
  String comment;

  abstract GateDecision.Decision decision();

  @Override
  public Integer call() {
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      WorkflowExecutionInfo info = Releases.describe(s.stubs(), s.namespace(), release);
      if (!Releases.running(info)) {
        throw new Releases.Refused(
            "release "
                + release
                + " is not running ("
                + Releases.statusName(info.getStatus())
                + ")");
      }
      ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, release);
      GateDecision d = GateDecision.now(gate, decision(), approver, comment, Instant.now());
      try {
        GateView v = stub.decideGate(d);
        cli.out.println(
            "accepted: gate "
                + v.name()
                + " "
                + v.status()
                + " by "
                + v.decidedBy()
                + " at "
                + v.decidedAt());
        return 0;
      } catch (WorkflowUpdateException e) {
        Throwable c = e.getCause();
        String msg =
            c instanceof ApplicationFailure af
                ? af.getOriginalMessage()
                : String.valueOf(c == null ? e.getMessage() : c.getMessage());
        throw new Releases.Refused("refused: " + msg);
      }
    }
  }
}
