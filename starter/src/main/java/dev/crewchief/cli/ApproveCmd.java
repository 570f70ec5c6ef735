package dev.crewchief.cli;

import dev.crewchief.release.GateDecision;
import picocli.CommandLine.Command;

@Command(name = "approve", description = "Approve a gate of a running release.")
final class ApproveCmd extends DecideCmd {
  @Override
  GateDecision.Decision decision() {
    return GateDecision.Decision.APPROVE;
  }
}
