package dev.crewchief.randopony;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.NginxConfig;
import dev.crewchief.release.DecisionReply;
import dev.crewchief.release.DecisionSignature;
import dev.crewchief.release.Decisions;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.Person;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseStatus;
import dev.crewchief.release.StepStatus;
import dev.crewchief.release.TestReleases;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.InOrder;

/** PromoteToProduction with mocked activities and time skipping: every branch. */
class PromoteToProductionTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow =
      TestReleases.extension(PromoteToProductionImpl.class, StagingDeployImpl.class);

  RemoteHostActivities host;
  ProxyActivities proxy;
  NotifyActivities notify;

  static final RandoPonySite SITE =
      new RandoPonySite(
          new HostRef("web", "127.0.0.1", 22, "rp", "file:/secrets/key", "/etc/known_hosts"),
          "randopony",
          "/home/rp/webapps",
          "/src/randopony-tetra",
          "randopony-tetra",
          "/usr/bin/python3",
          "supervisord",
          "supervisorctl",
          "/home/rp/archive",
          "staging.test",
          "prod.test",
          List.of("myapp"),
          Map.of("2013r1", 19306, "2014r1", 19307),
          new NginxConfig(
              "/n/sites",
              "127.0.0.1:8080",
              "/n/nginx.pid",
              "nginx -t",
              "nginx -s reload",
              "http://127.0.0.1:8080/"));

  static ReleaseContext context(String version, boolean dryRun, GateConfig.OnTimeout onTimeout) {
    return new ReleaseContext(
        PromoteToProduction.RUNBOOK,
        "prod",
        version,
        dryRun,
        "tester",
        Map.of("crew-chief", List.of("alice"), "driver", List.of("bob")),
        Map.of(
            PromoteToProduction.CONFIRM_GATE,
            new GateConfig(
                List.of("crew-chief"), Duration.ofHours(2), Duration.ofMinutes(30), onTimeout)),
        List.of());
  }

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    host = mock(RemoteHostActivities.class, withSettings().withoutAnnotations());
    proxy = mock(ProxyActivities.class, withSettings().withoutAnnotations());
    notify = mock(NotifyActivities.class, withSettings().withoutAnnotations());
    when(host.runCommand(any()))
        .thenAnswer(
            i -> new ActionResult(((CommandRequest) i.getArgument(0)).command(), false, ""));
    when(host.archiveAndDelete(any())).thenReturn(new ActionResult("archived", false, ""));
    when(host.syncDirectory(any())).thenReturn(new SyncResult("synced", false, List.of(), 0));
    when(proxy.switchSite(any())).thenReturn(new SwitchResult("switched", false, "", null));
    when(proxy.probe(any())).thenReturn(new ActionResult("probed", false, "200"));
    worker.registerActivitiesImplementations(host, proxy, notify);
    env.start();
  }

  PromoteToProduction start(
      WorkflowClient client,
      String version,
      String previous,
      boolean dryRun,
      GateConfig.OnTimeout onTimeout) {
    PromoteToProduction wf =
        client.newWorkflowStub(
            PromoteToProduction.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(PromoteToProduction.RUNBOOK, "prod", version))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowClient.start(
        wf::promote, new PromoteRequest(context(version, dryRun, onTimeout), SITE, previous));
    return wf;
  }

  String taskQueue;

  @BeforeEach
  void queue(Worker worker) {
    taskQueue = worker.getTaskQueue();
  }

  static void awaitGate(TestWorkflowEnvironment env, PromoteToProduction wf) {
    for (int i = 0; i < 200; i++) {
      if (wf.progress().gates().get(0).status() == GateStatus.WAITING) {
        return;
      }
      env.sleep(Duration.ofMillis(50));
    }
    throw new AssertionError("gate never opened");
  }

  static CommandRequest cmd(String stepStart) {
    return argThat(r -> r != null && r.step().startsWith(stepStart));
  }

  static SiteRequest site(String stepStart) {
    return argThat(r -> r != null && r.step().startsWith(stepStart));
  }

  static String failureType(WorkflowFailedException e) {
    return ((ApplicationFailure) e.getCause()).getType();
  }

  @Test
  void approvedPromotionMovesDataInRunbookOrder(
      TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    var view =
        wf.decideGate(
            Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", "ok"));
    assertTrue(view.accepted(), view.reason());
    assertEquals(GateStatus.APPROVED, view.gate().status());
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);

    assertTrue(result.summary().contains("with the data of 2013r1"), result.summary());
    assertEquals(ReleaseStatus.SUCCEEDED, result.progress().status());
    assertEquals("alice", result.progress().gates().get(0).decidedBy());
    assertEquals("update", result.progress().gates().get(0).via());
    InOrder order = inOrder(host, proxy);
    order.verify(host).runCommand(cmd("stop staging app"));
    order.verify(host).runCommand(cmd("stop staging supervisor"));
    order
        .verify(host)
        .archiveAndDelete(
            argThat(
                r ->
                    r.paths().contains("RandoPony-staging.sqlite")
                        && r.paths().contains("pyramid.log")));
    order.verify(host).runCommand(cmd("replace staging.ini"));
    order.verify(host).runCommand(cmd("stop old production app 2013r1"));
    order.verify(host).runCommand(cmd("stop old production supervisor"));
    order
        .verify(proxy)
        .switchSite(argThat(r -> r.upstreamPort() == null && r.domain().equals("prod.test")));
    order.verify(host).runCommand(cmd("copy production and celery databases"));
    order.verify(proxy).switchSite(argThat(r -> Integer.valueOf(19307).equals(r.upstreamPort())));
    order.verify(host).runCommand(cmd("start app"));
    order.verify(host).runCommand(cmd("start production supervisor"));
    order
        .verify(proxy)
        .probe(
            argThat(
                r ->
                    r.expect() == null && r.status() == 200 && "prod.test".equals(r.hostHeader())));
    verify(host, never()).runCommand(argThat(r -> r.command().contains("initialize_RandoPony_db")));
  }

  @Test
  void noPreviousReleaseCreatesAFreshDatabase(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf = start(client, "2014r1", null, false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    wf.decideGate(Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertTrue(result.summary().contains("fresh database"));
    verify(host)
        .runCommand(argThat(r -> r.command().contains("initialize_RandoPony_db production.ini")));
    verify(host, never()).runCommand(cmd("stop old production"));
    verify(proxy, never()).switchSite(argThat(r -> r.upstreamPort() == null));
  }

  @Test
  void rejectedGateFailsWithoutTouchingTheHost(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    wf.decideGate(
        Decisions.at(env, "confirm-release", GateDecision.Decision.REJECT, "alice", "not yet"));
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    assertEquals("GateRejected", failureType(e));
    verify(host, never()).runCommand(any());
    verify(proxy, never()).switchSite(any());
  }

  @Test
  void wrongApproverIsRefusedAndTheReleaseKeepsWaiting(
      TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    DecisionReply refused =
        wf.decideGate(
            Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "bob", ""));
    assertFalse(refused.accepted());
    assertTrue(refused.reason().contains("may not decide"), refused.reason());
    DecisionReply unknown =
        wf.decideGate(Decisions.at(env, "go-live", GateDecision.Decision.APPROVE, "alice", ""));
    assertFalse(unknown.accepted());
    assertTrue(unknown.reason().contains("unknown gate 'go-live'"), unknown.reason());

    // The Web UI path: a signal from someone not allowed is recorded as refused.
    WorkflowStub stub = WorkflowStub.fromTyped(wf);
    Decisions.signal(
        stub, Map.of("gate", "confirm-release", "decision", "APPROVE", "approver", "mallory"));
    env.sleep(Duration.ofSeconds(1));
    var gate = wf.progress().gates().get(0);
    assertEquals(GateStatus.WAITING, gate.status());
    // Every refusal, the CLI's included, is kept with the gate, with how it came and from whom.
    assertEquals(2, gate.refusals().size(), gate.refusals().toString());
    assertTrue(
        gate.refusals().get(0).contains("refused (update from bob): 'bob' may not decide"),
        gate.refusals().toString());
    assertTrue(
        gate.refusals().get(1).contains("refused (signal from mallory): 'mallory' may not decide"),
        gate.refusals().toString());

    Decisions.signal(
        stub,
        Map.of(
            "gate",
            "confirm-release",
            "decision",
            "APPROVE",
            "approver",
            "alice",
            "comment",
            "via UI"));
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertEquals("signal", result.progress().gates().get(0).via());
    // A finished release takes no more decisions.
    assertThrows(
        RuntimeException.class,
        () ->
            wf.decideGate(
                Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", "")));
  }

  @Test
  void aDecisionThatArrivesStaleOrWithoutItsTimeIsRefused(
      TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    Instant now = Instant.ofEpochMilli(env.currentTimeMillis());
    DecisionReply stale =
        wf.decideGate(
            GateDecision.now(
                "confirm-release",
                GateDecision.Decision.APPROVE,
                "alice",
                "sent while the worker was down",
                now.minus(Duration.ofMinutes(5))));
    assertFalse(stale.accepted());
    assertTrue(stale.reason().startsWith("stale: issued at"), stale.reason());
    DecisionReply future =
        wf.decideGate(
            GateDecision.now(
                "confirm-release",
                GateDecision.Decision.APPROVE,
                "alice",
                "",
                now.plus(Duration.ofMinutes(10))));
    assertFalse(future.accepted());
    assertTrue(future.reason().contains("clocks"), future.reason());
    DecisionReply timeless =
        wf.decideGate(
            new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
    assertFalse(timeless.accepted());
    assertTrue(timeless.reason().contains("issuedAt"), timeless.reason());
    // A signal that says when it was issued is held to the same bound.
    Decisions.signal(
        WorkflowStub.fromTyped(wf),
        Map.of(
            "gate",
            "confirm-release",
            "decision",
            "APPROVE",
            "approver",
            "alice",
            "issuedAt",
            now.minus(Duration.ofHours(1)).toString()));
    env.sleep(Duration.ofSeconds(1));
    var gate = wf.progress().gates().get(0);
    assertEquals(GateStatus.WAITING, gate.status());
    assertEquals(4, gate.refusals().size(), gate.refusals().toString());
    assertTrue(
        gate.refusals().get(3).contains("(signal from alice): stale"), gate.refusals().get(3));
    // One within the bound passes.
    assertTrue(
        wf.decideGate(
                Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", "ok"))
            .accepted());
    WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
  }

  /** An SSH key made by ssh-keygen for this test: its private key file and public key line. */
  record Key(Path file, String publicLine) {
    static Key make(Path dir, String name) throws Exception {
      Path file = dir.resolve(name);
      run(null, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file.toString());
      return new Key(file, Files.readString(Path.of(file + ".pub")).strip());
    }

    /** The armored signature `ssh-keygen -Y sign -n crewchief` makes of the message. */
    String sign(byte[] message) throws Exception {
      return run(message, "ssh-keygen", "-Y", "sign", "-n", "crewchief", "-f", file.toString());
    }

    private static String run(byte[] stdin, String... cmd) throws Exception {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin);
      }
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + err);
      return out;
    }
  }

  @Test
  void aGateThatRequiresSignaturesTakesOnlyTheApproversValidSignature(
      TestWorkflowEnvironment env, WorkflowClient client, @TempDir Path dir) throws Exception {
    Key alice = Key.make(dir, "alice");
    Key mallory = Key.make(dir, "mallory");
    ReleaseContext ctx =
        new ReleaseContext(
            PromoteToProduction.RUNBOOK,
            "prod",
            "2014r1",
            false,
            "tester",
            Map.of("crew-chief", List.of("alice")),
            Map.of(
                PromoteToProduction.CONFIRM_GATE,
                new GateConfig(
                    List.of("crew-chief"),
                    Duration.ofHours(2),
                    Duration.ofMinutes(30),
                    GateConfig.OnTimeout.ROLLBACK,
                    true,
                    null)),
            List.of(),
            Map.of("alice", new Person("alice@example.org", alice.publicLine())),
            null);
    String id = ReleaseIds.workflowId(PromoteToProduction.RUNBOOK, "prod", "2014r1");
    PromoteToProduction wf =
        client.newWorkflowStub(
            PromoteToProduction.class,
            WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(taskQueue).build());
    WorkflowClient.start(wf::promote, new PromoteRequest(ctx, SITE, "2013r1"));
    awaitGate(env, wf);
    assertTrue(wf.progress().gates().get(0).signatureRequired());
    // Alice is told, at her address, with the exact command and how to sign. The notification is
    // an activity scheduled with the gate: it may still be on its way when the gate shows.
    verify(notify, timeout(10_000))
        .notify(
            argThat(
                (Notification n) ->
                    n.kind() == Notification.Kind.GATE_OPEN
                        && n.addresses().equals(List.of("alice@example.org"))
                        && n.body()
                            .contains(
                                "crewchief approve "
                                    + id
                                    + " confirm-release --as NAME -m \"why\" --sign-with")
                        && n.body().contains("crewchief sign " + id + " confirm-release")));

    GateDecision unsigned =
        Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", "ok");
    DecisionReply missing = wf.decideGate(unsigned);
    assertFalse(missing.accepted());
    assertTrue(missing.reason().contains("takes signed decisions only"), missing.reason());

    byte[] message =
        DecisionSignature.message(id, "confirm-release", "APPROVE", "alice", unsigned.issuedAt());
    DecisionReply wrongKey = wf.decideGate(unsigned.signed(mallory.sign(message)));
    assertFalse(wrongKey.accepted());
    assertTrue(wrongKey.reason().startsWith("signature refused for alice"), wrongKey.reason());

    // Alice's signature of another decision (a rejection) does not pass for an approval.
    byte[] rejection =
        DecisionSignature.message(id, "confirm-release", "REJECT", "alice", unsigned.issuedAt());
    DecisionReply replayed = wf.decideGate(unsigned.signed(alice.sign(rejection)));
    assertFalse(replayed.accepted());
    assertTrue(replayed.reason().contains("does not match"), replayed.reason());

    DecisionReply signed = wf.decideGate(unsigned.signed(alice.sign(message)));
    assertTrue(signed.accepted(), signed.reason());
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertEquals(ReleaseStatus.SUCCEEDED, result.progress().status());
    assertEquals(3, result.progress().gates().get(0).refusals().size());
    assertTrue(
        result.progress().steps().stream()
            .anyMatch(
                st ->
                    st.name().equals("gate: confirm-release") && st.detail().contains("(signed)")),
        result.progress().steps().toString());
  }

  @Test
  void malformedWebUiSignalsAreRefusedWithTheReasonAndTheReleaseKeepsWaiting(
      TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    WorkflowStub stub = WorkflowStub.fromTyped(wf);
    Decisions.signal(stub, "approve");
    Decisions.signal(stub, List.of());
    Decisions.signal(stub, Map.of("gate", 5));
    Decisions.signal(
        stub, Map.of("gate", "confirm-release", "decision", "YES", "approver", "alice"));
    Decisions.signal(
        stub, Map.of("gate", "confirm-release", "decision", "APPROVE", "aprover", "alice"));
    stub.signal("approveGate", Map.of("gate", "confirm-release"));
    env.sleep(Duration.ofSeconds(1));
    ReleaseProgress p = wf.progress();
    assertEquals(GateStatus.WAITING, p.gates().get(0).status());
    List<String> refused = new java.util.ArrayList<>(p.notes());
    refused.addAll(p.gates().get(0).refusals());
    String all = String.join("\n", refused);
    assertTrue(all.contains("must be a JSON object, found a string \"approve\""), all);
    assertTrue(all.contains("must be a JSON object, found an array []"), all);
    assertTrue(all.contains("\"gate\" must be a string, found a number 5"), all);
    assertTrue(all.contains("\"decision\" must be \"APPROVE\" or \"REJECT\", found \"YES\""), all);
    assertTrue(all.contains("unknown field 'aprover'"), all);
    assertTrue(all.contains("this release takes no signal 'approveGate'"), all);
    assertEquals(6, refused.stream().filter(r -> r.contains(" refused (")).count(), all);
    // They are in the history too, as they happen (the report reads them from there).
    String history = client.fetchHistory(stub.getExecution().getWorkflowId()).toJson(false);
    assertTrue(history.contains("CrewChiefRefusals"), "refusals recorded in the memo");
    assertTrue(
        wf.decideGate(
                Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", ""))
            .accepted());
    WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
  }

  @Test
  void timeoutWithRollbackFailsAndReminds(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    assertEquals("GateTimedOut", failureType(e));
    verify(notify, atLeastOnce())
        .notify(argThat((Notification n) -> n.kind() == Notification.Kind.GATE_REMINDER));
    verify(host, never()).runCommand(any());
  }

  @Test
  void timeoutWithProceedCarriesOn(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf = start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.PROCEED);
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertEquals(GateStatus.TIMED_OUT, result.progress().gates().get(0).status());
    verify(host).runCommand(cmd("start app"));
  }

  @Test
  void failingStepRollsBackInReverseOrder(TestWorkflowEnvironment env, WorkflowClient client) {
    when(proxy.switchSite(
            argThat(r -> r != null && Integer.valueOf(19307).equals(r.upstreamPort()))))
        .thenThrow(ApplicationFailure.newNonRetryableFailure("boom", "NginxConfigRejected"));
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    wf.decideGate(Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    assertEquals("NginxConfigRejected", failureType(e));
    assertTrue(
        e.getCause().getMessage().contains("attach production domain to 2014r1"),
        e.getCause().getMessage());
    InOrder order = inOrder(host, proxy);
    order.verify(proxy).switchSite(site("attach production domain to 2014r1"));
    order.verify(proxy).switchSite(site("detach production domain from 2014r1"));
    order.verify(host).runCommand(cmd("remove copied databases"));
    order
        .verify(proxy)
        .switchSite(
            argThat(
                r ->
                    r.step().startsWith("production domain back to 2013r1")
                        && Integer.valueOf(19306).equals(r.upstreamPort())));
    order.verify(host).runCommand(cmd("start old production supervisor"));
    order.verify(host).runCommand(cmd("start old production app"));
    order.verify(host).runCommand(cmd("staging.ini back in place"));
    order
        .verify(host)
        .runCommand(
            argThat(
                r ->
                    r.step().equals("restore staging data")
                        && r.command()
                            .contains("tar -xzf /home/rp/archive/randopony2014r1-staging-")));
    order.verify(host).runCommand(cmd("start staging supervisor"));
    order.verify(host).runCommand(cmd("start staging app"));
    verify(host, never()).runCommand(cmd("start app"));
  }

  @Test
  void dryRunRehearsesEveryStep(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf = start(client, "2014r1", "2013r1", true, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    wf.decideGate(Decisions.at(env, "confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertTrue(result.summary().startsWith("rehearsed"));
    verify(host, never()).runCommand(argThat(r -> !r.dryRun()));
    verify(proxy, never()).switchSite(argThat(r -> !r.dryRun()));
    verify(host, never()).archiveAndDelete(argThat(r -> !r.dryRun()));
    // A rehearsal holds no lane (it changes nothing); every other step is rehearsed.
    assertTrue(
        result.progress().steps().stream()
            .anyMatch(
                s -> s.name().startsWith("hold the lane") && s.status() == StepStatus.SKIPPED));
    assertTrue(
        result.progress().steps().stream()
            .filter(s -> !s.name().startsWith("gate") && !s.name().startsWith("hold the lane"))
            .allMatch(s -> s.status() == StepStatus.REHEARSED));
  }

  @Test
  void cancelWhileWaitingEndsCancelled(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf =
        start(client, "2014r1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    WorkflowStub.fromTyped(wf).cancel();
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    assertInstanceOf(CanceledFailure.class, e.getCause());
  }

  @Test
  void malformedReleaseFailsFastWithInvalidInput(
      TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf = start(client, "36-1", "2013r1", false, GateConfig.OnTimeout.ROLLBACK);
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class,
            () -> WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class));
    assertEquals("InvalidInput", failureType(e));
    assertTrue(e.getCause().getMessage().contains("not a RandoPony release id"));
    verify(host, never()).runCommand(any());
  }
}
