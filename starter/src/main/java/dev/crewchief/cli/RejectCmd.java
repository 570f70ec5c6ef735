package dev.crewchief.cli;

import dev.crewchief.release.GateDecision;
import picocli.CommandLine.Command;

@Command(name = "reject", description = "Reject a gate: the release rolls back and fails.")
final class RejectCmd extends DecideCmd {
  @Override
  GateDecision.Decision decision() {
    return GateDecision.Decision.REJECT;
  }
}
