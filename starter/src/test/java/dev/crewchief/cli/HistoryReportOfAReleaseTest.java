package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ArchiveRequest;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Downtime;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.InspectRequest;
import dev.crewchief.activities.LinkSiteRequest;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.PathFacts;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.SyncRequest;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.NginxConfig;
import dev.crewchief.randopony.PromoteRequest;
import dev.crewchief.randopony.PromoteToProduction;
import dev.crewchief.randopony.RandoPonySite;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.runbook.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The report of releases run here on Temporal's test server, read from their histories alone, the
 * way `crewchief report` reads them: a promotion that retried a step, measured a switch, refused
 * requests, skipped a step and failed with an undo that failed too; and a recorded release calendar
 * with its long waits and its beta day.
 */
class HistoryReportOfAReleaseTest {
  static final String ID = ReleaseIds.workflowId(PromoteToProduction.RUNBOOK, "prod", "2014r1");

  @Test
  void aFailedPromotionIsReportedAsItHappened() throws Exception {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    try {
      Worker worker = env.newWorker("report");
      worker.registerWorkflowImplementationTypes(
          ReleaseWorkflow.implementationOptions(), Runbooks.all().workflowImplementations());
      worker.registerActivitiesImplementations(new Host(), new Proxy(), new Quiet());
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      PromoteToProduction wf =
          client.newWorkflowStub(
              PromoteToProduction.class,
              WorkflowOptions.newBuilder().setWorkflowId(ID).setTaskQueue("report").build());
      WorkflowClient.start(wf::promote, new PromoteRequest(context(), site(), null));
      ReleaseControl control = client.newWorkflowStub(ReleaseControl.class, ID);
      for (int i = 0;
          i < 100 && control.progress().gates().get(0).status() != GateStatus.WAITING;
          i++) {
        env.sleep(Duration.ofSeconds(1));
      }
      WorkflowStub stub = WorkflowStub.fromTyped(wf);
      stub.signal("gateDecision", "approve");
      Instant now = Instant.ofEpochMilli(env.currentTimeMillis());
      assertTrue(
          !control
              .decideGate(
                  GateDecision.now(
                      "confirm-release",
                      GateDecision.Decision.APPROVE,
                      "alice",
                      "old",
                      now.minus(Duration.ofMinutes(10))))
              .accepted());
      assertTrue(
          control
              .decideGate(
                  GateDecision.now(
                      "confirm-release", GateDecision.Decision.APPROVE, "alice", "go", now))
              .accepted());
      assertThrows(WorkflowFailedException.class, () -> stub.getResult(ReleaseResult.class));

      HistoryReport r = new HistoryReport(ID, client.fetchHistory(ID).getEvents());
      String md = r.markdown();
      // The release's own outcome, not only the execution's: an undo failed.
      assertTrue(md.contains("- Outcome: FAILED (ROLLBACK_INCOMPLETE)"), md);
      assertTrue(md.contains("ROLLBACK INCOMPLETE"), md);
      // A step retried twice: its attempts, the waits its policy puts between them, the failure.
      assertTrue(md.contains("3 attempts: first scheduled"), md);
      assertTrue(md.contains("waits between attempts by its retry policy: 2 s, 4 s"), md);
      // The rollback, undo by undo, with the one that failed.
      assertTrue(md.contains("## Rollback"), md);
      assertTrue(md.contains("- stop new app: undone"), md);
      assertTrue(
          md.contains(
              "- start staging app: FAILED (bin/start: address in use [RemoteCommandFailed])"),
          md);
      // The lane, held and let go of.
      assertTrue(md.contains("| hold lane-randopony-promote-prod | lane |"), md);
      assertTrue(md.contains("done: let go"), md);
      // The switch's measured downtime, in its row and in a section of its own.
      assertTrue(md.contains("## Downtime measured at the switches"), md);
      assertTrue(
          md.contains("attach production domain to 2014r1: down 150 ms (3 of 40 probes down"), md);
      // The step left out, and why.
      assertTrue(md.contains("## Skipped steps"), md);
      assertTrue(md.contains("- stop old production app: no previous production release"), md);
      // Every request: the refused ones with their reasons, the taken one.
      assertTrue(md.contains("## Decision requests refused"), md);
      assertTrue(md.contains("must be a JSON object, found a string"), md);
      assertTrue(md.contains("-> refused: stale: issued at"), md);
      assertTrue(md.contains("-> taken"), md);
      String html = r.html();
      assertTrue(html.contains("FAILED (ROLLBACK_INCOMPLETE)"), html);
      assertTrue(html.contains("Downtime measured at the switches"), html);
    } finally {
      env.close();
    }
  }

  @Test
  void theReleaseCalendarShowsItsLongWaitsAndItsBetaDay() throws Exception {
    Path file =
        Path.of(
            "../workflows/src/test/resources/histories/atmosphere-release-calendar-images-awaited.json");
    var h = io.temporal.common.WorkflowExecutionHistory.fromJson(Files.readString(file));
    String md = new HistoryReport("release-atmosphere-release-prod-36-1", h.getEvents()).markdown();
    assertTrue(md.matches("(?s).*\\| wait [0-9]+ h [0-9]+ min \\| timer \\|.*done: waited.*"), md);
    assertTrue(
        md.contains(
            "| child release release-atmosphere-release-prod-36-1-beta | child workflow AtmosphereDeploymentDay |"),
        md);
  }

  static ReleaseContext context() {
    return new ReleaseContext(
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
                GateConfig.OnTimeout.ROLLBACK)),
        List.of());
  }

  static RandoPonySite site() {
    return new RandoPonySite(
        new HostRef("web", "127.0.0.1", 22, "rp", "file:/k", "/known"),
        "randopony",
        "/home/rp/webapps",
        "/src/randopony-tetra",
        "randopony-tetra",
        "python3",
        "supervisord",
        "supervisorctl",
        "/home/rp/archive",
        "staging.test",
        "prod.test",
        List.of(),
        Map.of("2014r1", 19307),
        new NginxConfig(
            "/n", "127.0.0.1:8080", "/n/pid", "nginx -t", "nginx -s reload", "http://x/"));
  }

  /** A host that is busy twice, cannot start the new app, and cannot restart the staging one. */
  static final class Host implements RemoteHostActivities {
    final AtomicInteger busy = new AtomicInteger();

    @Override
    public PathFacts inspect(InspectRequest r) {
      return new PathFacts(true, List.of());
    }

    @Override
    public SyncResult syncDirectory(SyncRequest r) {
      return new SyncResult("synced", false, List.of(), 0);
    }

    @Override
    public ActionResult runCommand(CommandRequest r) {
      if (r.step().equals("stop staging app") && busy.incrementAndGet() <= 2) {
        throw ApplicationFailure.newFailure("host busy", "RemoteUnreachable");
      }
      if (r.step().equals("start app") || r.step().equals("start staging app")) {
        throw ApplicationFailure.newNonRetryableFailure(
            "bin/start: address in use", "RemoteCommandFailed");
      }
      return new ActionResult("ran " + r.step(), false, "");
    }

    @Override
    public dev.crewchief.activities.JobResult runJob(dev.crewchief.activities.JobRequest r) {
      throw new UnsupportedOperationException("this release runs no host job");
    }

    @Override
    public ActionResult archiveAndDelete(ArchiveRequest r) {
      return new ActionResult("archived", false, "");
    }
  }

  static final class Proxy implements ProxyActivities {
    @Override
    public SwitchResult switchSite(SiteRequest r) {
      Instant t = Instant.parse("2026-12-02T10:00:00Z");
      return new SwitchResult(
          "switched " + r.domain(),
          false,
          "reloaded",
          new Downtime(40, 3, t, t.plusMillis(100), 150, true));
    }

    @Override
    public SwitchResult linkSite(LinkSiteRequest r) {
      return new SwitchResult("linked", false, "", null);
    }

    @Override
    public ActionResult probe(ProbeRequest r) {
      return new ActionResult("probed", false, "200");
    }

    @Override
    public SwitchResult switchUpstream(UpstreamSwitchRequest r) {
      return new SwitchResult("switched " + r.from() + " to " + r.to(), false, "", null);
    }
  }

  static final class Quiet implements NotifyActivities {
    @Override
    public void notify(Notification n) {}
  }
}
