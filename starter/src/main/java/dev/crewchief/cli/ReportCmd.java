package dev.crewchief.cli;

import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
    if (output != null) {
      checkWritable(output);
    }
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      Releases.describe(s.stubs(), s.namespace(), release);
      HistoryReport report = of(client, release);
      String text = f == Format.html ? report.html() : report.markdown();
      if (output != null) {
        write(output, text);
        cli.out.println("wrote " + output + " (" + f + ")");
      } else {
        cli.out.print(text);
      }
      return 0;
    }
  }

  /**
   * Refuses, before anything is fetched, a path the report cannot be written to: a directory, or a
   * file in a folder that does not exist (the folder is not made: a typo would make a tree).
   */
  static void checkWritable(Path output) {
    Path abs = output.toAbsolutePath();
    if (Files.isDirectory(abs)) {
      throw new IllegalArgumentException(
          "cannot write the report to "
              + output
              + ": it is a directory; name a file in it, e.g. "
              + output.resolve("report.md")
              + " or "
              + output.resolve("report.html"));
    }
    Path folder = abs.getParent();
    if (folder != null && !Files.isDirectory(folder)) {
      throw new IllegalArgumentException(
          "cannot write the report to "
              + output
              + ": the folder "
              + folder
              + (Files.exists(folder) ? " is not a directory" : " does not exist")
              + "; create it first, or name a file in a folder that exists");
    }
    if (folder != null && !Files.isWritable(folder)) {
      throw new IllegalArgumentException(
          "cannot write the report to " + output + ": the folder " + folder + " is not writable");
    }
  }

  /**
   * Writes the whole report or nothing: into a temporary file beside the target, then moved over
   * it, so that a failure half-way leaves no half-written report (nor a half-overwritten one).
   */
  static void write(Path output, String text) {
    Path abs = output.toAbsolutePath();
    Path tmp = null;
    try {
      tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
      Files.writeString(tmp, text);
      try {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // The message below says what failed; a stray temporary file is named by it.
        }
      }
      throw new IllegalArgumentException(
          "cannot write the report to " + output + ": " + e.getMessage(), e);
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
