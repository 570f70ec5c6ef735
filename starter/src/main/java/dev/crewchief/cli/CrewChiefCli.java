package dev.crewchief.cli;

import dev.crewchief.config.ConfigException;
import dev.crewchief.worker.TemporalConnection;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
      ApproveCmd.class,
      RejectCmd.class,
      StatusCmd.class,
      WatchCmd.class,
      ListCmd.class,
      ReportCmd.class,
      CancelCmd.class,
      SignCmd.class
    })
public final class CrewChiefCli {
  @Option(
      names = {"-c", "--config"},
      description = "crewchief.yaml (default: $CREWCHIEF_CONFIG, then ./crewchief.yaml)",
      scope = CommandLine.ScopeType.INHERIT)
  Path config;

  PrintWriter out;
  Map<String, String> env;

  public static void main(String[] args) {
    System.exit(run(args, System.getenv()));
  }

  public static int run(String[] args, Map<String, String> env) {
    TemporalConnection.quietGrpcLogging();
    CrewChiefCli cli = new CrewChiefCli();
    cli.env = env;
    CommandLine cmd = new CommandLine(cli);
    // `start` has one subcommand per registered runbook, built from the runbooks' descriptors:
    // only where it can be needed (a start, the top-level help, a mistyped command), since
    // building it loads every runbook, and `status` or `list` should not wait for that.
    if (mayNeedStart(args)) {
      cmd.addSubcommand("start", StartCmd.command(cli));
    }
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
          // What the server said, in a line instead of a stack trace.
          StatusRuntimeException status = statusOf(ex);
          if (status != null) {
            err.println(
                status.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
                    ? "crewchief: Temporal became unreachable: "
                        + TemporalConnection.describe(status)
                        + " (whether the request was done, `crewchief status` tells once it is"
                        + " back)"
                    : "crewchief: Temporal refused the request: "
                        + status.getStatus().getCode()
                        + ": "
                        + TemporalConnection.describe(status));
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

  /**
   * The subcommands other than `start` (their help and their errors never refer to it): the names
   * of the classes this command's annotation lists.
   */
  private static final java.util.Set<String> OTHERS =
      java.util.Arrays.stream(CrewChiefCli.class.getAnnotation(Command.class).subcommands())
          .map(c -> c.getAnnotation(Command.class).name())
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  /**
   * Whether the command line may involve `start`: unless its first word that is not the global
   * --config option is another subcommand.
   */
  static boolean mayNeedStart(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-c") || a.equals("--config")) {
        i++;
      } else if (!a.startsWith("--config=") && !(a.startsWith("-c") && a.length() > 2)) {
        return !OTHERS.contains(a);
      }
    }
    return true;
  }

  private static StatusRuntimeException statusOf(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof StatusRuntimeException s) {
        return s;
      }
    }
    return null;
  }

  Session session() {
    return new Session(env, config);
  }

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
}
