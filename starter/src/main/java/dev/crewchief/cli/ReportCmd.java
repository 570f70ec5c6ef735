package dev.crewchief.cli;

import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "report",
    description = {
      "The report of a release, built from its history alone (works for closed releases and"
          + " with no worker running): every step with start, end, attempts and outcome, every"
          + " gate decision with who, when, how and the comment.",
      "Markdown by default; HTML adds a timeline of steps and gates drawn to scale."
    })
final class ReportCmd implements Callable<Integer> {
  enum Format {
    md,
    html
  }

  @ParentCommand CrewChiefCli cli;

  @picocli.CommandLine.Mixin CrewChiefCli.HelpOption help;

  @Parameters(index = "0", description = "the release id")
  String release;

  @Option(
      names = {"-o", "--output"},
      description = "write to this file instead of standard output")
  Path output;

  @Option(
      names = {"-f", "--format"},
      description = "md or html (default: html when --output ends in .html, else md)")
  Format format;

  @Override
  public Integer call() throws Exception {
    Format f = format;
    if (f == null) {
      f =
          output != null && output.getFileName().toString().toLowerCase().endsWith(".html")
              ? Format.html
              : Format.md;
    }
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      Releases.describe(s.stubs(), s.namespace(), release);
      HistoryReport report = of(client, release);
      String text = f == Format.html ? report.html() : report.markdown();
      if (output != null) {
        Files.writeString(output, text);
        cli.out.println("wrote " + output + " (" + f + ")");
      } else {
        cli.out.print(text);
      }
      return 0;
    }
  }

  static HistoryReport of(WorkflowClient client, String id) {
    List<HistoryEvent> events = client.fetchHistory(id).getHistory().getEventsList();
    return new HistoryReport(id, events);
  }

  static String markdown(WorkflowClient client, String id) {
    return of(client, id).markdown();
  }
}
