package dev.crewchief.metaspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.AnsibleActivities;
import dev.crewchief.activities.BranchSync;
import dev.crewchief.activities.ChangeReview;
import dev.crewchief.activities.CiActivities;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.FileContent;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.HttpProbeActivities;
import dev.crewchief.activities.JobRequest;
import dev.crewchief.activities.JobResult;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SupervisorActivities;
import dev.crewchief.activities.WebhookActivities;
import dev.crewchief.release.DecisionReply;
import dev.crewchief.release.Decisions;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.GateStatus;
import dev.crewchief.release.GateView;
import dev.crewchief.release.ReleaseIds;
import dev.crewchief.release.ReleaseProgress;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseStatus;
import dev.crewchief.release.StepState;
import dev.crewchief.release.StepStatus;
import dev.crewchief.release.TestReleases;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.InOrder;

/**
 * MetaspaceRelease with mocked activities and time skipping: the strategy gate, CI, branches and
 * tag, each strategy in the runbook's order, each destroy gate and each rollback.
 */
class MetaspaceReleaseTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow =
      TestReleases.extension(MetaspaceReleaseImpl.class);

  static final String ES_FIELDS = "metaspace/engine/sm/engine/es_export.py";
  static final String MAPPINGS = "metaspace/engine/sm/engine/es_core.py";
  static final String ENGINE_MIGRATION = "metaspace/engine/migrations/r1_8.py";

  GitActivities git;
  CiActivities ci;
  AnsibleActivities ansible;
  ElasticsearchActivities es;
  RemoteHostActivities host;
  SupervisorActivities supervisor;
  Ec2Activities ec2;
  WebhookActivities admin;
  NotifyActivities notify;
  HttpProbeActivities probe;
  String taskQueue;
  List<String> changedFiles;
  final AtomicReference<List<String>> serving = new AtomicReference<>();

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    git = mock(GitActivities.class, withSettings().withoutAnnotations());
    ci = mock(CiActivities.class, withSettings().withoutAnnotations());
    ansible = mock(AnsibleActivities.class, withSettings().withoutAnnotations());
    es = mock(ElasticsearchActivities.class, withSettings().withoutAnnotations());
    host = mock(RemoteHostActivities.class, withSettings().withoutAnnotations());
    supervisor = mock(SupervisorActivities.class, withSettings().withoutAnnotations());
    ec2 = mock(Ec2Activities.class, withSettings().withoutAnnotations());
    admin = mock(WebhookActivities.class, withSettings().withoutAnnotations());
    notify = mock(NotifyActivities.class, withSettings().withoutAnnotations());
    probe = mock(HttpProbeActivities.class, withSettings().withoutAnnotations());
    changedFiles = List.of("README.md");
    serving.set(List.of("sm-1-7-5"));
    when(git.reviewChanges(any()))
        .thenAnswer(
            i ->
                new ChangeReview(
                    changedFiles,
                    List.of("[Task] Task name #921", "[Bug] Bug name #922"),
                    "1.7.5",
                    "abc1234567890",
                    "def4567890123"));
    when(git.syncReleaseBranches(any()))
        .thenReturn(new BranchSync(false, "abc1234567890", "abc1234567890", true, "", false));
    when(git.tagRelease(any())).thenReturn(new ActionResult("tag", false, ""));
    when(git.checkoutBranch(any())).thenReturn(new ActionResult("checkout", false, ""));
    when(git.readFile(any()))
        .thenReturn(new FileContent("es_index.json", "abc", "{\"mappings\":{}}"));
    when(ci.awaitGreen(any()))
        .thenReturn(new CiActivities.CiResult("abc1234567890", List.of(), 0, false));
    when(ansible.runPlaybook(any()))
        .thenReturn(new AnsibleActivities.PlaybookResult(List.of(), "ansible-playbook", "", false));
    when(ansible.pointInventory(any()))
        .thenAnswer(
            i -> {
              AnsibleActivities.InventoryRequest r = i.getArgument(0);
              return new AnsibleActivities.InventoryChange(
                  r.file(),
                  r.host(),
                  r.address().equals("10.0.0.9") ? "52.0.0.10" : "10.0.0.9",
                  r.address(),
                  true,
                  false);
            });
    when(es.status(any()))
        .thenAnswer(i -> new ElasticsearchActivities.IndexState("sm", serving.get(), List.of()));
    when(es.createIndex(any())).thenReturn(new ActionResult("create", false, ""));
    when(es.reindex(any()))
        .thenReturn(
            new ElasticsearchActivities.ReindexResult(
                "node:1", 100, 100, 0, 0, 1000, false, false));
    when(es.swapAlias(any()))
        .thenAnswer(
            i -> {
              ElasticsearchActivities.SwapRequest r = i.getArgument(0);
              List<String> before = serving.get();
              serving.set(List.of(r.to()));
              return new ElasticsearchActivities.SwapResult(
                  r.alias(), before, List.of(r.to()), true, false);
            });
    when(es.deleteIndex(any())).thenReturn(new ActionResult("delete", false, ""));
    when(host.runCommand(any()))
        .thenAnswer(
            i -> new ActionResult(((CommandRequest) i.getArgument(0)).command(), false, ""));
    when(host.runJob(any()))
        .thenAnswer(
            i ->
                new JobResult(
                    ((JobRequest) i.getArgument(0)).jobId(), 0, 10, 10, "", 1000, false, false));
    when(supervisor.checkPrograms(any()))
        .thenReturn(
            new SupervisorActivities.ProgramsResult(List.of(), List.of(), List.of(), false));
    when(ec2.createImage(any()))
        .thenReturn(new Ec2Activities.Image("ami-1", "img", "available", false));
    when(ec2.launchLike(any()))
        .thenReturn(
            new Ec2Activities.Instance(
                "i-new",
                "running",
                "m5.xlarge",
                "ami-1",
                "key",
                "subnet-1",
                List.of("sg-1"),
                null,
                false,
                "10.0.0.9",
                null,
                java.util.Map.of(),
                true));
    when(ec2.moveAddress(any()))
        .thenAnswer(
            i -> {
              Ec2Activities.AddressRequest r = i.getArgument(0);
              return new Ec2Activities.AddressMove(
                  r.publicIp(), "i-x", r.instanceId(), true, false);
            });
    when(ec2.setTerminationProtection(any())).thenReturn(new ActionResult("p", false, ""));
    when(ec2.stopInstance(any())).thenReturn(new ActionResult("stop", false, ""));
    when(ec2.terminateInstance(any())).thenReturn(new ActionResult("terminate", false, ""));
    when(admin.post(any())).thenReturn(new ActionResult("post", false, "{}"));
    when(probe.watchPeriod(any()))
        .thenReturn(
            new HttpProbeActivities.PeriodWatch(40, 12, 2, 12000, 2000, null, null, true, false));
    worker.registerActivitiesImplementations(
        git, ci, ansible, es, host, supervisor, ec2, admin, notify, probe);
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  MetaspaceRelease start(
      WorkflowClient client, String version, MetaspaceSite site, String bump, String strategy) {
    MetaspaceRelease wf =
        client.newWorkflowStub(
            MetaspaceRelease.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(MetaspaceRelease.RUNBOOK, "prod", version))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowClient.start(
        wf::release,
        new MetaspaceRequest(MetaspaceFixtures.context(version), bump, strategy, site));
    return wf;
  }

  MetaspaceRelease start(WorkflowClient client, String version) {
    return start(client, version, MetaspaceFixtures.site(null, null, "elasticsearch"), null, null);
  }

  static GateView awaitGate(TestWorkflowEnvironment env, MetaspaceRelease wf, String gate) {
    for (int i = 0; i < 400; i++) {
      ReleaseProgress p = wf.progress();
      for (GateView g : p.gates()) {
        if (g.name().equals(gate) && g.status() == GateStatus.WAITING) {
          return g;
        }
      }
      if (p.status() == ReleaseStatus.FAILED || p.status() == ReleaseStatus.ROLLED_BACK) {
        throw new AssertionError("release ended before gate " + gate + ": " + p.notes());
      }
      env.sleep(Duration.ofMillis(50));
    }
    throw new AssertionError("gate " + gate + " never opened");
  }

  static DecisionReply approve(
      TestWorkflowEnvironment env, MetaspaceRelease wf, String gate, String choice, String why) {
    return wf.decideGate(
        Decisions.at(env, gate, GateDecision.Decision.APPROVE, "lachlan", why).choosing(choice));
  }

  static ReleaseResult result(MetaspaceRelease wf) {
    return WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
  }

  static ReleaseProgress failed(MetaspaceRelease wf) {
    assertThrows(WorkflowFailedException.class, () -> result(wf));
    return wf.progress();
  }

  static String steps(ReleaseProgress p) {
    StringBuilder sb = new StringBuilder();
    for (StepState s : p.steps()) {
      sb.append(s.status())
          .append(' ')
          .append(s.name())
          .append(" | ")
          .append(s.detail())
          .append('\n');
    }
    return sb.toString();
  }

  static StepState step(ReleaseProgress p, String prefix) {
    return p.steps().stream()
        .filter(s -> s.name().startsWith(prefix))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no step " + prefix + " in\n" + steps(p)));
  }

  static <T> T named(Class<T> type, String stepPrefix) {
    return argThat(
        r -> {
          try {
            Object step = r.getClass().getMethod("step").invoke(r);
            return step != null && step.toString().startsWith(stepPrefix);
          } catch (ReflectiveOperationException e) {
            return false;
          }
        });
  }

  // ---- review, strategy gate, CI, git ----

  @Test
  void inPlaceReleaseRunsTheRunbookInOrder(TestWorkflowEnvironment env, WorkflowClient client) {
    MetaspaceRelease wf = start(client, "1.7.6");
    GateView gate = awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    assertEquals("in-place", gate.proposed());
    assertTrue(gate.description().contains("Next version: 1.7.6"), gate.description());
    assertTrue(approve(env, wf, "strategy", null, "").accepted());
    ReleaseResult r = result(wf);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
    assertTrue(r.summary().contains("(in-place)"), r.summary());

    InOrder order = inOrder(git, ci, ansible, supervisor, host, notify, probe);
    order.verify(git).reviewChanges(argThat(q -> q.releaseBranch().equals("release")));
    order
        .verify(ci)
        .awaitGreen(
            argThat(
                q ->
                    q.commit().equals("abc1234567890")
                        && q.required().equals(List.of("webapp", "graphql"))));
    order
        .verify(git)
        .syncReleaseBranches(argThat(q -> "abc1234567890".equals(q.expectMainHead()) && q.push()));
    order
        .verify(git)
        .tagRelease(
            argThat(
                q ->
                    q.tag().equals("1.7.6")
                        && q.message()
                            .equals(
                                "Release notes:\n  [Task] Task name #921\n  [Bug] Bug name #922\n")
                        && q.push()));
    order.verify(git).checkoutBranch(argThat(q -> q.repo().path().equals("/srv/ansible")));
    order
        .verify(notify)
        .notify(
            argThat(
                n ->
                    n.kind() == Notification.Kind.ANNOUNCEMENT
                        && n.subject().startsWith("Starting the deployment of METASPACE 1.7.6")
                        && n.channels().chat().name().equals("#metaspace_dev")));
    order
        .verify(ansible)
        .runPlaybook(
            argThat(
                q ->
                    q.extraVars().get("version").equals("1.7.6")
                        && q.limit().equals("metaspace-web")
                        && q.privateKeyRef().equals("file:/secrets/key")));
    order
        .verify(supervisor)
        .checkPrograms(argThat(q -> q.programs().equals(List.of("sm-api", "sm-graphql"))));
    order
        .verify(host)
        .runCommand(argThat(q -> q.command().equals("systemctl is-active --quiet nginx")));
    order
        .verify(notify)
        .notify(
            argThat(
                n ->
                    n.kind() == Notification.Kind.ANNOUNCEMENT
                        && n.subject().contains("deployed successfully")));
    verify(probe)
        .watchPeriod(
            argThat(q -> q.upText().equals("1.7.6") && q.messageText().equals("read-only mode")));
    assertTrue(
        r.progress().notes().stream().anyMatch(n -> n.startsWith("measured: read-only")),
        r.progress().notes().toString());
    assertTrue(r.progress().notes().stream().anyMatch(n -> n.startsWith("rule kept")));
    verify(es, never()).swapAlias(any());
    verify(ec2, never()).createImage(any());
  }

  @Test
  void aVersionThatIsNotTheNextFailsBeforeAnythingChanges(
      TestWorkflowEnvironment env, WorkflowClient client) {
    MetaspaceRelease wf = start(client, "1.8.0");
    WorkflowFailedException e = assertThrows(WorkflowFailedException.class, () -> result(wf));
    String why = e.getCause().getMessage();
    assertTrue(
        why.contains(
            "version 1.8.0 is not the next release: after 1.7.5 comes 1.7.6 (patch: no milestone or"
                + " breaking change among the pull requests); start the release with --version"
                + " 1.7.6, or give --bump patch|minor"),
        why);
    assertEquals(ReleaseStatus.FAILED, wf.progress().status());
    verify(ci, never()).awaitGreen(any());
    verify(git, never()).syncReleaseBranches(any());
    verify(git, never()).tagRelease(any());
  }

  @Test
  void theBumpOptionMakesAMinorRelease(TestWorkflowEnvironment env, WorkflowClient client) {
    MetaspaceRelease wf =
        start(client, "1.8.0", MetaspaceFixtures.site(null, null, "elasticsearch"), "minor", null);
    GateView g = awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    assertTrue(g.description().contains("minor: --bump minor"), g.description());
    approve(env, wf, "strategy", null, "");
    result(wf);
    verify(git).tagRelease(argThat(q -> q.tag().equals("1.8.0")));
  }

  @Test
  void anotherStrategyNeedsAReasonAndMustBeOffered(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ES_FIELDS);
    MetaspaceRelease wf = start(client, "1.7.6");
    GateView gate = awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    assertEquals("deploy-then-es-update", gate.proposed());
    assertEquals(Strategy.options(), gate.choices());
    assertTrue(gate.description().contains("Elasticsearch export fields changed"));

    DecisionReply noReason = approve(env, wf, "strategy", "reindex-before-deployment", "");
    assertFalse(noReason.accepted());
    assertTrue(noReason.reason().contains("needs the reason"), noReason.reason());
    DecisionReply unknown = approve(env, wf, "strategy", "yolo", "because");
    assertFalse(unknown.accepted());
    assertTrue(
        unknown.reason().contains("it offers: in-place, deploy-then-es-update"), unknown.reason());
    DecisionReply rejectWithChoice =
        wf.decideGate(
            Decisions.at(env, "strategy", GateDecision.Decision.REJECT, "lachlan", "x")
                .choosing("in-place"));
    assertFalse(rejectWithChoice.accepted());

    DecisionReply ok =
        approve(env, wf, "strategy", "reindex-before-deployment", "the new code needs the fields");
    assertTrue(ok.accepted(), ok.reason());
    assertEquals("reindex-before-deployment", ok.gate().choice());
    GateView drop = awaitGate(env, wf, MetaspaceRelease.DROP_INDEX_GATE);
    assertEquals(GateStatus.WAITING, drop.status());
    approve(env, wf, "drop-old-index", null, "");
    ReleaseResult r = result(wf);
    StepState decided = step(r.progress(), "gate: strategy");
    assertTrue(
        decided
            .detail()
            .contains(
                "choosing reindex-before-deployment instead of the proposed deploy-then-es-update:"
                    + " the new code needs the fields"),
        decided.detail());
    assertEquals(3, r.progress().gates().get(0).refusals().size());
    keep(client, wf, "metaspace-reindex-chosen-with-refusals");
  }

  @Test
  void aStrategyGivenAtStartIsProposedWithTheReviewsRecommendationBeside(
      TestWorkflowEnvironment env, WorkflowClient client) {
    MetaspaceRelease wf =
        start(
            client,
            "1.7.6",
            MetaspaceFixtures.site(null, null, "elasticsearch"),
            null,
            "fork-the-vm");
    GateView g = awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    assertEquals("fork-the-vm", g.proposed());
    assertTrue(g.description().contains("Recommended strategy: in-place"), g.description());
    assertTrue(
        g.description()
            .contains(
                "started with --strategy fork-the-vm (instead of the recommended" + " in-place)"),
        g.description());
    WorkflowStub.fromTyped(wf).cancel();
  }

  @Test
  void aWebUiSignalMayCarryTheChoice(TestWorkflowEnvironment env, WorkflowClient client) {
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    Decisions.signal(
        WorkflowStub.fromTyped(wf),
        java.util.Map.of(
            "gate", "strategy",
            "decision", "APPROVE",
            "approver", "lachlan",
            "comment", "ES needs the update",
            "choice", "deploy-then-es-update",
            "issuedAt", java.time.Instant.ofEpochMilli(env.currentTimeMillis()).toString()));
    ReleaseResult r = result(wf);
    assertTrue(r.summary().contains("(deploy-then-es-update)"), r.summary());
    assertEquals("signal", r.progress().gates().get(0).via());
  }

  @Test
  void aStrategyTheEnvironmentCannotRunIsNotOffered(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ENGINE_MIGRATION);
    MetaspaceSite full = MetaspaceFixtures.site(null, null, "elasticsearch");
    MetaspaceConfig c = full.config();
    MetaspaceSite noAws =
        new MetaspaceSite(
            full.host(),
            null,
            full.repo(),
            full.ansibleRepo(),
            full.cluster(),
            null,
            new MetaspaceConfig(
                c.host(),
                c.repo(),
                c.watched(),
                c.minorMarkers(),
                c.ci(),
                c.ansible(),
                c.elasticsearch(),
                c.commands(),
                c.admin(),
                c.slack(),
                c.supervisor(),
                c.services(),
                c.probe(),
                null,
                c.fork(),
                c.longJobLimit()));
    MetaspaceRelease wf = start(client, "1.7.6", noAws, null, null);
    GateView g = awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    assertFalse(g.choices().contains("fork-the-vm"));
    assertEquals("in-place", g.proposed());
    assertTrue(
        g.description().contains("This environment cannot run fork-the-vm"), g.description());
    assertFalse(approve(env, wf, "strategy", "fork-the-vm", "needed").accepted());
    WorkflowStub.fromTyped(wf).cancel();
  }

  @Test
  void redCiFailsNamingTheJobsAndTouchesNoBranch(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(ci.awaitGreen(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "master at abc1234 is red: workflow webapp failed (job test-webapp)", "CiRed"));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    approve(env, wf, "strategy", null, "");
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.FAILED, p.status());
    assertTrue(step(p, "CI green").detail().contains("job test-webapp"), steps(p));
    verify(ci, times(1)).awaitGreen(any());
    verify(git, never()).syncReleaseBranches(any());
  }

  @Test
  void pendingCiIsAwaitedInOneHeartbeatingActivityThenTimesOut(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(ci.awaitGreen(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "still running after PT2H: workflow graphql", "CiPending"));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    approve(env, wf, "strategy", null, "");
    ReleaseProgress p = failed(wf);
    assertTrue(step(p, "CI green").detail().contains("still running after PT2H"), steps(p));
    HistoryEvent scheduled = scheduled(client, wf, "Ci.awaitGreen");
    var a = scheduled.getActivityTaskScheduledEventAttributes();
    assertTrue(a.getStartToCloseTimeout().getSeconds() >= Duration.ofHours(2).getSeconds());
    assertEquals(Duration.ofMinutes(2).getSeconds(), a.getHeartbeatTimeout().getSeconds());
    verify(git, never()).tagRelease(any());
  }

  @Test
  void aRealMergeOfReleaseIntoMasterIsReported(TestWorkflowEnvironment env, WorkflowClient client) {
    when(git.syncReleaseBranches(any()))
        .thenReturn(new BranchSync(true, "m2", "m2", true, "merge made", false));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    approve(env, wf, "strategy", null, "");
    ReleaseResult r = result(wf);
    assertTrue(
        r.progress().notes().stream().anyMatch(n -> n.contains("a hotfix was not merged back")),
        r.progress().notes().toString());
  }

  // ---- deploy, then the ES update ----

  @Test
  void deployThenEsUpdateFollowsTheFullUpdateAfterTheDeployment(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ES_FIELDS);
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, MetaspaceRelease.STRATEGY_GATE);
    approve(env, wf, "strategy", null, "");
    ReleaseResult r = result(wf);
    InOrder order = inOrder(ansible, supervisor, host);
    order.verify(ansible).runPlaybook(any());
    order.verify(supervisor).checkPrograms(any());
    order
        .verify(host)
        .runJob(
            argThat(
                j ->
                    j.command().equals("cd /opt/dev/metaspace && python3 update_es_index.py")
                        && j.jobId().equals("release-metaspace-release-prod-1.7.6-full-update")
                        && j.progressRegex().contains("?<done>")));
    HistoryEvent job = scheduled(client, wf, "RemoteHost.runJob");
    assertEquals(
        Duration.ofDays(7).getSeconds(),
        job.getActivityTaskScheduledEventAttributes().getStartToCloseTimeout().getSeconds());
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
  }

  // ---- reindex before deployment ----

  @Test
  void reindexBeforeDeploymentSwapsAtomicallyAndDropsTheOldIndexAfterTheGate(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(MAPPINGS);
    MetaspaceRelease wf = start(client, "1.7.6");
    assertEquals("reindex-before-deployment", awaitGate(env, wf, "strategy").proposed());
    approve(env, wf, "strategy", null, "");
    awaitGate(env, wf, MetaspaceRelease.DROP_INDEX_GATE);
    verify(es, never()).deleteIndex(any());
    assertEquals(List.of("sm-1-7-6"), serving.get());
    approve(env, wf, "drop-old-index", null, "new index fine");
    ReleaseResult r = result(wf);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
    assertTrue(r.summary().contains("sm-1-7-5 dropped"), r.summary());

    InOrder order = inOrder(host, es, git, admin, notify, ansible, supervisor);
    order
        .verify(host)
        .runCommand(
            argThat(
                c ->
                    c.command()
                        .equals(
                            "rm -rf /tmp/metaspace-release-1.7.6 && git clone -q --depth 1 --branch 1.7.6"
                                + " /srv/origin.git /tmp/metaspace-release-1.7.6")));
    order.verify(es).status(argThat(q -> q.alias().equals("sm")));
    order
        .verify(git)
        .readFile(
            argThat(
                q ->
                    q.ref().equals("1.7.6")
                        && q.path().equals("metaspace/engine/sm/engine/es_index.json")));
    order
        .verify(es)
        .createIndex(
            argThat(
                q ->
                    q.index().equals("sm-1-7-6")
                        && q.definitionJson().equals("{\"mappings\":{}}")));
    order
        .verify(es)
        .reindex(
            argThat(
                q ->
                    q.source().equals("sm-1-7-5")
                        && q.dest().equals("sm-1-7-6")
                        && q.queryJson() == null
                        && q.requestsPerSecond() == 500f));
    order
        .verify(admin)
        .post(
            argThat(
                q ->
                    q.jsonBody().equals("{\"processing\": false}")
                        && q.authHeaderRef().equals("env:ADMIN_AUTH")));
    order
        .verify(es)
        .reindex(
            argThat(q -> q.queryJson() != null && q.queryJson().contains("\"created\": {\"gte\"")));
    order.verify(notify).notify(argThat(n -> n.kind() == Notification.Kind.ANNOUNCEMENT));
    order
        .verify(es)
        .swapAlias(argThat(q -> q.from().equals("sm-1-7-5") && q.to().equals("sm-1-7-6")));
    order.verify(ansible).runPlaybook(any());
    order.verify(admin).post(argThat(q -> q.jsonBody().equals("{\"processing\": true}")));
    order.verify(supervisor).checkPrograms(any());
    order.verify(host).runJob(argThat(j -> j.jobId().endsWith("-full-update")));
    order
        .verify(es)
        .deleteIndex(argThat(q -> q.index().equals("sm-1-7-5") && q.alias().equals("sm")));
    order
        .verify(host)
        .runCommand(argThat(c -> c.command().equals("rm -rf /tmp/metaspace-release-1.7.6")));
    HistoryEvent reindex = scheduled(client, wf, "Elasticsearch.reindex");
    var a = reindex.getActivityTaskScheduledEventAttributes();
    assertEquals(Duration.ofDays(7).getSeconds(), a.getStartToCloseTimeout().getSeconds());
    assertEquals(Duration.ofMinutes(2).getSeconds(), a.getHeartbeatTimeout().getSeconds());
  }

  @Test
  void aReindexByTheAppsCommandRunsAsHostJobs(TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(MAPPINGS);
    MetaspaceRelease wf =
        start(
            client,
            "1.7.6",
            MetaspaceFixtures.site(Duration.ofDays(2), null, "command"),
            null,
            null);
    awaitGate(env, wf, "strategy");
    long before = env.currentTimeMillis();
    approve(env, wf, "strategy", null, "");
    ReleaseResult r = result(wf);
    verify(es, never()).reindex(any());
    verify(host)
        .runJob(
            argThat(
                j ->
                    j.jobId().endsWith("-reindex")
                        && j.command()
                            .equals(
                                "cd /tmp/metaspace-release-1.7.6 && python3 update_es_index.py --index sm-1-7-6")));
    verify(host)
        .runJob(
            argThat(
                j -> j.jobId().endsWith("-partial-update") && j.command().contains("--since 20")));
    // The configured delay instead of the drop gate: two days, skipped.
    assertTrue(env.currentTimeMillis() - before >= Duration.ofDays(2).toMillis());
    assertEquals(StepStatus.SKIPPED, step(r.progress(), "gate: drop-old-index").status());
    verify(es).deleteIndex(argThat(q -> q.index().equals("sm-1-7-5")));
  }

  @Test
  void aFailedDeploymentPutsTheAliasBackAndProcessingOn(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(MAPPINGS);
    when(ansible.runPlaybook(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "fatal: [metaspace-web]: FAILED!", "PlaybookFailed"));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status(), steps(p));
    InOrder order = inOrder(es, admin, host);
    order.verify(es).swapAlias(argThat(q -> q.to().equals("sm-1-7-6")));
    order
        .verify(es)
        .swapAlias(argThat(q -> q.from().equals("sm-1-7-6") && q.to().equals("sm-1-7-5")));
    order.verify(admin).post(argThat(q -> q.jsonBody().equals("{\"processing\": true}")));
    order.verify(es).deleteIndex(argThat(q -> q.index().equals("sm-1-7-6")));
    order.verify(host).runCommand(argThat(c -> c.command().startsWith("rm -rf")));
    assertEquals(List.of("sm-1-7-5"), serving.get());
    verify(es, never()).deleteIndex(argThat(q -> q.index().equals("sm-1-7-5")));
    assertEquals(StepStatus.DONE, step(p, "alias sm back to sm-1-7-5").status());
  }

  @Test
  void aFailedUndoIsRolledBackIncompleteAndSaysWhat(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(MAPPINGS);
    when(ansible.runPlaybook(any()))
        .thenThrow(ApplicationFailure.newNonRetryableFailure("fatal", "PlaybookFailed"));
    org.mockito.Mockito.doThrow(
            ApplicationFailure.newNonRetryableFailure("alias moved", "AliasConflict"))
        .when(es)
        .swapAlias(argThat(q -> q != null && q.to().equals("sm-1-7-5")));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLBACK_INCOMPLETE, p.status());
    assertEquals(StepStatus.FAILED, step(p, "alias sm back to sm-1-7-5").status());
  }

  @Test
  void aRejectedDropKeepsTheOldIndexAndTheRelease(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(MAPPINGS);
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    awaitGate(env, wf, MetaspaceRelease.DROP_INDEX_GATE);
    wf.decideGate(
        Decisions.at(
            env, "drop-old-index", GateDecision.Decision.REJECT, "lachlan", "keep it a week"));
    ReleaseResult r = result(wf);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
    assertTrue(r.summary().contains("sm-1-7-5 kept"), r.summary());
    verify(es, never()).deleteIndex(any());
    verify(es, times(1)).swapAlias(any());
    assertTrue(r.progress().notes().stream().anyMatch(n -> n.contains("drop it by hand")));
  }

  @Test
  void aRehearsalReadsTheIndexDefinitionAtTheReviewedHeadAndChangesNothing(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(MAPPINGS);
    MetaspaceRelease wf =
        client.newWorkflowStub(
            MetaspaceRelease.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(
                    "dry-" + ReleaseIds.workflowId(MetaspaceRelease.RUNBOOK, "prod", "1.7.6"))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowClient.start(
        wf::release,
        new MetaspaceRequest(
            MetaspaceFixtures.context("1.7.6", true),
            null,
            null,
            MetaspaceFixtures.site(null, null, "elasticsearch")));
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    awaitGate(env, wf, MetaspaceRelease.DROP_INDEX_GATE);
    approve(env, wf, "drop-old-index", null, "");
    ReleaseResult r = result(wf);
    assertTrue(r.summary().startsWith("rehearsed: "), r.summary());
    // No tag exists in a rehearsal: the definition is read where it would be made.
    verify(git).readFile(argThat(q -> q.ref().equals("abc1234567890")));
    verify(git).tagRelease(argThat(q -> q.dryRun()));
    verify(es).swapAlias(argThat(q -> q.dryRun()));
    verify(es).deleteIndex(argThat(q -> q.dryRun()));
    verify(ansible).runPlaybook(argThat(q -> q.dryRun()));
  }

  // ---- fork the VM ----

  @Test
  void forkTheVmMovesTheElasticIpAndTerminatesTheOldAfterTheGates(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ENGINE_MIGRATION);
    MetaspaceRelease wf = start(client, "1.7.6");
    assertEquals("fork-the-vm", awaitGate(env, wf, "strategy").proposed());
    approve(env, wf, "strategy", null, "");
    awaitGate(env, wf, MetaspaceRelease.CONFIRM_GATE);
    verify(ec2, never()).stopInstance(any());
    approve(env, wf, "confirmed-working", null, "searched, uploaded");
    awaitGate(env, wf, MetaspaceRelease.TERMINATE_GATE);
    verify(ec2, never()).terminateInstance(any());
    approve(env, wf, "terminate-old-vm", null, "");
    ReleaseResult r = result(wf);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());

    InOrder order = inOrder(admin, ec2, ansible, supervisor, notify);
    order.verify(notify).notify(argThat(n -> n.kind() == Notification.Kind.ANNOUNCEMENT));
    order.verify(admin).post(argThat(q -> q.jsonBody().equals("{\"readOnly\": true}")));
    order
        .verify(ec2)
        .createImage(
            argThat(
                q ->
                    q.instanceId().equals("i-old")
                        && q.name().equals("release-metaspace-release-prod-1.7.6")));
    order
        .verify(ec2)
        .launchLike(
            argThat(
                q ->
                    q.sourceInstanceId().equals("i-old")
                        && q.imageId().equals("ami-1")
                        && q.clientToken().equals("release-metaspace-release-prod-1.7.6")));
    order
        .verify(ansible)
        .pointInventory(
            argThat(
                q ->
                    q.address().equals("10.0.0.9")
                        && q.file().equals("/srv/ansible/env/prod/hosts")));
    order.verify(ansible).runPlaybook(argThat(q -> q.knownHosts().equals("/etc/kh")));
    order.verify(supervisor).checkPrograms(argThat(q -> q.host().name().equals("metaspace-new")));
    order
        .verify(ec2)
        .moveAddress(
            argThat(q -> q.publicIp().equals("52.0.0.10") && q.instanceId().equals("i-new")));
    order.verify(admin).post(argThat(q -> q.jsonBody().equals("{\"readOnly\": false}")));
    order.verify(ec2).stopInstance(argThat(q -> q.instanceId().equals("i-old")));
    order.verify(notify).notify(argThat(n -> n.kind() == Notification.Kind.ANNOUNCEMENT));
    order
        .verify(ec2)
        .setTerminationProtection(argThat(q -> q.instanceId().equals("i-old") && !q.protect()));
    order.verify(ec2).terminateInstance(argThat(q -> q.instanceId().equals("i-old")));
    order.verify(ansible).pointInventory(argThat(q -> q.address().equals("52.0.0.10")));
    verify(ec2, never()).terminateInstance(argThat(q -> q.instanceId().equals("i-new")));
    keep(client, wf, "metaspace-fork-the-vm-gates-passed");
  }

  @Test
  void notConfirmedPutsTheIpBackAndRemovesTheCopy(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ENGINE_MIGRATION);
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    awaitGate(env, wf, MetaspaceRelease.CONFIRM_GATE);
    wf.decideGate(
        Decisions.at(
            env, "confirmed-working", GateDecision.Decision.REJECT, "lachlan", "uploads fail"));
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status(), steps(p));
    InOrder order = inOrder(ec2, ansible, admin);
    order.verify(ec2).moveAddress(argThat(q -> q.instanceId().equals("i-new")));
    order.verify(ec2).moveAddress(argThat(q -> q.instanceId().equals("i-old")));
    order.verify(ansible).pointInventory(argThat(q -> q.address().equals("52.0.0.10")));
    order
        .verify(ec2)
        .setTerminationProtection(argThat(q -> q.instanceId().equals("i-new") && !q.protect()));
    order.verify(ec2).terminateInstance(argThat(q -> q.instanceId().equals("i-new")));
    order.verify(admin).post(argThat(q -> q.jsonBody().equals("{\"readOnly\": false}")));
    verify(ec2, never()).stopInstance(any());
    keep(client, wf, "metaspace-fork-not-confirmed-rolled-back");
  }

  @Test
  void aLaunchThatFailedIsLeftByHandNamingItsClientToken(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ENGINE_MIGRATION);
    when(ec2.launchLike(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "InsufficientInstanceCapacity", "AwsRequestRefused"));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLBACK_INCOMPLETE, p.status(), steps(p));
    assertTrue(
        p.notes().stream()
            .anyMatch(
                n ->
                    n.contains(
                        "terminate any instance launched from image ami-1 with client token"
                            + " release-metaspace-release-prod-1.7.6")),
        p.notes().toString());
    verify(admin).post(argThat(q -> q.jsonBody().equals("{\"readOnly\": false}")));
    verify(ec2, never()).terminateInstance(any());
  }

  @Test
  void aConfiguredDelayTerminatesTheOldVmDaysLater(
      TestWorkflowEnvironment env, WorkflowClient client) {
    changedFiles = List.of(ENGINE_MIGRATION);
    MetaspaceRelease wf =
        start(
            client,
            "1.7.6",
            MetaspaceFixtures.site(null, Duration.ofDays(3), "elasticsearch"),
            null,
            null);
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    awaitGate(env, wf, MetaspaceRelease.CONFIRM_GATE);
    long confirmed = env.currentTimeMillis();
    approve(env, wf, "confirmed-working", null, "");
    ReleaseResult r = result(wf);
    assertTrue(env.currentTimeMillis() - confirmed >= Duration.ofDays(3).toMillis());
    verify(ec2).terminateInstance(argThat(q -> q.instanceId().equals("i-old")));
    assertTrue(step(r.progress(), "wait PT72H").status() == StepStatus.DONE);
  }

  // ---- post-deployment checks ----

  @Test
  void aProgramThatStaysDownFailsTheReleaseWithItsLog(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(supervisor.checkPrograms(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "sm-graphql is FATAL after a restart; its log ends: migration 17 failed",
                "ProgramDown"));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    ReleaseProgress p = failed(wf);
    assertTrue(step(p, "supervisor programs RUNNING").detail().contains("migration 17 failed"));
    verify(host, never()).runCommand(argThat(c -> c.command().contains("systemctl")));
  }

  @Test
  void aSiteDownTooLongWithoutAMessageIsStated(TestWorkflowEnvironment env, WorkflowClient client) {
    when(probe.watchPeriod(any()))
        .thenReturn(
            new HttpProbeActivities.PeriodWatch(200, 0, 90, 0, 90000, null, null, true, false));
    MetaspaceRelease wf = start(client, "1.7.6");
    awaitGate(env, wf, "strategy");
    approve(env, wf, "strategy", null, "");
    ReleaseResult r = result(wf);
    assertTrue(
        r.progress().notes().stream()
            .anyMatch(
                n ->
                    n.startsWith(
                        "RULE BROKEN: the site was down 90000 ms without a visible message")),
        r.progress().notes().toString());
  }

  /** Kept for the replay test's recordings (src/test/resources/histories), refreshed by hand. */
  static void keep(WorkflowClient client, MetaspaceRelease wf, String name) {
    try {
      java.nio.file.Path dir = java.nio.file.Path.of("target", "histories");
      java.nio.file.Files.createDirectories(dir);
      String id = WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
      java.nio.file.Files.writeString(
          dir.resolve(name + ".json"), client.fetchHistory(id).toJson(true));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static HistoryEvent scheduled(WorkflowClient client, MetaspaceRelease wf, String activityType) {
    String id = WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
    List<HistoryEvent> found = new ArrayList<>();
    client
        .fetchHistory(id)
        .getEvents()
        .forEach(
            e -> {
              if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                  && e.getActivityTaskScheduledEventAttributes()
                      .getActivityType()
                      .getName()
                      .equals(activityType)) {
                found.add(e);
              }
            });
    if (found.isEmpty()) {
      throw new AssertionError("no " + activityType + " scheduled");
    }
    return found.get(0);
  }
}
