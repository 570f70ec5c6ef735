package dev.crewchief.cli;

import dev.crewchief.atmosphere.AtmosphereDeploymentDay;
import dev.crewchief.atmosphere.AtmosphereHotfix;
import dev.crewchief.atmosphere.AtmosphereRelease;
import dev.crewchief.atmosphere.AtmosphereReleaseRequest;
import dev.crewchief.atmosphere.AtmosphereSite;
import dev.crewchief.atmosphere.HotfixRequest;
import dev.crewchief.config.ConfigException;
import dev.crewchief.randopony.PromoteRequest;
import dev.crewchief.randopony.PromoteToProduction;
import dev.crewchief.randopony.RandoPonySite;
import dev.crewchief.randopony.StagingDeploy;
import dev.crewchief.randopony.StagingDeployRequest;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.ReleaseStatus;
import dev.crewchief.release.SearchAttributes;
import dev.crewchief.release.StepState;
import dev.crewchief.runtime.TemporalConnection;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code crewchief}: start releases, pass gates, watch and report. Exit codes: 0 success, 1 the
 * release failed or the request was refused, 2 usage or configuration error.
 */
@Command(
    name = "crewchief",
    mixinStandardHelpOptions = true,
    version = "crewchief 0.1.0",
    description = "Runs production-release runbooks as durable Temporal workflows.",
    subcommands = {
      CrewChiefCli.Start.class,
      CrewChiefCli.Approve.class,
      CrewChiefCli.Reject.class,
      CrewChiefCli.StatusCmd.class,
      CrewChiefCli.Watch.class,
      CrewChiefCli.ListCmd.class,
      CrewChiefCli.Report.class,
      CrewChiefCli.Cancel.class
    })
public final class CrewChiefCli {
  static final Pattern RANDOPONY_RELEASE = Pattern.compile("[0-9]{4}r[0-9]+");
  static final Pattern ATMOSPHERE_RELEASE = Pattern.compile("[0-9]+-[0-9]+");

  @Option(
      names = {"-c", "--config"},
      description = "crewchief.yaml (default: $CREWCHIEF_CONFIG, then ./crewchief.yaml)",
      scope = CommandLine.ScopeType.INHERIT)
  Path config;

  PrintWriter out;

  public static void main(String[] args) {
    System.exit(run(args, System.getenv()));
  }

  static int run(String[] args, Map<String, String> env) {
    CrewChiefCli cli = new CrewChiefCli();
    cli.env = env;
    CommandLine cmd = new CommandLine(cli);
    cli.out = cmd.getOut();
    cmd.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          if (ex instanceof ConfigException) {
            err.println("crewchief: configuration error: " + ex.getMessage());
            err.flush();
            return 2;
          }
          if (ex instanceof IllegalArgumentException) {
            err.println("crewchief: " + ex.getMessage());
            err.flush();
            return 2;
          }
          if (ex instanceof Releases.Refused) {
            err.println("crewchief: " + ex.getMessage());
            err.flush();
            return 1;
          }
          throw ex;
        });
    int code = cmd.execute(args);
    cmd.getOut().flush();
    cmd.getErr().flush();
    return code;
  }

  Map<String, String> env;

  Session session() {
    return new Session(env, config);
  }

  // ------------------------------------------------------------------ start

  @Command(
      name = "start",
      description = "Start a release of a runbook.",
      mixinStandardHelpOptions = true,
      subcommands = {
        RandoPonyStaging.class,
        RandoPonyPromote.class,
        AtmosphereHotfixCmd.class,
        AtmosphereDeployCmd.class,
        AtmosphereReleaseCmd.class
      })
  static final class Start implements Callable<Integer> {
    @ParentCommand CrewChiefCli cli;

    @Override
    public Integer call() {
      cli.out.println(
          "Name a runbook: crewchief start"
              + " randopony-staging|randopony-promote|atmosphere-hotfix|atmosphere-deploy"
              + "|atmosphere-release"
              + " --help");
      return 2;
    }
  }

  /** A runbook in an environment: where one release at a time may run. */
  record Lane(String runbook, String environment) {}

  /**
   * -h/--help alone, for commands with a --version option of their own, where the standard help
   * mixin's -V/--version would collide with it and take --help away with it.
   */
  static final class HelpOption {
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;
  }

  /** Options every release start shares. */
  abstract static class StartOptions {
    @ParentCommand Start start;

    @CommandLine.Mixin HelpOption help;

    @Option(names = "--env", required = true, description = "environment from crewchief.yaml")
    String environment;

    @Option(
        names = "--version",
        required = true,
        description =
            "the release: RandoPony's year and number (2014r1), Atmosphere's Major-Minor (36-1)")
    String version;

    @Option(
        names = "--dry-run",
        description = "rehearse: validate and record every action, change nothing")
    boolean dryRun;

    @Option(
        names = "--wait",
        description = "watch until the release ends (always on with the embedded server)")
    boolean waitForEnd;

    @Option(
        names = "--approve-as",
        description = "dry runs only: approve every gate as this person when it opens")
    String approveAs;

    CrewChiefCli cli() {
      return start.cli;
    }

    void checkCommon(String runbook) {
      ReleaseIds.validate(runbook, environment, version);
      if (runbook.startsWith("randopony-") && !RANDOPONY_RELEASE.matcher(version).matches()) {
        throw new IllegalArgumentException(
            "version '"
                + version
                + "' is not a RandoPony release id: year + r + number, e.g. 2014r1");
      }
      if (runbook.startsWith("atmosphere-") && !ATMOSPHERE_RELEASE.matcher(version).matches()) {
        throw new IllegalArgumentException(
            "version '" + version + "' is not an Atmosphere release: Major-Minor, e.g. 36-1");
      }
      if (approveAs != null && !dryRun) {
        throw new IllegalArgumentException(
            "--approve-as is only for dry runs: pass real gates with `crewchief approve`");
      }
    }

    int launch(Session s, String runbook, Class<?> iface, String type, Object request) {
      WorkflowClient client = s.client(true);
      String id = ReleaseIds.workflowId(runbook, environment, version);
      for (WorkflowExecutionInfo open : Releases.list(s.stubs(), s.namespace(), null, true)) {
        String other = open.getExecution().getWorkflowId();
        Lane of = identity(open);
        if (of == null || other.equals(id)) {
          continue;
        }
        if (of.equals(new Lane(runbook, environment))) {
          throw new Releases.Refused(
              "another "
                  + runbook
                  + " release is running in "
                  + environment
                  + ": "
                  + other
                  + " (one at a time per runbook and environment; watch it with `crewchief watch "
                  + other
                  + "`)");
        }
        if (exclusiveWith().contains(of)) {
          throw new Releases.Refused(
              other
                  + " ("
                  + of.runbook()
                  + " in "
                  + of.environment()
                  + ") is running and works on the same containers as "
                  + runbook
                  + " in "
                  + environment
                  + ": wait for it (`crewchief watch "
                  + other
                  + "`) or cancel it first");
        }
      }
      WorkflowOptions.Builder options =
          WorkflowOptions.newBuilder()
              .setWorkflowId(id)
              .setTaskQueue(s.taskQueue())
              .setWorkflowIdReusePolicy(
                  WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
              .setStaticSummary(
                  (dryRun ? "DRY RUN " : "") + runbook + " " + version + " in " + environment);
      List<String> sa = searchAttributes(s);
      if (!sa.isEmpty()) {
        options.setTypedSearchAttributes(
            SearchAttributes.identity(runbook, environment, version, sa));
      }
      WorkflowStub stub = client.newUntypedWorkflowStub(type, options.build());
      try {
        stub.start(request);
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
      cli().out.println("started " + id + (dryRun ? " (dry run)" : ""));
      cli().out.flush();
      if (approveAs != null) {
        Thread t = new Thread(() -> autoApprove(client, id), "approve-as");
        t.setDaemon(true);
        t.start();
      }
      if (waitForEnd || s.embedded()) {
        int code = Watch.follow(client, s, id, cli().out);
        cli().out.println();
        cli().out.println(Report.markdown(client, id));
        cli().out.flush();
        return code;
      }
      cli().out.println("watch it with: crewchief watch " + id);
      return 0;
    }

    /**
     * The runbook and environment of an open release: from its search attributes when the server
     * has them (so a release's beta day, ...-36-1-beta, counts as deployment day on beta), else
     * read from its id with the runbook's version form (so prod-eu's releases are not prod's).
     */
    static Lane identity(WorkflowExecutionInfo info) {
      String runbook = Releases.keyword(info, SearchAttributes.RUNBOOK);
      String env = Releases.keyword(info, SearchAttributes.ENVIRONMENT);
      if (runbook != null && env != null) {
        return new Lane(runbook, env);
      }
      String[] parsed = ListCmd.parse(info.getExecution().getWorkflowId());
      return parsed == null ? null : new Lane(parsed[0], parsed[1]);
    }

    /**
     * Other runbooks in an environment that must not run while this one starts: they act on the
     * same systems. None by default.
     */
    List<Lane> exclusiveWith() {
      return List.of();
    }

    List<String> searchAttributes(Session s) {
      if (s.embedded()) {
        return List.of();
      }
      return TemporalConnection.registeredSearchAttributes(s.stubs(), s.namespace());
    }

    private void autoApprove(WorkflowClient client, String id) {
      ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, id);
      List<String> decided = new ArrayList<>();
      while (true) {
        try {
          ReleaseProgress p = stub.progress();
          for (GateView g : p.gates()) {
            if (g.status() == GateStatus.WAITING && !decided.contains(g.name())) {
              stub.decideGate(
                  new GateDecision(
                      g.name(), GateDecision.Decision.APPROVE, approveAs, "dry run: --approve-as"));
              decided.add(g.name());
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

    ReleaseContext context(Session s, String runbook, List<String> sa) {
      return Plans.context(
          s.config(), runbook, environment, version, dryRun, System.getProperty("user.name"), sa);
    }
  }

  @Command(
      name = StagingDeploy.RUNBOOK,
      description = "RandoPony: deploy a release to its staging app (first deployment or update).")
  static final class RandoPonyStaging extends StartOptions implements Callable<Integer> {
    @Override
    public Integer call() {
      checkCommon(StagingDeploy.RUNBOOK);
      try (Session s = cli().session()) {
        RandoPonySite site = Plans.randopony(s.config(), environment, List.of(version));
        s.client(true);
        StagingDeployRequest req =
            new StagingDeployRequest(context(s, StagingDeploy.RUNBOOK, searchAttributes(s)), site);
        return launch(s, StagingDeploy.RUNBOOK, StagingDeploy.class, StagingDeploy.TYPE, req);
      }
    }
  }

  @Command(
      name = PromoteToProduction.RUNBOOK,
      description = "RandoPony: promote a staging release to production.")
  static final class RandoPonyPromote extends StartOptions implements Callable<Integer> {
    @Option(
        names = "--previous",
        required = true,
        description =
            "the production release whose data moves over, or 'none' for a fresh database")
    String previous;

    @Override
    public Integer call() {
      checkCommon(PromoteToProduction.RUNBOOK);
      String prev = previous.equals("none") ? null : previous;
      if (prev != null && !RANDOPONY_RELEASE.matcher(prev).matches()) {
        throw new IllegalArgumentException(
            "--previous '" + previous + "' is not a RandoPony release id (e.g. 2013r1) or 'none'");
      }
      if (version.equals(prev)) {
        throw new IllegalArgumentException("--previous must differ from --version");
      }
      try (Session s = cli().session()) {
        RandoPonySite site =
            Plans.randopony(
                s.config(), environment, prev == null ? List.of(version) : List.of(version, prev));
        s.client(true);
        PromoteRequest req =
            new PromoteRequest(
                context(s, PromoteToProduction.RUNBOOK, searchAttributes(s)), site, prev);
        return launch(
            s,
            PromoteToProduction.RUNBOOK,
            PromoteToProduction.class,
            PromoteToProduction.TYPE,
            req);
      }
    }
  }

  @Command(
      name = AtmosphereHotfix.RUNBOOK,
      description = {
        "Atmosphere: swap a service's container for one on the version's image with no downtime"
            + " (scale to two without recreating, wait until the new one is ready, remove the old"
            + " one, restart nginx in the proxy service)."
      })
  static final class AtmosphereHotfixCmd extends StartOptions implements Callable<Integer> {
    @Option(
        names = "--service",
        defaultValue = "atmosphere",
        description = "the compose service to hotfix (default: ${DEFAULT-VALUE})")
    String service;

    @Override
    public Integer call() {
      checkCommon(AtmosphereHotfix.RUNBOOK);
      try (Session s = cli().session()) {
        AtmosphereSite site = Plans.atmosphere(s.config(), environment, List.of(service));
        s.client(true);
        HotfixRequest req =
            new HotfixRequest(
                context(s, AtmosphereHotfix.RUNBOOK, searchAttributes(s)), site, service);
        return launch(
            s, AtmosphereHotfix.RUNBOOK, AtmosphereHotfix.class, AtmosphereHotfix.TYPE, req);
      }
    }
  }

  @Command(
      name = AtmosphereDeploymentDay.RUNBOOK,
      description = {
        "Atmosphere: deployment day alone on one environment, e.g. atmobeta, or production outside"
            + " the release calendar (the runbook's \"Upgrading with Atmosphere-Docker\"): both"
            + " databases dumped, maintenance started, the proxy on the maintenance page, the"
            + " secrets checkout on its branch, containers stopped and committed to backup images,"
            + " the compose file's image tags set, new images pulled and containers recreated, the"
            + " driver's tested-in-production gate, the proxy back to the app, maintenance stopped."
            + " A failure or a rejection after the containers stopped restores the backups."
      })
  static final class AtmosphereDeployCmd extends StartOptions implements Callable<Integer> {
    /** A release's deployment day on this environment would stop the same containers. */
    @Override
    List<Lane> exclusiveWith() {
      return List.of(new Lane(AtmosphereRelease.RUNBOOK, environment));
    }

    @Option(
        names = "--driver",
        required = true,
        description = "who performs and tests it (passes tested-in-production)")
    String driver;

    @Option(
        names = "--message",
        description =
            "the maintenance message (default: the environment's atmosphere.release.message)")
    String message;

    @Override
    public Integer call() {
      checkCommon(AtmosphereDeploymentDay.RUNBOOK);
      try (Session s = cli().session()) {
        s.client(true);
        ReleaseContext configured =
            context(s, AtmosphereDeploymentDay.RUNBOOK, searchAttributes(s));
        // The driver named here is the one person the day's gate accepts.
        ReleaseContext ctx = configured.withApprovers(Map.of("driver", List.of(driver)));
        AtmosphereDeploymentDay.DayRequest req =
            Plans.deploymentDay(
                s.config(),
                ctx,
                driver,
                message,
                java.time.LocalDate.now(java.time.ZoneOffset.UTC));
        return launch(
            s,
            AtmosphereDeploymentDay.RUNBOOK,
            AtmosphereDeploymentDay.class,
            AtmosphereDeploymentDay.TYPE,
            req);
      }
    }
  }

  @Command(
      name = AtmosphereRelease.RUNBOOK,
      description = {
        "Atmosphere: the whole release calendar. The maintenance notice goes out --notice-lead"
            + " (config) before the window and at least two working days before it; the changelog"
            + " is cut and tagged and the images awaited; deployment day runs on the beta"
            + " environment, the crew chief approves tested-on-beta, and in the window deployment"
            + " day runs on this environment, with the driver's tested-in-production gate."
      })
  static final class AtmosphereReleaseCmd extends StartOptions implements Callable<Integer> {
    /** A deployment day on this environment already works on the same containers. */
    @Override
    List<Lane> exclusiveWith() {
      return List.of(new Lane(AtmosphereDeploymentDay.RUNBOOK, environment));
    }

    @Option(
        names = "--window",
        required = true,
        description = "start of the maintenance window, ISO-8601 UTC, e.g. 2026-12-10T16:00:00Z")
    String window;

    @Option(names = "--crew-chief", required = true, description = "who owns this release")
    String crewChief;

    @Option(names = "--driver", required = true, description = "who performs and tests it")
    String driver;

    @Override
    public Integer call() {
      checkCommon(AtmosphereRelease.RUNBOOK);
      Instant at;
      try {
        at = Instant.parse(window);
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException(
            "--window '" + window + "' is not an ISO-8601 UTC time such as 2026-12-10T16:00:00Z");
      }
      try (Session s = cli().session()) {
        s.client(true);
        ReleaseContext configured = context(s, AtmosphereRelease.RUNBOOK, searchAttributes(s));
        // The release's own crew chief and driver are the people its gates accept.
        ReleaseContext ctx =
            configured.withApprovers(
                Map.of("crew-chief", List.of(crewChief), "driver", List.of(driver)));
        AtmosphereReleaseRequest req =
            Plans.atmosphereRelease(s.config(), ctx, crewChief, driver, at);
        return launch(
            s, AtmosphereRelease.RUNBOOK, AtmosphereRelease.class, AtmosphereRelease.TYPE, req);
      }
    }
  }

  // ------------------------------------------------------------------ gates

  abstract static class Decide implements Callable<Integer> {
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
        try {
          GateView v = stub.decideGate(new GateDecision(gate, decision(), approver, comment));
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

  @Command(
      name = "approve",
      mixinStandardHelpOptions = true,
      description = "Approve a gate of a running release.")
  static final class Approve extends Decide {
    @Override
    GateDecision.Decision decision() {
      return GateDecision.Decision.APPROVE;
    }
  }

  @Command(
      name = "reject",
      mixinStandardHelpOptions = true,
      description = "Reject a gate: the release rolls back and fails.")
  static final class Reject extends Decide {
    @Override
    GateDecision.Decision decision() {
      return GateDecision.Decision.REJECT;
    }
  }

  // ------------------------------------------------------------------ status, watch

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Show where a release is.")
  static final class StatusCmd implements Callable<Integer> {
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

  @Command(
      name = "watch",
      mixinStandardHelpOptions = true,
      description = "Follow a release step by step until it ends.")
  static final class Watch implements Callable<Integer> {
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
                    + pad(st.status().name(), 11)
                    + " "
                    + st.name();
            String key = i + ":" + st.status();
            if (!printed.contains(key)) {
              printed.add(key);
              out.println(
                  line
                      + (st.detail() == null || st.status().name().equals("RUNNING")
                          ? ""
                          : "  (" + abbreviate(st.detail()) + ")"));
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

  // ------------------------------------------------------------------ list, report, cancel

  @Command(
      name = "list",
      description = {
        "List releases, newest first.",
        "On a server with the Crew Chief search attributes registered the filters are visibility"
            + " queries; elsewhere (the embedded server) releases are filtered by their ids."
      })
  static final class ListCmd implements Callable<Integer> {
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

    @ParentCommand CrewChiefCli cli;

    @CommandLine.Mixin HelpOption help;

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

    @Override
    public Integer call() {
      for (String v : new String[] {runbook, environment, version}) {
        if (v != null && !VALUE.matcher(v).matches()) {
          throw new IllegalArgumentException(
              "'" + v + "' is not a valid filter value (letters, digits, '.', '_', '-')");
        }
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
          if (runbook != null)
            clauses.add(SearchAttributes.RUNBOOK.getName() + "='" + runbook + "'");
          if (environment != null)
            clauses.add(SearchAttributes.ENVIRONMENT.getName() + "='" + environment + "'");
          if (version != null)
            clauses.add(SearchAttributes.VERSION.getName() + "='" + version + "'");
          if (state != null) clauses.add(SearchAttributes.STATUS.getName() + "='" + state + "'");
        }
        if (executionStatus != null) clauses.add("ExecutionStatus='" + executionStatus + "'");
        List<WorkflowExecutionInfo> all =
            Releases.list(s.stubs(), s.namespace(), String.join(" AND ", clauses), false);
        cli.out.println(
            pad("RELEASE", 48)
                + " "
                + pad("RUNBOOK", 18)
                + " "
                + pad("ENV", 10)
                + " "
                + pad("VERSION", 9)
                + " "
                + pad("STATUS", 11)
                + " "
                + pad("STATE", 16)
                + " STEP");
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
          String releaseState = Releases.keyword(i, SearchAttributes.STATUS);
          String step = Releases.keyword(i, SearchAttributes.STEP);
          if (step == null && Releases.running(i)) {
            try {
              ReleaseProgress p = Releases.progress(client, id);
              step = p.currentStep();
              releaseState = p.status().name();
            } catch (RuntimeException e) {
              step = "?";
            }
          }
          cli.out.println(
              pad(id, 48)
                  + " "
                  + pad(parts[0], 18)
                  + " "
                  + pad(parts[1], 10)
                  + " "
                  + pad(parts[2], 9)
                  + " "
                  + pad(execution, 11)
                  + " "
                  + pad(releaseState == null ? "" : releaseState, 16)
                  + " "
                  + (step == null ? "" : step));
        }
        return 0;
      }
    }

    /**
     * runbook, environment, version from a release id, for the runbooks known to this CLI.
     * Atmosphere versions contain a dash themselves (36-1), so each runbook's version pattern
     * decides where the environment ends.
     */
    static String[] parse(String id) {
      Map<String, String> versions =
          Map.of(
              StagingDeploy.RUNBOOK, "[^-]+",
              PromoteToProduction.RUNBOOK, "[^-]+",
              AtmosphereHotfix.RUNBOOK, "[0-9]+-[0-9]+",
              AtmosphereDeploymentDay.RUNBOOK, "[0-9]+-[0-9]+",
              AtmosphereRelease.RUNBOOK, "[0-9]+-[0-9]+");
      for (Map.Entry<String, String> rb : versions.entrySet()) {
        java.util.regex.Matcher m =
            Pattern.compile(
                    "release-" + Pattern.quote(rb.getKey()) + "-(.+)-(" + rb.getValue() + ")")
                .matcher(id);
        if (m.matches()) {
          return new String[] {rb.getKey(), m.group(1), m.group(2)};
        }
      }
      return null;
    }
  }

  @Command(
      name = "report",
      mixinStandardHelpOptions = true,
      description = {
        "The report of a release, built from its history alone (works for closed releases and"
            + " with no worker running): every step with start, end, attempts and outcome, every"
            + " gate decision with who, when, how and the comment.",
        "Markdown by default; HTML adds a timeline of steps and gates drawn to scale."
      })
  static final class Report implements Callable<Integer> {
    enum Format {
      md,
      html
    }

    @ParentCommand CrewChiefCli cli;

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

  @Command(
      name = "cancel",
      mixinStandardHelpOptions = true,
      description = "Cancel a release: it rolls back what it registered.")
  static final class Cancel implements Callable<Integer> {
    @ParentCommand CrewChiefCli cli;

    @Parameters(index = "0", description = "the release id")
    String release;

    @Option(names = "--wait", description = "follow the rollback until the release ends")
    boolean waitForEnd;

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
        client.newUntypedWorkflowStub(release).cancel();
        cli.out.println("cancel requested: " + release + " rolls back what it registered");
        if (waitForEnd) {
          Watch.follow(client, s, release, cli.out);
        }
        return 0;
      }
    }
  }
}
