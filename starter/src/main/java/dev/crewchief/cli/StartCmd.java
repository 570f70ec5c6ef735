package dev.crewchief.cli;

import dev.crewchief.release.DecisionReply;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.SearchAttributes;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.Runbooks;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.worker.TemporalConnection;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code crewchief start RUNBOOK ...}: one subcommand per registered runbook, its options taken
 * from the runbook's descriptor, so that a new runbook needs no code here.
 */
final class StartCmd {
  private StartCmd() {}

  static CommandLine command(CrewChiefCli cli) {
    CommandSpec start =
        CommandSpec.wrapWithoutInspection(
            (Callable<Integer>)
                () -> {
                  cli.out.println(
                      "Name a runbook: crewchief start "
                          + String.join("|", Runbooks.all().names())
                          + " --help");
                  return 2;
                });
    start.name("start");
    start.addOption(
        OptionSpec.builder("-h", "--help")
            .usageHelp(true)
            .description("Show this help message and exit.")
            .build());
    List<String> lines = new ArrayList<>(List.of("Start a release of a runbook:"));
    for (Runbook rb : Runbooks.all().list()) {
      lines.add("  " + rb.name() + ": " + rb.summary());
    }
    start.usageMessage().description(lines.toArray(new String[0]));
    CommandLine line = new CommandLine(start);
    for (Runbook rb : Runbooks.all().list()) {
      line.addSubcommand(rb.name(), new CommandLine(runbookCommand(cli, rb)));
    }
    return line;
  }

  private static CommandSpec runbookCommand(CrewChiefCli cli, Runbook rb) {
    StartRunbook run = new StartRunbook(cli, rb);
    CommandSpec spec = CommandSpec.wrapWithoutInspection(run);
    run.spec = spec;
    spec.name(rb.name());
    spec.usageMessage()
        .description(rb.description())
        .footer(
            "",
            "Versions: "
                + rb.versionFormat().description()
                + ", e.g. "
                + rb.versionFormat().example(),
            "Settings: environments.ENV."
                + rb.configSection().key()
                + " (see "
                + rb.exampleConfig()
                + ")");
    spec.addOption(
        OptionSpec.builder("-h", "--help")
            .usageHelp(true)
            .description("Show this help message and exit.")
            .build());
    spec.addOption(text("--env", "ENV", "environment from crewchief.yaml", true, null));
    spec.addOption(
        text(
            "--version",
            "VERSION",
            "the release: "
                + rb.versionFormat().description()
                + ", e.g. "
                + rb.versionFormat().example(),
            true,
            null));
    spec.addOption(flag("--dry-run", "rehearse: validate and record every action, change nothing"));
    spec.addOption(
        flag("--wait", "watch until the release ends (always on with the embedded server)"));
    spec.addOption(
        text(
            "--approve-as",
            "NAME[,NAME...]",
            "dry runs only: approve each gate when it opens, as the first person named who may"
                + " pass it (checked before the release starts)",
            false,
            null));
    for (StartOption o : rb.options()) {
      spec.addOption(
          text(
              "--" + o.name(),
              o.label(),
              o.description()
                  + (o.defaultValue() == null ? "" : " (default: " + o.defaultValue() + ")"),
              o.required(),
              o.defaultValue()));
    }
    return spec;
  }

  private static OptionSpec text(
      String name, String label, String description, boolean required, String defaultValue) {
    OptionSpec.Builder b =
        OptionSpec.builder(name)
            .paramLabel(label)
            .type(String.class)
            .required(required)
            .description(description);
    if (defaultValue != null) {
      b.defaultValue(defaultValue);
    }
    return b.build();
  }

  private static OptionSpec flag(String name, String description) {
    return OptionSpec.builder(name).type(boolean.class).arity("0").description(description).build();
  }

  /** One runbook's start. */
  static final class StartRunbook implements Callable<Integer> {
    private final CrewChiefCli cli;
    private final Runbook rb;
    CommandSpec spec;

    StartRunbook(CrewChiefCli cli, Runbook rb) {
      this.cli = cli;
      this.rb = rb;
    }

    private String value(String option) {
      return spec.findOption(option).getValue();
    }

    private boolean flagValue(String option) {
      Boolean b = spec.findOption(option).getValue();
      return b != null && b;
    }

    @Override
    public Integer call() {
      String environment = value("--env");
      String version = value("--version");
      boolean dryRun = flagValue("--dry-run");
      String approveAs = value("--approve-as");
      ReleaseIds.validate(rb.name(), environment, version);
      rb.versionFormat().check("version", version);
      if (approveAs != null && !dryRun) {
        throw new IllegalArgumentException(
            "--approve-as is only for dry runs: pass real gates with `crewchief approve`");
      }
      Map<String, String> options = new LinkedHashMap<>();
      for (StartOption o : rb.options()) {
        options.put(o.name(), value("--" + o.name()));
      }
      try (Session s = cli.session()) {
        Instant now = Instant.now();
        // The whole start is checked before anything connects (or an embedded server starts):
        // a bad option is refused in words, at once.
        Object draft =
            rb.plan(
                new StartRequest(
                    s.config(),
                    environment,
                    version,
                    dryRun,
                    System.getProperty("user.name"),
                    options,
                    List.of(),
                    now));
        // A rehearsal's approvals too: one that would wait at a gate for somebody who may not
        // pass it is refused now, not left waiting.
        Map<String, String> approvers =
            approveAs == null ? null : DryRunApprovals.assign(rb, draft, approveAs);
        WorkflowClient client = s.client(true);
        List<String> sa =
            s.embedded()
                ? List.of()
                : TemporalConnection.registeredSearchAttributes(s.stubs(), s.namespace());
        Object input =
            sa.isEmpty()
                ? draft
                : rb.plan(
                    new StartRequest(
                        s.config(),
                        environment,
                        version,
                        dryRun,
                        System.getProperty("user.name"),
                        options,
                        sa,
                        now));
        String id = ReleaseIds.workflowId(rb.name(), environment, version);
        WorkflowOptions.Builder wo =
            WorkflowOptions.newBuilder()
                .setWorkflowId(id)
                .setTaskQueue(s.taskQueue())
                .setWorkflowIdReusePolicy(
                    WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                .setStaticSummary(
                    (dryRun ? "DRY RUN " : "") + rb.name() + " " + version + " in " + environment);
        if (!sa.isEmpty()) {
          wo.setTypedSearchAttributes(
              SearchAttributes.identity(rb.name(), environment, version, sa));
        }
        boolean polled =
            s.embedded() || Releases.workerPolls(s.stubs(), s.namespace(), s.taskQueue());
        WorkflowStub stub = client.newUntypedWorkflowStub(rb.workflowType(), wo.build());
        try {
          stub.start(input);
        } catch (WorkflowExecutionAlreadyStarted e) {
          throw new Releases.Refused(
              "release "
                  + id
                  + " is already running (run "
                  + e.getExecution().getRunId()
                  + "): watch it with `crewchief watch "
                  + id
                  + "`");
        }
        PrintWriter out = cli.out;
        boolean await = flagValue("--wait") || s.embedded();
        if (!polled) {
          out.println(
              "started "
                  + id
                  + (dryRun ? " (dry run)" : "")
                  + ", but no worker polls task queue '"
                  + s.taskQueue()
                  + "': it begins when one does (deploy/bin/crewchief-worker)"
                  + (await ? "; --wait: waiting for its end" : ""));
          out.flush();
          if (!await) {
            return 0;
          }
        } else {
          // The lane is taken by the release itself, on the server: wait until it holds it, or
          // report why not (another release holds it), so that the start's answer is the truth.
          Releases.awaitLane(client, s, id, rb.lane(environment).workflowId());
          out.println("started " + id + (dryRun ? " (dry run)" : ""));
          out.flush();
        }
        if (approveAs != null) {
          Thread t =
              new Thread(() -> autoApprove(client, id, approvers, approveAs, out), "approve-as");
          t.setDaemon(true);
          t.start();
        }
        if (await) {
          int code = WatchCmd.follow(client, s, id, out);
          out.println();
          out.println(ReportCmd.markdown(client, id));
          out.flush();
          return code;
        }
        out.println("watch it with: crewchief watch " + id);
        return 0;
      }
    }

    private static void autoApprove(
        WorkflowClient client,
        String id,
        Map<String, String> approvers,
        String approveAs,
        PrintWriter out) {
      ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, id);
      List<String> decided = new ArrayList<>();
      while (true) {
        try {
          ReleaseProgress p = stub.progress();
          for (GateView g : p.gates()) {
            if (g.status() == GateStatus.WAITING && !decided.contains(g.name())) {
              String who = approvers.getOrDefault(g.name(), approveAs.split(",")[0].strip());
              DecisionReply reply =
                  stub.decideGate(
                      GateDecision.now(
                          g.name(),
                          GateDecision.Decision.APPROVE,
                          who,
                          "dry run: --approve-as",
                          Instant.now()));
              decided.add(g.name());
              if (!reply.accepted()) {
                // Said once, where the rehearsal is followed; the gate keeps waiting as it would.
                synchronized (out) {
                  out.println(
                      "--approve-as: gate "
                          + g.name()
                          + " refused "
                          + who
                          + ": "
                          + reply.reason()
                          + " (pass it with `crewchief approve "
                          + id
                          + " "
                          + g.name()
                          + " --as NAME`)");
                  out.flush();
                }
              }
            }
          }
          Thread.sleep(500);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          try {
            Thread.sleep(1000);
          } catch (InterruptedException ie) {
            return;
          }
        }
      }
    }
  }
}
