package dev.crewchief.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crewchief.config.PersonConfig;
import dev.crewchief.release.DecisionSignature;
import dev.crewchief.release.GateDecision;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code crewchief sign}: a signed decision as the Web UI's Send signal payload, for gates that
 * take signed decisions only. Nothing is sent: paste the payload into the UI, within the gate's
 * bound on a decision's age (a minute unless configured).
 */
@Command(
    name = "sign",
    description = {
      "Print a signed gate decision as the Web UI's Send signal payload (signal gateDecision).",
      "Nothing is sent; paste it within a minute (the gate's bound on a decision's age)."
    })
final class SignCmd implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @ParentCommand CrewChiefCli cli;

  @picocli.CommandLine.Mixin CrewChiefCli.HelpOption help;

  @Parameters(index = "0", description = "the release id")
  String release;

  @Parameters(index = "1", description = "the gate")
  String gate;

  @Option(names = "--as", required = true, description = "who decides")
  String approver;

  @Option(names = "--reject", description = "a rejection (default: an approval)")
  boolean reject;

  @Option(
      names = {"-m", "--comment"},
      description = "why",
      defaultValue = "")
  String comment;

  @Option(
      names = "--sign-with",
      paramLabel = "KEY",
      description =
          "a private key file, or a .pub whose key is in the ssh-agent (default: the approver's"
              + " configured public key through the ssh-agent)")
  Path signWith;

  @Option(
      names = "--choice",
      paramLabel = "OPTION",
      description = "at a gate that offers choices, the option approved (signed with the rest)")
  String choice;

  @Override
  public Integer call() {
    GateDecision.Decision decision =
        reject ? GateDecision.Decision.REJECT : GateDecision.Decision.APPROVE;
    Instant issuedAt = Instant.now();
    byte[] message =
        DecisionSignature.message(release, gate, decision.name(), approver, issuedAt, choice);
    String signature;
    if (signWith != null) {
      signature = SshSigner.sign(message, signWith, cli.env);
    } else {
      try (Session s = cli.session()) {
        PersonConfig person = s.person(release, approver);
        if (person == null || person.publicKey() == null) {
          throw new IllegalArgumentException(
              "no public key is configured for "
                  + approver
                  + " in this release's environment: pass --sign-with KEY");
        }
        signature = SshSigner.signWithAgent(message, person.publicKey(), cli.env);
      }
    }
    ObjectNode payload = JSON.createObjectNode();
    payload.put("gate", gate);
    payload.put("decision", decision.name());
    payload.put("approver", approver);
    payload.put("comment", comment);
    payload.put("issuedAt", issuedAt.toString());
    payload.put("signature", signature);
    if (choice != null) {
      payload.put("choice", choice);
    }
    cli.out.println(payload.toString());
    return 0;
  }
}
