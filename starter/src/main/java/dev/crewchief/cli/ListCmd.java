package dev.crewchief.cli;

import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.ReleaseStatus;
import dev.crewchief.release.SearchAttributes;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.worker.TemporalConnection;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(
    name = "list",
    description = {
      "List releases, newest first.",
      "On a server with the Crew Chief search attributes registered the filters are visibility"
          + " queries; elsewhere (the embedded server) releases are filtered by their ids."
    })
final class ListCmd implements Callable<Integer> {
  private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Map<String, String> EXECUTION_STATUS =
      Map.of(
          "running", "Running",
          "completed", "Completed",
          "failed", "Failed",
          "canceled", "Canceled",
          "cancelled", "Canceled",
          "terminated", "Terminated",
          "timed-out", "TimedOut",
          "timedout", "TimedOut");

  /** How long a running release's worker has to say its step, once per listing. */
  static final int QUERY_SECONDS = 3;

  @ParentCommand CrewChiefCli cli;

  @CommandLine.Mixin CrewChiefCli.HelpOption help;

  @Option(names = "--runbook", description = "e.g. randopony-promote")
  String runbook;

  @Option(names = "--env", description = "environment")
  String environment;

  @Option(names = "--version", description = "release version")
  String version;

  @Option(
      names = "--status",
      description = "the execution: running, completed, failed, canceled, terminated, timed-out")
  String status;

  @Option(
      names = "--state",
      description =
          "Crew Chief's status of the release (search attribute CrewChiefStatus): "
              + "RUNNING, WAITING_FOR_GATE, ROLLING_BACK, SUCCEEDED, FAILED, ROLLED_BACK, ROLLBACK_INCOMPLETE,"
              + " CANCELLED")
  ReleaseStatus state;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "the N newest releases (default 100; 0: every one)")
  int limit = 100;

  @Override
  public Integer call() {
    if (limit < 0) {
      throw new IllegalArgumentException(
          "--limit " + limit + ": expected a number of releases, or 0 for every one");
    }
    for (String v : new String[] {runbook, environment, version}) {
      if (v != null && !VALUE.matcher(v).matches()) {
        throw new IllegalArgumentException(
            "'" + v + "' is not a valid filter value (letters, digits, '.', '_', '-')");
      }
    }
    if (runbook != null && Runbooks.all().find(runbook) == null) {
      throw new IllegalArgumentException(
          "--runbook '"
              + runbook
              + "' is not a runbook this crewchief knows; the known runbooks are: "
              + String.join(", ", Runbooks.all().names()));
    }
    String executionStatus = null;
    if (status != null) {
      executionStatus = EXECUTION_STATUS.get(status.toLowerCase(java.util.Locale.ROOT));
      if (executionStatus == null) {
        throw new IllegalArgumentException(
            "--status '"
                + status
                + "' is not one of running, completed, failed, canceled, terminated, timed-out"
                + " (for Crew Chief's own status such as WAITING_FOR_GATE use --state)");
      }
    }
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      List<String> sa = TemporalConnection.registeredSearchAttributes(s.stubs(), s.namespace());
      boolean indexed =
          sa.containsAll(SearchAttributes.ALL.stream().map(k -> k.getName()).toList());
      if (state != null && !indexed) {
        throw new Releases.Refused(
            "--state needs the Crew Chief search attributes on the server (see deploy/PRODUCTION.md);"
                + " this server has none");
      }
      List<String> clauses = new ArrayList<>();
      if (indexed) {
        if (runbook != null) clauses.add(SearchAttributes.RUNBOOK.getName() + "='" + runbook + "'");
        if (environment != null)
          clauses.add(SearchAttributes.ENVIRONMENT.getName() + "='" + environment + "'");
        if (version != null) clauses.add(SearchAttributes.VERSION.getName() + "='" + version + "'");
        if (state != null) clauses.add(SearchAttributes.STATUS.getName() + "='" + state + "'");
      }
      if (executionStatus != null) clauses.add("ExecutionStatus='" + executionStatus + "'");
      Releases.Listing listing =
          Releases.list(
              s.stubs(),
              s.namespace(),
              String.join(" AND ", clauses),
              indexed,
              indexed ? limit : 0);
      List<WorkflowExecutionInfo> all = listing.releases();
      // Without the search attributes the filters apply here, so the limit does too.
      boolean more = listing.more();
      int shown = 0;
      cli.out.println(
          StatusCmd.pad("RELEASE", 48)
              + " "
              + StatusCmd.pad("RUNBOOK", 18)
              + " "
              + StatusCmd.pad("ENV", 10)
              + " "
              + StatusCmd.pad("VERSION", 9)
              + " "
              + StatusCmd.pad("STATUS", 11)
              + " "
              + StatusCmd.pad("STATE", 16)
              + " STEP");
      boolean workerAnswers = true;
      for (WorkflowExecutionInfo i : all) {
        String id = i.getExecution().getWorkflowId();
        String[] parts = parse(id);
        if (parts == null) {
          continue;
        }
        String execution = Releases.statusName(i.getStatus());
        if (!indexed
            && ((runbook != null && !runbook.equals(parts[0]))
                || (environment != null && !environment.equals(parts[1]))
                || (version != null && !version.equals(parts[2]))
                || (executionStatus != null
                    && !execution.replace("_", "").equalsIgnoreCase(executionStatus)))) {
          continue;
        }
        if (limit > 0 && shown == limit) {
          more = true;
          break;
        }
        shown++;
        String releaseState = Releases.keyword(i, SearchAttributes.STATUS);
        String step = Releases.keyword(i, SearchAttributes.STEP);
        if (step == null && Releases.running(i)) {
          // Not recorded in a search attribute (the embedded server, or no workflow task yet):
          // ask the release, briefly, and not again once no worker has answered.
          ReleaseProgress p =
              workerAnswers ? Releases.progressWithin(client, id, QUERY_SECONDS) : null;
          if (p == null) {
            workerAnswers = false;
            step = "? (no worker answered)";
          } else {
            step = p.currentStep();
            releaseState = p.status().name();
          }
        }
        cli.out.println(
            StatusCmd.pad(id, 48)
                + " "
                + StatusCmd.pad(parts[0], 18)
                + " "
                + StatusCmd.pad(parts[1], 10)
                + " "
                + StatusCmd.pad(parts[2], 9)
                + " "
                + StatusCmd.pad(execution, 11)
                + " "
                + StatusCmd.pad(releaseState == null ? "" : releaseState, 16)
                + " "
                + (step == null ? "" : step));
      }
      if (more) {
        cli.out.println(
            "(the "
                + limit
                + " newest shown; more releases match: --limit 0 lists every one, or narrow with"
                + " --runbook, --env, --version, --status, --state)");
      }
      return 0;
    }
  }

  /**
   * runbook, environment, version from a release id, for the runbooks known to this CLI. Atmosphere
   * versions contain a dash themselves (36-1), so each runbook's version pattern decides where the
   * environment ends.
   */
  static String[] parse(String id) {
    return Runbooks.all().parseReleaseId(id);
  }
}
