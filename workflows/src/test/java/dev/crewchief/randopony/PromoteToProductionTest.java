package dev.crewchief.randopony;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
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
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseStatus;
import dev.crewchief.release.StepStatus;
import dev.crewchief.release.TestReleases;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
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
            new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", "ok"));
    assertEquals(GateStatus.APPROVED, view.status());
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
                r -> r.expect().equals("randopony2014r1") && "prod.test".equals(r.hostHeader())));
    verify(host, never()).runCommand(argThat(r -> r.command().contains("initialize_RandoPony_db")));
  }

  @Test
  void noPreviousReleaseCreatesAFreshDatabase(TestWorkflowEnvironment env, WorkflowClient client) {
    PromoteToProduction wf = start(client, "2014r1", null, false, GateConfig.OnTimeout.ROLLBACK);
    awaitGate(env, wf);
    wf.decideGate(new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
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
        new GateDecision("confirm-release", GateDecision.Decision.REJECT, "alice", "not yet"));
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
    WorkflowUpdateException refused =
        assertThrows(
            WorkflowUpdateException.class,
            () ->
                wf.decideGate(
                    new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "bob", "")));
    assertTrue(
        refused.getCause().getMessage().contains("may not decide"),
        refused.getCause().getMessage());
    WorkflowUpdateException unknown =
        assertThrows(
            WorkflowUpdateException.class,
            () ->
                wf.decideGate(
                    new GateDecision("go-live", GateDecision.Decision.APPROVE, "alice", "")));
    assertTrue(unknown.getCause().getMessage().contains("unknown gate 'go-live'"));

    // The Web UI path: a signal from someone not allowed is recorded as refused.
    wf.gateDecision(
        new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "mallory", ""));
    env.sleep(Duration.ofSeconds(1));
    var gate = wf.progress().gates().get(0);
    assertEquals(GateStatus.WAITING, gate.status());
    assertTrue(
        gate.refusals().get(0).contains("'mallory' may not decide"), gate.refusals().toString());

    wf.gateDecision(
        new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", "via UI"));
    ReleaseResult result = WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
    assertEquals("signal", result.progress().gates().get(0).via());
    // A finished release takes no more decisions.
    assertThrows(
        RuntimeException.class,
        () ->
            wf.decideGate(
                new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", "")));
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
    wf.decideGate(new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
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
    wf.decideGate(new GateDecision("confirm-release", GateDecision.Decision.APPROVE, "alice", ""));
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
