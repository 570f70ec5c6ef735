package dev.crewchief.cli;

import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "cancel", description = "Cancel a release: it rolls back what it registered.")
final class CancelCmd implements Callable<Integer> {
  @ParentCommand CrewChiefCli cli;

  @picocli.CommandLine.Mixin CrewChiefCli.HelpOption help;

  @Parameters(index = "0", description = "the release id")
  String release;

  @Option(names = "--wait", description = "follow the rollback until the release ends")
  boolean waitForEnd;

  @Override
  public Integer call() {
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      WorkflowExecutionInfo info = Releases.requireRunning(s.stubs(), s.namespace(), release);
      client.newUntypedWorkflowStub(release).cancel();
      cli.out.println("cancel requested: " + release + " rolls back what it registered");
      if (waitForEnd) {
        WatchCmd.follow(client, s, release, cli.out);
      }
      return 0;
    }
  }
}
