package dev.crewchief.randopony;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.InspectRequest;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.PathFacts;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SourceRequirement;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.config.GateConfig;
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
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.TestWorkflowExtension;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.InOrder;

/** StagingDeploy with mocked activities: first deployment, update, refusals, dry run. */
class StagingDeployTest {
  @RegisterExtension
  static final TestWorkflowExtension testWorkflow = TestReleases.extension(StagingDeployImpl.class);

  static final String APP = "/home/rp/webapps/randopony2014r1";

  RemoteHostActivities host;
  ProxyActivities proxy;
  String taskQueue;

  @BeforeEach
  void mocks(TestWorkflowEnvironment env, Worker worker) {
    Mocks m = registerMocks(worker);
    host = m.host();
    proxy = m.proxy();
    taskQueue = worker.getTaskQueue();
    env.start();
  }

  /** The staging deploy's activities, mocked to succeed, registered on the worker. */
  record Mocks(RemoteHostActivities host, ProxyActivities proxy) {}

  static Mocks registerMocks(Worker worker) {
    RemoteHostActivities host =
        mock(RemoteHostActivities.class, withSettings().withoutAnnotations());
    ProxyActivities proxy = mock(ProxyActivities.class, withSettings().withoutAnnotations());
    NotifyActivities notify = mock(NotifyActivities.class, withSettings().withoutAnnotations());
    when(host.runCommand(any()))
        .thenAnswer(
            i -> new ActionResult(((CommandRequest) i.getArgument(0)).command(), false, ""));
    when(host.syncDirectory(any()))
        .thenReturn(new SyncResult("synced", false, List.of("setup.py"), 0));
    when(proxy.switchSite(any())).thenReturn(new SwitchResult("switched", false, "", null));
    when(proxy.probe(any())).thenReturn(new ActionResult("probed", false, "200"));
    worker.registerActivitiesImplementations(host, proxy, notify);
    return new Mocks(host, proxy);
  }

  ReleaseResult deploy(WorkflowClient client, String version, boolean dryRun) {
    return deploy(client, version, dryRun, PromoteToProductionTest.SITE);
  }

  /** The test site with another source layout. */
  static RandoPonySite site(RandoPonyLayout layout) {
    RandoPonySite s = PromoteToProductionTest.SITE;
    return new RandoPonySite(
        s.host(),
        s.appName(),
        s.webappsDir(),
        s.sourceDir(),
        s.codeDirName(),
        s.python(),
        s.supervisord(),
        s.supervisorctl(),
        s.archiveDir(),
        s.stagingDomain(),
        s.productionDomain(),
        s.templateFiles(),
        s.releasePorts(),
        s.nginx(),
        layout);
  }

  /** A source laid out as current Python projects are: the second stand-in's layout. */
  static final RandoPonyLayout PYPROJECT =
      new RandoPonyLayout(
          "pony-express",
          "src/ponyexpress",
          List.of(),
          "etc/supervisord.conf",
          null,
          "wheelhouse",
          List.of(".git", "build"),
          List.of("*.sqlite"),
          200,
          "<title>Pony Express</title>");

  ReleaseResult deploy(WorkflowClient client, String version, boolean dryRun, RandoPonySite site) {
    ReleaseContext ctx =
        new ReleaseContext(
            StagingDeploy.RUNBOOK,
            "prod",
            version,
            dryRun,
            "tester",
            Map.of("crew-chief", List.of("alice")),
            Map.<String, GateConfig>of(),
            List.of());
    StagingDeploy wf =
        client.newWorkflowStub(
            StagingDeploy.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "prod", version))
                .setTaskQueue(taskQueue)
                .build());
    return wf.deploy(new StagingDeployRequest(ctx, site));
  }

  /** Whichever release is deployed, its app dir exists and nothing else does: a first deploy. */
  void appDirExists() {
    when(host.inspect(any()))
        .thenAnswer(
            i -> new PathFacts(true, List.of(((InspectRequest) i.getArgument(0)).paths().get(0))));
  }

  static CommandRequest cmd(String stepStart) {
    return argThat(r -> r != null && r.step().startsWith(stepStart));
  }

  @Test
  void firstDeploymentInitialisesEverything(WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(true, List.of(APP)));
    ReleaseResult r = deploy(client, "2014r1", false);
    assertTrue(r.summary().contains("deployed to staging"));
    InOrder order = inOrder(host, proxy);
    order.verify(host).syncDirectory(argThat(s -> s.remoteDir().equals(APP + "/randopony-tetra")));
    order.verify(host).runCommand(cmd("create virtualenv"));
    order.verify(host).runCommand(cmd("install app into virtualenv"));
    order
        .verify(host)
        .runCommand(
            argThat(
                c ->
                    c.step().equals("delete template app files")
                        && c.command().contains("rm -rf myapp")));
    order.verify(host).runCommand(cmd("set app port"));
    order
        .verify(host)
        .runCommand(
            argThat(
                c ->
                    c.step().equals("credentials to mode 400")
                        && c.command().contains("chmod 400")));
    order
        .verify(host)
        .runCommand(
            argThat(
                c ->
                    c.step().startsWith("symlink staging.ini")
                        && c.command().contains("staging.ini bin/start")));
    order
        .verify(host)
        .runCommand(argThat(c -> c.command().contains("initialize_RandoPony_db staging.ini")));
    order.verify(host).runCommand(cmd("start app"));
    order.verify(proxy).probe(argThat(p -> p.url().equals("http://127.0.0.1:19307/")));
    order.verify(host).runCommand(cmd("start staging supervisor"));
    order
        .verify(proxy)
        .switchSite(
            argThat(
                s ->
                    s.domain().equals("staging.test")
                        && Integer.valueOf(19307).equals(s.upstreamPort())));
    order.verify(proxy).probe(argThat(p -> "staging.test".equals(p.hostHeader())));
  }

  @Test
  void updateRestartsWithoutReinitialising(WorkflowClient client) {
    when(host.inspect(any()))
        .thenReturn(
            new PathFacts(
                true, List.of(APP, APP + "/venv/bin/python", APP + "/RandoPony-staging.sqlite")));
    deploy(client, "2014r1", false);
    verify(host, never()).runCommand(cmd("create virtualenv"));
    verify(host, never()).runCommand(cmd("delete template"));
    verify(host, never()).runCommand(argThat(c -> c.command().contains("initialize_RandoPony_db")));
    InOrder order = inOrder(host);
    order.verify(host).runCommand(cmd("stop app"));
    order.verify(host).runCommand(cmd("start app"));
    order.verify(host).runCommand(cmd("stop staging supervisor"));
    order.verify(host).runCommand(cmd("start staging supervisor"));
  }

  @Test
  void missingAppDirOrPromotedReleaseIsRefused(WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(true, List.of()));
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> deploy(client, "2014r1", false));
    assertEquals("InvalidInput", ((ApplicationFailure) e.getCause()).getType());
    assertTrue(e.getCause().getMessage().contains(APP), e.getCause().getMessage());
    verify(host, never()).syncDirectory(any());
  }

  @Test
  void aFailedDeployThatUndidNothingIsFailedNotRolledBack(WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(true, List.of(APP)));
    doThrow(ApplicationFailure.newNonRetryableFailure("no wheel", "RemoteCommandFailed"))
        .when(host)
        .runCommand(cmd("install app"));
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> deploy(client, "2014r1", false));
    assertEquals("RemoteCommandFailed", ((ApplicationFailure) e.getCause()).getType());
    ReleaseProgress p =
        client
            .newWorkflowStub(
                StagingDeploy.class, ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "prod", "2014r1"))
            .progress();
    assertEquals(ReleaseStatus.FAILED, p.status());
    assertTrue(
        p.notes().stream().anyMatch(n -> n.startsWith("nothing to roll back")),
        p.notes().toString());
    assertTrue(p.steps().stream().noneMatch(st -> st.name().startsWith("undo: ")), p.toString());
  }

  @Test
  void aSecretInPlaceOfItsReferenceIsRefusedBeforeAnythingRunsAndNotEchoed(WorkflowClient client) {
    RandoPonySite s = PromoteToProductionTest.SITE;
    String key = "-----BEGIN OPENSSH PRIVATE KEY-----b3BlbnNzaC1rZXktdjEAAAAA";
    RandoPonySite pasted =
        new RandoPonySite(
            new HostRef("web", "127.0.0.1", 22, "rp", key, s.host().knownHosts()),
            s.appName(),
            s.webappsDir(),
            s.sourceDir(),
            s.codeDirName(),
            s.python(),
            s.supervisord(),
            s.supervisorctl(),
            s.archiveDir(),
            s.stagingDomain(),
            s.productionDomain(),
            s.templateFiles(),
            s.releasePorts(),
            s.nginx());
    ReleaseContext ctx =
        new ReleaseContext(
            StagingDeploy.RUNBOOK,
            "prod",
            "2014r1",
            false,
            "another client",
            Map.of("crew-chief", List.of("alice")),
            Map.<String, GateConfig>of(),
            List.of());
    StagingDeploy wf =
        client.newWorkflowStub(
            StagingDeploy.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReleaseIds.workflowId(StagingDeploy.RUNBOOK, "prod", "2014r1"))
                .setTaskQueue(taskQueue)
                .build());
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class, () -> wf.deploy(new StagingDeployRequest(ctx, pasted)));
    ApplicationFailure f = (ApplicationFailure) e.getCause();
    assertEquals("InvalidInput", f.getType());
    assertTrue(
        f.getOriginalMessage().contains("input.site.host.privateKeyRef"), f.getOriginalMessage());
    assertTrue(!f.getOriginalMessage().contains("BEGIN OPENSSH"), "the key is not echoed");
    verify(host, never()).inspect(any());
  }

  @Test
  void promotedReleaseIsRefused(WorkflowClient client) {
    when(host.inspect(any()))
        .thenReturn(new PathFacts(true, List.of(APP, APP + "/production.ini")));
    WorkflowFailedException e =
        assertThrows(WorkflowFailedException.class, () -> deploy(client, "2014r1", false));
    assertTrue(
        e.getCause().getMessage().contains("promoted to production"), e.getCause().getMessage());
  }

  @Test
  void dryRunRehearsesAFirstDeployment(WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(false, List.of()));
    ReleaseResult r = deploy(client, "2014r1", true);
    assertTrue(r.summary().startsWith("rehearsed"));
    verify(host)
        .runCommand(argThat(c -> c.dryRun() && c.command().contains("initialize_RandoPony_db")));
    verify(host, never()).runCommand(argThat(c -> !c.dryRun()));
  }

  @Test
  void aSourceWithoutItsSupervisorConfigIsRefusedAtTheUploadBeforeAnythingChangesOnTheHost(
      WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(true, List.of(APP)));
    // Retryable as thrown: the workflow's own policy must not retry it either.
    doThrow(
            ApplicationFailure.newFailure(
                "source directory /src/randopony-tetra has no etc/supervisord.conf",
                "SourceIncomplete"))
        .when(host)
        .syncDirectory(any());
    WorkflowFailedException e =
        assertThrows(
            WorkflowFailedException.class, () -> deploy(client, "2014r1", false, site(PYPROJECT)));
    ApplicationFailure f = (ApplicationFailure) e.getCause();
    assertEquals("SourceIncomplete", f.getType());
    assertTrue(
        f.getOriginalMessage()
            .contains("source directory /src/randopony-tetra has no etc/supervisord.conf"),
        f.getOriginalMessage());
    verify(host, times(1))
        .syncDirectory(
            argThat(
                r ->
                    r.required()
                        .contains(
                            new SourceRequirement(
                                List.of("etc/supervisord.conf"),
                                "supervisor's config (supervisord -c): add it, or set"
                                    + " randopony.supervisorConf to its path in the source"
                                    + " directory"))));
    verify(host, never()).runCommand(any());
    verify(proxy, never()).switchSite(any());
  }

  @Test
  void theUploadMirrorsTheSourceAndRequiresWhatTheLaterStepsUse(WorkflowClient client) {
    appDirExists();
    deploy(client, "2014r1", false, site(PYPROJECT));
    verify(host)
        .syncDirectory(
            argThat(
                r ->
                    r.delete()
                        && r.excludes().equals(List.of(".git", "build"))
                        && r.protect().equals(List.of("*.sqlite"))
                        && r.required().stream()
                            .map(SourceRequirement::anyOf)
                            .toList()
                            .equals(
                                List.of(
                                    List.of("pyproject.toml", "setup.py"),
                                    List.of("staging.ini"),
                                    List.of("production.ini"),
                                    List.of("etc/supervisord.conf"),
                                    List.of("src/ponyexpress"),
                                    List.of("wheelhouse")))));
    // The stand-in's layout (no layout in the input, as in older histories) requires its
    // credentials file and supervisord.conf at the top, and leaves the data alone by default.
    deploy(client, "2013r1", false);
    verify(host)
        .syncDirectory(
            argThat(
                r ->
                    r.remoteDir().endsWith("randopony2013r1/randopony-tetra")
                        && r.delete()
                        && r.protect().contains("*.sqlite")
                        && r.protect().contains("*.log")
                        && r.required().stream()
                            .anyMatch(q -> q.anyOf().equals(List.of("supervisord.conf")))
                        && r.required().stream()
                            .anyMatch(
                                q ->
                                    q.anyOf()
                                        .equals(List.of("randopony/private_credentials.py")))));
  }

  @Test
  void theLayoutDecidesTheInstallTheLinksAndTheCredentials(WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(true, List.of(APP)));
    ReleaseResult r = deploy(client, "2014r1", false, site(PYPROJECT));
    String code = APP + "/randopony-tetra";
    verify(host)
        .runCommand(
            argThat(
                c ->
                    c.step().equals("install app into virtualenv")
                        && c.command()
                            .startsWith(
                                APP
                                    + "/venv/bin/pip install --quiet --disable-pip-version-check"
                                    + " --no-index --find-links "
                                    + code
                                    + "/wheelhouse "
                                    + code
                                    + " || ")
                        && c.command().contains(" show --quiet pony-express ")
                        && !c.command().contains("--no-deps")));
    verify(host)
        .runCommand(
            argThat(
                c ->
                    c.step().startsWith("symlink staging.ini")
                        && c.command()
                            .contains("ln -sfn randopony-tetra/src/ponyexpress ponyexpress")));
    verify(host, never()).runCommand(cmd("credentials to mode 400"));
    assertTrue(
        r.progress().steps().stream()
            .anyMatch(
                st ->
                    st.name().equals("credentials to mode 400")
                        && st.status() == StepStatus.SKIPPED
                        && st.detail().equals("randopony.credentialFiles is empty")),
        r.progress().steps().toString());
    // Every command names the host tools it may run, for a 127's message.
    verify(host, atLeastOnce())
        .runCommand(
            argThat(
                c ->
                    c.step().startsWith("start staging supervisor")
                        && c.tools()
                            .get("supervisord")
                            .startsWith(
                                "set randopony.supervisord to the"
                                    + " absolute path of supervisord on the host")));
  }

  @Test
  void theProbeAndTheSwitchWatchExpectWhatTheLayoutSays(WorkflowClient client) {
    when(host.inspect(any())).thenReturn(new PathFacts(true, List.of(APP)));
    // A text of the app's own: both probes look for it, and it tells "up" during the switch.
    deploy(client, "2014r1", false, site(PYPROJECT));
    verify(proxy, times(2))
        .probe(argThat(p -> "<title>Pony Express</title>".equals(p.expect()) && p.status() == 200));
    verify(proxy)
        .switchSite(
            argThat(
                s ->
                    s.probe().upText().equals("<title>Pony Express</title>")
                        && s.probe().settleText().equals("<title>Pony Express</title>")
                        && s.probe().settleStatus() == null
                        && s.settings().equals("randopony.nginx")));
  }

  @Test
  void aProbeTextNamingTheReleaseSettlesTheSwitchOnlyAndTheDefaultIsTheStatusAlone(
      WorkflowClient client) {
    appDirExists();
    RandoPonyLayout d = RandoPonyLayout.defaults("randopony");
    RandoPonyLayout named =
        new RandoPonyLayout(
            d.distribution(),
            d.packageDir(),
            d.credentialFiles(),
            d.supervisorConf(),
            null,
            null,
            d.excludes(),
            d.protect(),
            302,
            "{appName}{release}");
    deploy(client, "2014r1", false, site(named));
    verify(proxy, times(2))
        .probe(argThat(p -> "randopony2014r1".equals(p.expect()) && p.status() == 302));
    verify(proxy)
        .switchSite(
            argThat(
                s ->
                    s.probe().upText() == null
                        && s.probe().upStatus() == 302
                        && s.probe().settleText().equals("randopony2014r1")));

    deploy(client, "2013r1", false);
    verify(proxy, times(2)).probe(argThat(p -> p.expect() == null && p.status() == 200));
    verify(proxy)
        .switchSite(
            argThat(
                s ->
                    Integer.valueOf(19306).equals(s.upstreamPort())
                        && s.probe().upText() == null
                        && s.probe().settleText() == null
                        && s.probe().settleStatus() == 200
                        && s.probe().upStatus() == 200));
  }
}
