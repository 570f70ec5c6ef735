package dev.crewchief.cli;

import dev.crewchief.config.PersonConfig;
import dev.crewchief.release.DecisionReply;
import dev.crewchief.release.DecisionSignature;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseProgress;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.client.WorkflowClient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code approve} and {@code reject}: a decision at a gate, sent as an update that carries the time
 * it was issued (and, where the gate requires it, the approver's SSH signature). It is sent only
 * when a worker polls the release's task queue, and waited for at most half a minute: a decision
 * must not land minutes after the approver gave up, which the gate's own bound on a decision's age
 * enforces on the worker's side too.
 */
abstract class DecideCmd implements Callable<Integer> {
  static final long ANSWER_SECONDS = 30;
  static final int LIVENESS_SECONDS = 5;

  @ParentCommand CrewChiefCli cli;

  @picocli.CommandLine.Mixin CrewChiefCli.HelpOption help;

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

  @Option(
      names = "--sign-with",
      paramLabel = "KEY",
      description =
          "sign the decision with this SSH key: a private key file, or a .pub whose key is in the"
              + " ssh-agent (default for gates that require signatures: the approver's configured"
              + " public key through the ssh-agent)")
  Path signWith;

  @Option(
      names = "--choice",
      paramLabel = "OPTION",
      description =
          "at a gate that offers choices (metaspace-release's strategy), approve this option"
              + " instead of the one it proposes; give the reason with -m")
  String choice;

  abstract GateDecision.Decision decision();

  @Override
  public Integer call() {
    try (Session s = cli.session()) {
      WorkflowClient client = s.client(false);
      WorkflowExecutionInfo info = Releases.requireRunning(s.stubs(), s.namespace(), release);
      String queue = info.getTaskQueue().isEmpty() ? s.taskQueue() : info.getTaskQueue();
      if (!s.embedded() && !Releases.workerPolls(s.stubs(), s.namespace(), queue)) {
        throw new Releases.Refused(
            "no worker polls task queue '"
                + queue
                + "' (none in the last two minutes): the decision was not sent. Start the worker"
                + " (deploy/bin/crewchief-worker), then decide again");
      }
      // A worker that polled a minute ago may be gone: the release itself must answer, now, or
      // nothing is sent. Its answer also says whether the gate takes signed decisions only.
      ReleaseProgress p = Releases.progressWithin(client, release, LIVENESS_SECONDS);
      if (p == null) {
        throw new Releases.Refused(
            "no worker answered for release "
                + release
                + " within "
                + LIVENESS_SECONDS
                + " s: the decision was not sent. Start the worker (deploy/bin/crewchief-worker),"
                + " then decide again");
      }
      ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, release);
      GateDecision d =
          GateDecision.now(gate, decision(), approver, comment, Instant.now()).choosing(choice);
      d = sign(s, p, d);
      DecisionReply reply = send(stub, d);
      if (!reply.accepted()) {
        throw new Releases.Refused("refused: " + reply.reason());
      }
      GateView v = reply.gate();
      cli.out.println(
          "accepted: gate "
              + v.name()
              + " "
              + v.status()
              + " by "
              + v.decidedBy()
              + (d.signature() == null ? "" : " (signed)")
              + (v.choice() == null ? "" : ", choosing " + v.choice())
              + " at "
              + v.decidedAt());
      return 0;
    }
  }

  /** The decision signed where asked, or where the gate requires it. */
  private GateDecision sign(Session s, ReleaseProgress p, GateDecision d) {
    boolean required =
        p.gates().stream().anyMatch(g -> g.name().equals(gate) && g.signatureRequired());
    if (signWith == null && !required) {
      return d;
    }
    byte[] message =
        DecisionSignature.message(
            release, gate, d.decision().name(), approver, d.issuedAt(), d.choice());
    if (signWith != null) {
      return d.signed(SshSigner.sign(message, signWith, s.env));
    }
    PersonConfig person = s.person(release, approver);
    if (person == null || person.publicKey() == null) {
      throw new IllegalArgumentException(
          "gate "
              + gate
              + " takes signed decisions only: pass --sign-with KEY (your SSH key), or configure"
              + " people."
              + approver
              + ".publicKey and load the key into ssh-agent");
    }
    return d.signed(SshSigner.signWithAgent(message, person.publicKey(), s.env));
  }

  private static DecisionReply send(ReleaseControl stub, GateDecision d) {
    CompletableFuture<DecisionReply> answer =
        CompletableFuture.supplyAsync(() -> stub.decideGate(d));
    try {
      return answer.get(ANSWER_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      answer.cancel(true);
      throw new Releases.Refused(
          "no answer within "
              + ANSWER_SECONDS
              + " s: the release has not taken the decision. Should it arrive later than the"
              + " gate's bound (a minute unless configured), the gate refuses it; `crewchief"
              + " status` shows what happened");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Releases.Refused("interrupted before the release answered");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw new Releases.Refused(
          "the decision could not be sent: " + (c == null ? e.getMessage() : c.getMessage()));
    }
  }
}
