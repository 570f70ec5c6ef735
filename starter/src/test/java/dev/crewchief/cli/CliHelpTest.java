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
        "cancel"
      })
  void helpIsAnsweredWithExitCodeZero(String command) {
    String[] args = (command + " --help").split(" ");
    assertEquals(0, CrewChiefCli.run(args, Map.of()), command);
  }

  @ParameterizedTest
  @ValueSource(strings = {"start atmosphere-deploy --env prod", "start atmosphere-hotfix"})
  void aMissingRequiredOptionIsAUsageError(String command) {
    assertEquals(2, CrewChiefCli.run(command.split(" "), Map.of()), command);
  }
}
