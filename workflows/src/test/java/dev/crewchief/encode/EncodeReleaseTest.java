package dev.crewchief.encode;

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
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Downtime;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.HostConfigActivities;
import dev.crewchief.activities.IamActivities;
import dev.crewchief.activities.IndexerActivities;
import dev.crewchief.activities.JobRequest;
import dev.crewchief.activities.JobResult;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.PostgresReplicationActivities;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RedmineActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.S3Activities;
import dev.crewchief.activities.SwitchResult;
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
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.InOrder;

/**
 * EncodeRelease with mocked activities and time skipping: clustered and single deploys, a bad node
 * replaced, the days-long indexing wait, each gate, the rollback before the promotion and the stop
 * after it.
 */
class EncodeReleaseTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow = TestReleases.extension(EncodeReleaseImpl.class);

  GitActivities git;
  Ec2Activities ec2;
  ElasticsearchActivities es;
  HostConfigActivities hostConfig;
  RemoteHostActivities host;
  IamActivities iam;
  S3Activities s3;
  IndexerActivities indexer;
  MailActivities mail;
  PostgresReplicationActivities pg;
  ProxyActivities proxy;
  RedmineActivities redmine;
  String taskQueue;
  final List<ElasticsearchActivities.Health> healths = new ArrayList<>();
  final AtomicInteger instances = new AtomicInteger();

  static ElasticsearchActivities.Health health(String status, List<String> missing) {
    List<String> all = List.of("v92-data1", "v92-data2", "v92-data3", "v92-master");
    List<String> seen = all.stream().filter(n -> !missing.contains(n)).toList();
    return new ElasticsearchActivities.Health(
        "v92-cluster",
        status,
        seen.size(),
        seen.size() - 1,
        missing.isEmpty() ? 0 : 4,
        seen,
        missing);
  }

  static PostgresReplicationActivities.RecoveryState state(String name, boolean recovery) {
    return new PostgresReplicationActivities.RecoveryState(
        name,
        recovery,
        recovery ? "0/3000148" : null,
        recovery ? "0/3000148" : null,
        recovery ? null : "0/3000200",
        !recovery,
        recovery ? "streaming" : null);
  }

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    git = mock(GitActivities.class, withSettings().withoutAnnotations());
    ec2 = mock(Ec2Activities.class, withSettings().withoutAnnotations());
    es = mock(ElasticsearchActivities.class, withSettings().withoutAnnotations());
    hostConfig = mock(HostConfigActivities.class, withSettings().withoutAnnotations());
    host = mock(RemoteHostActivities.class, withSettings().withoutAnnotations());
    iam = mock(IamActivities.class, withSettings().withoutAnnotations());
    s3 = mock(S3Activities.class, withSettings().withoutAnnotations());
    indexer = mock(IndexerActivities.class, withSettings().withoutAnnotations());
    mail = mock(MailActivities.class, withSettings().withoutAnnotations());
    pg = mock(PostgresReplicationActivities.class, withSettings().withoutAnnotations());
    proxy = mock(ProxyActivities.class, withSettings().withoutAnnotations());
    redmine = mock(RedmineActivities.class, withSettings().withoutAnnotations());
    when(git.tagRelease(any())).thenReturn(new ActionResult("tag", false, ""));
    when(ec2.launch(any()))
        .thenAnswer(
            i -> {
              Ec2Activities.LaunchRequest r = i.getArgument(0);
              List<Ec2Activities.Instance> out = new ArrayList<>();
              for (int n = 1; n <= r.count(); n++) {
                out.add(
                    new Ec2Activities.Instance(
                        "i-" + instances.incrementAndGet(),
                        "running",
                        r.instanceType(),
                        r.imageId(),
                        null,
                        null,
                        List.of(),
                        null,
                        false,
                        "10.0.1." + n,
                        null,
                        Map.of("Name", r.count() == 1 ? r.name() : r.name() + n),
                        false));
              }
              return out;
            });
    when(ec2.findInstances(any()))
        .thenAnswer(
            i ->
                List.of(
                    new Ec2Activities.Instance(
                        "i-bad",
                        "running",
                        "m4.xlarge",
                        "ami-encoded",
                        null,
                        null,
                        List.of(),
                        null,
                        false,
                        "10.0.1.3",
                        null,
                        Map.of(),
                        false)));
    when(ec2.terminateInstance(any())).thenReturn(new ActionResult("terminate", false, ""));
    healths.clear();
    when(es.waitForHealth(any()))
        .thenAnswer(i -> healths.isEmpty() ? health("green", List.of()) : healths.remove(0));
    when(es.setReplicas(any())).thenReturn(new ActionResult("replicas", false, ""));
    when(hostConfig.waitForLog(any()))
        .thenReturn(
            new HostConfigActivities.LogWait("Cloud-init v. 22.4 finished", 900, "", false));
    when(hostConfig.replaceInFile(any()))
        .thenAnswer(
            i -> {
              HostConfigActivities.ReplaceRequest r = i.getArgument(0);
              return new HostConfigActivities.Edit(r.path(), 1, true, r.path() + ".bak", false);
            });
    when(hostConfig.ensureCronLine(any()))
        .thenReturn(new ActionResult("added the line", false, ""));
    when(host.runCommand(any()))
        .thenAnswer(
            i -> new ActionResult(((CommandRequest) i.getArgument(0)).command(), false, ""));
    when(host.runJob(any()))
        .thenAnswer(
            i ->
                i.getArgument(0) == null
                    ? null
                    : new JobResult(
                        ((JobRequest) i.getArgument(0)).jobId(), 0, 0, 0, "", 1000, false, false));
    when(iam.rotateKey(any()))
        .thenAnswer(
            i -> {
              IamActivities.RotateRequest r = i.getArgument(0);
              String u = r.userName().toUpperCase().replace("-", "");
              return new IamActivities.Rotation(
                  r.userName(),
                  "AKOLDINACTIVE" + u,
                  "AKNEW" + u,
                  List.of(
                      new IamActivities.KeyInfo("AKCURRENT" + u, "Active"),
                      new IamActivities.KeyInfo("AKNEW" + u, "Inactive")),
                  r.target().path(),
                  "600",
                  r.target().owner(),
                  false,
                  false);
            });
    when(iam.activateOnly(any())).thenReturn(List.of());
    when(iam.validateInstalledKey(any()))
        .thenAnswer(
            i ->
                new IamActivities.Validation(
                    ((IamActivities.ValidateRequest) i.getArgument(0)).userName(),
                    "AKNEW",
                    "arn:aws:iam::1:user/x",
                    false));
    when(s3.verifyListed(any()))
        .thenReturn(
            new S3Activities.Listed(
                "encoded-backups",
                "p",
                3,
                4096,
                "p/base_1/_backup_stop_sentinel.json",
                Instant.EPOCH,
                false));
    when(s3.copyFromHost(any()))
        .thenReturn(
            new S3Activities.Copied(4, 4, 2048, "encoded-logs", "production/v91/apache2", false));
    when(indexer.waitForLag(any()))
        .thenReturn(
            new IndexerActivities.Waited(
                new IndexerActivities.IndexerState(
                    "http://10.0.0.9/_indexer",
                    "waiting",
                    Duration.ZERO,
                    Duration.ofMinutes(3),
                    900000,
                    true,
                    Instant.EPOCH),
                860,
                Duration.ofDays(3),
                false));
    when(mail.send(any())).thenReturn(new ActionResult("mail", false, ""));
    when(pg.enterRecovery(any())).thenReturn(state("old", true));
    when(pg.waitCaughtUp(any()))
        .thenReturn(
            new PostgresReplicationActivities.CatchUp(
                state("old", true), state("new", true), 3, false));
    when(pg.promote(any()))
        .thenAnswer(
            i ->
                i.getArgument(0) == null
                    ? null
                    : state(
                        ((PostgresReplicationActivities.ServerRequest) i.getArgument(0))
                            .server()
                            .name(),
                        false));
    when(pg.state(any())).thenReturn(state("new", true));
    when(proxy.switchUpstream(any()))
        .thenReturn(
            new SwitchResult("reload", false, "", new Downtime(40, 0, null, null, 0, true)));
    when(redmine.closeTickets(any()))
        .thenReturn(new RedmineActivities.Closed(List.of(11, 12), List.of(11, 12), false));
    worker.registerActivitiesImplementations(
        git, ec2, es, hostConfig, host, iam, s3, indexer, mail, pg, proxy, redmine);
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  EncodeRelease start(WorkflowClient client, String type, EncodeSite site, boolean dry) {
    EncodeRelease wf =
        client.newWorkflowStub(
            EncodeRelease.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(EncodeRelease.RUNBOOK, "prod", "92"))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowClient.start(
        wf::release, new EncodeRequest(EncodeFixtures.context("92", dry), type, "91", site));
    return wf;
  }

  EncodeRelease start(WorkflowClient client, String type) {
    return start(client, type, EncodeFixtures.site(), false);
  }

  static GateView awaitGate(TestWorkflowEnvironment env, EncodeRelease wf, String gate) {
    for (int i = 0; i < 400; i++) {
      ReleaseProgress p = wf.progress();
      for (GateView g : p.gates()) {
        if (g.name().equals(gate) && g.status() == GateStatus.WAITING) {
          return g;
        }
      }
      if (p.status() == ReleaseStatus.FAILED
          || p.status() == ReleaseStatus.ROLLED_BACK
          || p.status() == ReleaseStatus.ROLLBACK_INCOMPLETE
          || p.status() == ReleaseStatus.SUCCEEDED) {
        throw new AssertionError(
            "release ended ("
                + p.status()
                + ") before gate "
                + gate
                + ": "
                + p.notes()
                + "\n"
                + steps(p));
      }
      env.sleep(Duration.ofMillis(50));
    }
    throw new AssertionError("gate " + gate + " never opened");
  }

  static DecisionReply decide(
      TestWorkflowEnvironment env,
      EncodeRelease wf,
      String gate,
      GateDecision.Decision d,
      String who) {
    awaitGate(env, wf, gate);
    return wf.decideGate(Decisions.at(env, gate, d, who, "checked"));
  }

  static void approve(TestWorkflowEnvironment env, EncodeRelease wf, String gate) {
    String who = gate.equals(EncodeRelease.MERGES_GATE) ? "keenan" : "ben";
    assertTrue(decide(env, wf, gate, GateDecision.Decision.APPROVE, who).accepted(), gate);
  }

  /** Approves the merges and quiet gates: the release runs to the switch-over. */
  static void toSwitchOver(TestWorkflowEnvironment env, EncodeRelease wf) {
    approve(env, wf, EncodeRelease.MERGES_GATE);
    approve(env, wf, EncodeRelease.QUIET_GATE);
  }

  /** Kept for the replay test's recordings (src/test/resources/histories), refreshed by hand. */
  static void keep(WorkflowClient client, EncodeRelease wf, String name) {
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

  static ReleaseResult result(EncodeRelease wf) {
    return WorkflowStub.fromTyped(wf).getResult(ReleaseResult.class);
  }

  static ReleaseProgress failed(EncodeRelease wf) {
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

  static boolean has(ReleaseProgress p, String prefix) {
    return p.steps().stream().anyMatch(s -> s.name().startsWith(prefix));
  }

  // ---- the whole clustered release ----

  @Test
  void clusteredReleaseRunsTheRunbookInOrder(TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    approve(env, wf, EncodeRelease.STABLE_GATE);
    ReleaseResult r = result(wf);
    ReleaseProgress p = r.progress();
    keep(client, wf, "encode-clustered-switched-over");
    assertEquals(ReleaseStatus.SUCCEEDED, p.status(), steps(p));
    assertTrue(
        r.summary().contains("ENCODE v92.0 (clustered) is production on v92-master"), r.summary());

    InOrder o = inOrder(git, ec2, es, hostConfig, host, iam, s3, indexer, mail, pg, proxy, redmine);
    // 1. pre-release: backup of the old server, verified listed, then the file indexer off.
    o.verify(host)
        .runJob(
            argThat(
                q -> q.host().equals(EncodeFixtures.OLD) && q.command().contains("backup-push")));
    o.verify(s3)
        .verifyListed(
            argThat(
                q ->
                    q.bucket().equals("encoded-backups")
                        && q.markerSuffix().equals("_backup_stop_sentinel.json")));
    o.verify(hostConfig)
        .replaceInFile(argThat(q -> q.host().equals(EncodeFixtures.OLD) && q.to().startsWith("#")));
    o.verify(host)
        .runCommand(
            argThat(
                q ->
                    q.host().equals(EncodeFixtures.OLD)
                        && q.command().contains("apache2 restart")));
    // 2. tag
    o.verify(git)
        .tagRelease(
            argThat(q -> q.tag().equals("v92.0") && q.branch().equals("master") && q.push()));
    // 3. data nodes, then the master, cloud-init, health
    o.verify(ec2)
        .launch(
            argThat(
                q ->
                    q.name().equals("v92-data")
                        && q.count() == 3
                        && q.instanceType().equals("m4.xlarge")
                        && q.tags().get("elasticsearch-cluster").equals("v92-cluster")
                        && q.userData().contains("branch: v92.0")));
    o.verify(ec2)
        .launch(
            argThat(
                q ->
                    q.name().equals("v92-master")
                        && q.count() == 1
                        && q.instanceType().equals("c4.8xlarge")));
    o.verify(hostConfig)
        .waitForLog(
            argThat(
                q ->
                    q.path().equals("/var/log/cloud-init-output.log")
                        && q.host().equals(EncodeFixtures.NEW)));
    o.verify(es)
        .waitForHealth(
            argThat(
                q ->
                    q.expectedNodes()
                        .equals(List.of("v92-data1", "v92-data2", "v92-data3", "v92-master"))));
    // 4. keys, each installed with the runbook's section and owner
    o.verify(iam)
        .rotateKey(
            argThat(
                q ->
                    q.userName().equals("write-encoded-backups")
                        && q.target().section().equals("default")
                        && q.target().owner().equals("postgres")));
    o.verify(iam)
        .rotateKey(
            argThat(
                q ->
                    q.userName().equals("upload-encode-files")
                        && q.target().section().equals("encode-files-upload")));
    o.verify(hostConfig)
        .replaceInFile(argThat(q -> q.host().equals(EncodeFixtures.NEW) && q.to().startsWith("#")));
    // 5. indexing (days allowed), 6. mail
    o.verify(indexer)
        .waitForLag(
            argThat(
                q ->
                    q.requireFirstFull()
                        && q.maxLag().equals(Duration.ofMinutes(10))
                        && q.limit().equals(Duration.ofDays(14))));
    o.verify(mail)
        .send(
            argThat(
                q ->
                    q.to().equals(List.of("ENCODE_DEVELOPERS@LIST.NIH.GOV"))
                        && q.subject().contains("down for writes")));
    // 7. switch-over
    o.verify(pg).enterRecovery(argThat(q -> q.server().name().equals("old")));
    o.verify(proxy)
        .switchUpstream(
            argThat(
                q ->
                    q.host().equals(EncodeFixtures.STANFORD)
                        && q.to().equals("v92.production.encodedcc.org")
                        && q.nginx().reloadCommand().equals("sudo nginx -s reload")
                        && q.nginx().testCommand().equals("sudo nginx -t")
                        && q.nginx().pidFile().equals("/run/nginx.pid")
                        // Watched until the new release answers ({XX} filled), by text only.
                        && "ENCODE v92".equals(q.probe().settleText())
                        && q.probe().settleStatus() == null));
    o.verify(proxy)
        .switchUpstream(
            argThat(
                q ->
                    q.host().equals(EncodeFixtures.BACKUP)
                        && q.nginx().reloadCommand().equals("sudo service nginx reload")
                        // No probeText: watched until it answers 200.
                        && q.probe().settleText() == null
                        && Integer.valueOf(200).equals(q.probe().settleStatus())));
    o.verify(iam).activateOnly(argThat(q -> q.activeKeyId().equals("AKNEWWRITEENCODEDBACKUPS")));
    o.verify(iam).activateOnly(argThat(q -> q.activeKeyId().equals("AKNEWUPLOADENCODEFILES")));
    o.verify(iam, times(2)).validateInstalledKey(any());
    o.verify(pg)
        .waitCaughtUp(argThat(q -> q.from().name().equals("old") && q.to().name().equals("new")));
    o.verify(pg).promote(argThat(q -> q.server().name().equals("new")));
    o.verify(host).runJob(argThat(q -> q.command().contains("batchupgrade")));
    o.verify(host)
        .runJob(
            argThat(
                q -> q.host().equals(EncodeFixtures.NEW) && q.command().contains("backup-push")));
    o.verify(s3).verifyListed(any());
    // 8. after
    o.verify(s3)
        .copyFromHost(
            argThat(
                q ->
                    q.host().equals(EncodeFixtures.OLD)
                        && q.bucket().equals("encoded-logs")
                        && q.prefix().equals("production/v91/apache2")));
    o.verify(hostConfig)
        .ensureCronLine(argThat(q -> q.user().equals("root") && q.line().startsWith("00 7 * * *")));
    o.verify(redmine)
        .closeTickets(
            argThat(q -> q.fromStatus().equals("Release Ready") && q.toStatus().equals("Closed")));
    o.verify(hostConfig)
        .replaceInFile(
            argThat(q -> q.host().equals(EncodeFixtures.NEW) && q.from().startsWith("#")));
    verify(ec2, never()).terminateInstance(any());
    verify(pg, never()).promote(argThat(q -> q.server().name().equals("old")));

    assertTrue(
        p.notes().stream()
            .anyMatch(
                n ->
                    n.contains(
                        "IAM write-encoded-backups: new key AKNEWWRITEENCODEDBACKUPS (inactive)")),
        p.notes().toString());
    assertTrue(
        p.notes().stream().anyMatch(n -> n.contains("first indexing done after PT72H")),
        p.notes().toString());
    assertTrue(
        p.notes().stream().anyMatch(n -> n.contains("proxy stanford-proxy: no downtime")),
        p.notes().toString());
    assertTrue(
        p.notes().stream().anyMatch(n -> n.contains("Redmine: closed [11, 12]")),
        p.notes().toString());
    assertTrue(
        p.notes().stream()
            .anyMatch(
                n ->
                    n.startsWith("writes were unavailable for PT")
                        && n.contains("(the old PostgreSQL into recovery) to ")),
        p.notes().toString());
  }

  // ---- single servers ----

  @Test
  void aCandidateIsOneServerAndSwitchesProductionOver(
      TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "candidate");
    toSwitchOver(env, wf);
    approve(env, wf, EncodeRelease.STABLE_GATE);
    ReleaseProgress p = result(wf).progress();
    assertEquals(ReleaseStatus.SUCCEEDED, p.status());
    verify(ec2, times(1))
        .launch(
            argThat(
                q ->
                    q.name().equals("v92-b")
                        && q.count() == 1
                        && q.instanceType().equals("c4.4xlarge")
                        && q.iamInstanceProfile().equals("production")));
    verify(es, never()).waitForHealth(any());
    verify(pg).promote(any());
  }

  @Test
  void aTestServerIsDeployedOnlyNothingInProductionChanges(
      TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "test");
    approve(env, wf, EncodeRelease.MERGES_GATE);
    ReleaseResult r = result(wf);
    assertEquals(ReleaseStatus.SUCCEEDED, r.progress().status());
    assertTrue(r.summary().contains("test server v92-test is up (no switch-over"), r.summary());
    verify(ec2).launch(argThat(q -> q.name().equals("v92-test")));
    verify(host, never()).runJob(any());
    verify(hostConfig, never()).replaceInFile(any());
    verify(pg, never()).enterRecovery(any());
    verify(proxy, never()).switchUpstream(any());
    verify(iam, never()).rotateKey(any());
  }

  // ---- the cluster's health ----

  @Test
  void aBadNodeIsReplacedThenTheReplicasSetAndHealthCheckedAgain(
      TestWorkflowEnvironment env, WorkflowClient client) {
    healths.add(health("yellow", List.of("v92-data2")));
    healths.add(health("green", List.of()));
    EncodeRelease wf = start(client, "clustered");
    approve(env, wf, EncodeRelease.MERGES_GATE);
    awaitGate(env, wf, EncodeRelease.QUIET_GATE);
    InOrder o = inOrder(ec2, es);
    o.verify(ec2).findInstances(argThat(q -> q.tags().get("Name").equals("v92-data2")));
    o.verify(ec2).terminateInstance(argThat(q -> q.instanceId().equals("i-bad")));
    o.verify(ec2)
        .launch(
            argThat(
                q ->
                    q.name().equals("v92-data2")
                        && q.count() == 1
                        && q.tags().get("elasticsearch-cluster").equals("v92-cluster")));
    o.verify(es).setReplicas(argThat(q -> q.index().equals("_all") && q.replicas() == 2));
    o.verify(es).waitForHealth(any());
    ReleaseProgress p = wf.progress();
    assertTrue(
        p.notes().stream()
            .anyMatch(n -> n.contains("is yellow with 3 of 4 nodes; missing v92-data2")),
        p.notes().toString());
    WorkflowStub.fromTyped(wf).cancel();
  }

  @Test
  void aNodeStillMissingAfterItsReplacementFailsTheRelease(
      TestWorkflowEnvironment env, WorkflowClient client) {
    healths.add(health("red", List.of("v92-data1")));
    healths.add(health("yellow", List.of("v92-data1")));
    EncodeRelease wf = start(client, "clustered");
    approve(env, wf, EncodeRelease.MERGES_GATE);
    WorkflowFailedException f = assertThrows(WorkflowFailedException.class, () -> result(wf));
    String why = f.getCause().getMessage();
    assertTrue(
        why.contains("cluster v92-cluster is still yellow without v92-data1 after the replacement"),
        why);
    ReleaseProgress p = wf.progress();
    verify(ec2, times(1)).terminateInstance(any());
    verify(iam, never()).rotateKey(any());
    // The release rolled back what it changed in production: the file indexer is on again.
    verify(hostConfig)
        .replaceInFile(
            argThat(q -> q.host().equals(EncodeFixtures.OLD) && q.from().startsWith("#")));
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status());
  }

  // ---- gates ----

  @Test
  void theTagWaitsForTheMergeAdminNotTheDriver(TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "clustered");
    DecisionReply byDriver =
        decide(env, wf, EncodeRelease.MERGES_GATE, GateDecision.Decision.APPROVE, "ben");
    assertFalse(byDriver.accepted(), byDriver.toString());
    verify(git, never()).tagRelease(any());
    approve(env, wf, EncodeRelease.MERGES_GATE);
    awaitGate(env, wf, EncodeRelease.QUIET_GATE);
    verify(git).tagRelease(any());
    WorkflowStub.fromTyped(wf).cancel();
  }

  @Test
  void theSwitchOverWaitsForTheIndexingAndTheQuietGate(
      TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "clustered");
    approve(env, wf, EncodeRelease.MERGES_GATE);
    awaitGate(env, wf, EncodeRelease.QUIET_GATE);
    verify(indexer).waitForLag(any());
    verify(mail, never()).send(any());
    verify(pg, never()).enterRecovery(any());
    // A day passes at the gate: nothing moves.
    env.sleep(Duration.ofDays(1));
    verify(pg, never()).enterRecovery(any());
    assertTrue(
        decide(env, wf, EncodeRelease.QUIET_GATE, GateDecision.Decision.REJECT, "ben").accepted());
    ReleaseProgress p = failed(wf);
    verify(pg, never()).enterRecovery(any());
    verify(proxy, never()).switchUpstream(any());
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status(), steps(p));
  }

  @Test
  void theIndexingWaitIsOneActivityAllowedDays(TestWorkflowEnvironment env, WorkflowClient client) {
    // The first indexing takes days: the activity heartbeats; the workflow only waits. A wait that
    // runs out fails the release before anything in production is switched.
    when(indexer.waitForLag(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "lag still 3h after P14D", "IndexerWaitExpired"));
    EncodeRelease wf = start(client, "clustered");
    approve(env, wf, EncodeRelease.MERGES_GATE);
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status());
    assertEquals(StepStatus.FAILED, step(p, "wait for the first full indexing").status());
    verify(pg, never()).enterRecovery(any());
    verify(mail, never()).send(any());
  }

  @Test
  void rejectingSiteStableKeepsTheFileIndexerOffAndSaysSo(
      TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    assertTrue(
        decide(env, wf, EncodeRelease.STABLE_GATE, GateDecision.Decision.REJECT, "ben").accepted());
    ReleaseProgress p = result(wf).progress();
    assertEquals(ReleaseStatus.SUCCEEDED, p.status());
    verify(hostConfig, never())
        .replaceInFile(
            argThat(q -> q.host().equals(EncodeFixtures.NEW) && q.from().startsWith("#")));
    assertTrue(
        p.notes().stream().anyMatch(n -> n.contains("the file indexer stays off on v92-master")),
        p.notes().toString());
  }

  // ---- rollback before the promotion ----

  @Test
  void aFailureBeforeThePromotionPutsEverythingBack(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(pg.waitCaughtUp(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "new replayed 0/2000000, old 0/3000148", "PostgresNotCaughtUp"));
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    ReleaseProgress p = failed(wf);
    keep(client, wf, "encode-not-caught-up-rolled-back");
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status(), steps(p));
    verify(pg, never()).promote(argThat(q -> q.server().name().equals("new")));
    InOrder o = inOrder(proxy, pg, iam, hostConfig);
    // Undone in reverse: keys, proxies, old PostgreSQL, file indexer.
    o.verify(iam)
        .activateOnly(
            argThat(
                q ->
                    q.userName().equals("upload-encode-files")
                        && q.activeKeyId().equals("AKCURRENTUPLOADENCODEFILES")));
    o.verify(iam)
        .activateOnly(
            argThat(
                q ->
                    q.userName().equals("write-encoded-backups")
                        && q.activeKeyId().equals("AKCURRENTWRITEENCODEDBACKUPS")));
    o.verify(proxy)
        .switchUpstream(
            argThat(
                q ->
                    q.host().equals(EncodeFixtures.BACKUP)
                        && q.to().equals("v91.production.encodedcc.org")));
    o.verify(proxy)
        .switchUpstream(
            argThat(
                q ->
                    q.host().equals(EncodeFixtures.STANFORD)
                        && q.to().equals("v91.production.encodedcc.org")));
    o.verify(pg).promote(argThat(q -> q.server().name().equals("old")));
    o.verify(hostConfig)
        .replaceInFile(
            argThat(q -> q.host().equals(EncodeFixtures.OLD) && q.from().startsWith("#")));
  }

  @Test
  void anUndoThatFailsIsRollbackIncompleteNotRolledBack(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(pg.waitCaughtUp(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure("not caught up", "PostgresNotCaughtUp"));
    when(proxy.switchUpstream(argThat(q -> q != null && q.to().startsWith("v91"))))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure("nginx -t failed", "NginxConfigRejected"));
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLBACK_INCOMPLETE, p.status(), steps(p));
    verify(pg).promote(argThat(q -> q.server().name().equals("old")));
  }

  @Test
  void theOldServerStillTakingWritesStopsBeforeTheProxies(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(pg.enterRecovery(any())).thenReturn(state("old", false));
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    ReleaseProgress p = failed(wf);
    verify(proxy, never()).switchUpstream(any());
    verify(pg).promote(argThat(q -> q.server().name().equals("old")));
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status());
  }

  // ---- after the promotion: no automatic way back ----

  @Test
  void aFailureAfterThePromotionStopsAtAGateAndRetriesOnApproval(
      TestWorkflowEnvironment env, WorkflowClient client) {
    AtomicInteger upgrades = new AtomicInteger();
    when(host.runJob(argThat(q -> q != null && q.command().contains("batchupgrade"))))
        .thenAnswer(
            i -> {
              if (upgrades.incrementAndGet() == 1) {
                throw ApplicationFailure.newNonRetryableFailure(
                    "batchupgrade exited 1", "RemoteJobFailed");
              }
              return new JobResult("u", 0, 0, 0, "", 1, false, false);
            });
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    GateView g = awaitGate(env, wf, EncodeRelease.AFTER_PROMOTION_GATE);
    ReleaseProgress p = wf.progress();
    assertTrue(
        p.notes().stream()
            .anyMatch(
                n ->
                    n.contains("batch upgrade on v92-master failed after the promotion")
                        && n.contains("no")),
        p.notes().toString());
    // Nothing was rolled back: the new server stays primary, the proxies on it.
    verify(pg, never()).promote(argThat(q -> q.server().name().equals("old")));
    verify(proxy, times(2)).switchUpstream(any());
    approve(env, wf, EncodeRelease.AFTER_PROMOTION_GATE);
    approve(env, wf, EncodeRelease.STABLE_GATE);
    assertEquals(ReleaseStatus.SUCCEEDED, result(wf).progress().status());
    assertEquals(2, upgrades.get());
    keep(client, wf, "encode-after-promotion-gate-retried");
  }

  @Test
  void rejectedAfterThePromotionTheReleaseEndsFailedWithNothingUndone(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(s3.copyFromHost(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "no such bucket encoded-logs", "S3NoSuchBucket"));
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    assertTrue(
        decide(env, wf, EncodeRelease.AFTER_PROMOTION_GATE, GateDecision.Decision.REJECT, "ben")
            .accepted());
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.FAILED, p.status(), steps(p));
    verify(pg, never()).promote(argThat(q -> q.server().name().equals("old")));
    verify(proxy, times(2)).switchUpstream(any());
    verify(iam, times(2)).activateOnly(any());
  }

  @Test
  void aPromotionThatFailedButHappenedIsNotRolledBack(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(pg.promote(argThat(q -> q != null && q.server().name().equals("new"))))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "timed out waiting for a write", "PostgresPromoteFailed"));
    when(pg.state(any())).thenReturn(state("new", false));
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    approve(env, wf, EncodeRelease.STABLE_GATE);
    ReleaseProgress p = result(wf).progress();
    assertEquals(ReleaseStatus.SUCCEEDED, p.status(), steps(p));
    verify(pg, never()).promote(argThat(q -> q.server().name().equals("old")));
    assertTrue(
        p.notes().stream()
            .anyMatch(
                n ->
                    n.contains("the promotion step failed")
                        && n.contains("the new server is primary")),
        p.notes().toString());
  }

  @Test
  void aPromotionThatFailedAndDidNotHappenRollsBack(
      TestWorkflowEnvironment env, WorkflowClient client) {
    when(pg.promote(argThat(q -> q != null && q.server().name().equals("new"))))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure(
                "pg_promote returned false", "PostgresPromoteFailed"));
    EncodeRelease wf = start(client, "clustered");
    toSwitchOver(env, wf);
    ReleaseProgress p = failed(wf);
    assertEquals(ReleaseStatus.ROLLED_BACK, p.status(), steps(p));
    verify(pg).promote(argThat(q -> q.server().name().equals("old")));
  }

  // ---- a rehearsal ----

  @Test
  void aRehearsalChangesNothingAndSaysSo(TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "clustered", EncodeFixtures.site(), true);
    toSwitchOver(env, wf);
    approve(env, wf, EncodeRelease.STABLE_GATE);
    ReleaseResult r = result(wf);
    assertTrue(r.summary().startsWith("rehearsed: "), r.summary());
    verify(pg).enterRecovery(argThat(PostgresReplicationActivities.ServerRequest::dryRun));
    verify(proxy, times(2)).switchUpstream(argThat(ProxyActivities.UpstreamSwitchRequest::dryRun));
    verify(ec2, times(2)).launch(argThat(Ec2Activities.LaunchRequest::dryRun));
  }

  @Test
  void withoutRedmineConfiguredTheTicketsAreASkippedStep(
      TestWorkflowEnvironment env, WorkflowClient client) {
    EncodeRelease wf = start(client, "clustered", EncodeFixtures.site(null), false);
    toSwitchOver(env, wf);
    approve(env, wf, EncodeRelease.STABLE_GATE);
    ReleaseProgress p = result(wf).progress();
    assertEquals(StepStatus.SKIPPED, step(p, "Redmine").status());
    verify(redmine, never()).closeTickets(any());
  }
}
