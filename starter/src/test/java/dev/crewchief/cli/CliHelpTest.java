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
}
