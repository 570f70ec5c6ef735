package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every command answers --help with its usage and exit code 0, before any config is read. */
class CliHelpTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "start randopony-staging",
        "start randopony-promote",
        "start atmosphere-hotfix",
        "start atmosphere-deploy",
        "start atmosphere-release",
        "approve",
        "reject",
        "status",
        "watch",
        "list",
        "report",
        "cancel",
        "sign"
      })
  void helpIsAnsweredWithExitCodeZero(String command) {
    String[] args = (command + " --help").split(" ");
    assertEquals(0, CrewChiefCli.run(args, Map.of()), command);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "start atmosphere-deploy --env prod",
        "start atmosphere-hotfix",
        // An unknown runbook or command is a usage error with a "did you mean", never a silent
        // exit 0 (a subcommand's --version is no version flag of the CLI's).
        "start randopony-stage --env prod --version 2014r1",
        "start --version",
        "approve --version",
        "aprove release-x gate"
      })
  void aMissingRequiredOptionIsAUsageError(String command) {
    assertEquals(2, CrewChiefCli.run(command.split(" "), Map.of()), command);
  }

  /** The CLI's exit code and what it wrote to stderr. */
  static String[] runCapturingErr(String command) {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    java.io.PrintStream saved = System.err;
    int code;
    try {
      System.setErr(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
      code = CrewChiefCli.run(command.split(" "), Map.of());
    } finally {
      System.setErr(saved);
    }
    return new String[] {
      String.valueOf(code), buf.toString(java.nio.charset.StandardCharsets.UTF_8)
    };
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "start randopony-stage --env prod --version 2014r1|Did you mean: start randopony-staging"
            + " or start randopony-promote",
        "start --version|Unknown option: '--version'",
        "approve --version|Missing required parameters: '<release>', '<gate>'",
        "aprove release-x gate|Did you mean: crewchief approve?",
        "start atmosphere-deploy --env prod|Missing required options: '--version=VERSION',"
            + " '--driver=NAME'",
        // Refused before anything connects or an embedded server starts.
        "--config ../deploy/examples/randopony.yaml start randopony-promote --env prod --version"
            + " 2014r1 --previous 2013r1 --dry-run --approve-as ken|crewchief: --approve-as ken:"
            + " nobody named may pass gate confirm-release (it needs crew-chief: doug); name one of"
            + " them, e.g. --approve-as doug",
        "--config ../deploy/examples/atmosphere.yaml start atmosphere-deploy --env prod --version"
            + " 36-1 --driver andy|crewchief: --driver andy does not hold the role driver in prod"
            + " (driver: sgregory, cdosborn; see environments.prod.approvers in",
        "--config ../deploy/examples/atmosphere.yaml start atmosphere-release --env prod --version"
            + " 36-1 --crew-chief sgregory --driver andy --window 2099-01-13T16:00:00Z|crewchief:"
            + " --crew-chief sgregory does not hold the role crew-chief in prod",
        "--config ../deploy/examples/atmosphere.yaml start atmosphere-release --env prod --version"
            + " 36-1 --crew-chief andy --driver sgregory --window 2020-01-13T16:00:00Z|is in the"
            + " past (it is now ",
        "--config ../deploy/examples/randopony.yaml start randopony-staging --env nosuch"
            + " --version 2014r1|environments.nosuch: unknown environment 'nosuch'; known: prod"
      })
  void aUsageErrorSaysWhatIsWrong(String command, String message) {
    String[] r = runCapturingErr(command);
    assertEquals("2", r[0], r[1]);
    org.junit.jupiter.api.Assertions.assertTrue(r[1].contains(message), r[1]);
  }

  /** `start` is built only for command lines that may involve it (it loads every runbook). */
  @org.junit.jupiter.api.Test
  void startIsBuiltOnlyWhereItMayBeNeeded() {
    for (String line :
        new String[] {
          "start randopony-promote --help", "--help", "", "stauts x", "-c f.yaml start", "--version"
        }) {
      assertEquals(
          true, CrewChiefCli.mayNeedStart(line.isEmpty() ? new String[0] : line.split(" ")), line);
    }
    for (String line :
        new String[] {
          "status release-x",
          "-c f.yaml list",
          "--config f.yaml report x",
          "--config=f.yaml watch x",
          "-cf.yaml approve x g"
        }) {
      assertEquals(false, CrewChiefCli.mayNeedStart(line.split(" ")), line);
    }
  }
}
