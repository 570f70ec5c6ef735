package dev.crewchief.metaspace;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.AnsibleActivities;
import dev.crewchief.activities.CiActivities;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.HttpProbeActivities;
import dev.crewchief.activities.JobRequest;
import dev.crewchief.activities.JobResult;
import dev.crewchief.activities.Notification;
import dev.crewchief.activities.NotifyActivities;
import dev.crewchief.activities.NotifyChannels;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SupervisorActivities;
import dev.crewchief.activities.WebhookActivities;
import dev.crewchief.activities.WebhookRequest;
import dev.crewchief.release.Release;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The activity stubs of a METASPACE release, each with the timeouts and retries of its kind of
 * step, and the small steps several strategies share (the web deployment, the admin switches,
 * Slack, the host's commands and jobs).
 *
 * <p>Long steps (a reindex, an index update, waiting for CI) run as one heartbeating activity each,
 * allowed {@code longJobLimit}: the workflow waits for them without a loop of its own, and a worker
 * restarted meanwhile picks the same task or job up again.
 */
final class MetaspaceSteps {
  private static final Duration BEAT = Duration.ofMinutes(2);

  final Release release;
  final MetaspaceSite site;
  final MetaspaceConfig cfg;
  final boolean dry;
  final GitActivities git;
  final CiActivities ci;
  final AnsibleActivities ansible;
  final ElasticsearchActivities es;
  final ElasticsearchActivities esLong;
  final RemoteHostActivities host;
  final RemoteHostActivities hostJobs;
  final SupervisorActivities supervisor;
  final Ec2Activities ec2;
  final WebhookActivities admin;
  final NotifyActivities slack;
  final HttpProbeActivities probe;

  MetaspaceSteps(Release release, MetaspaceSite site) {
    this.release = release;
    this.site = site;
    this.cfg = site.config();
    this.dry = release.dryRun();
    Duration longJob = cfg.longJobLimit();
    git =
        stub(
            GitActivities.class,
            Duration.ofMinutes(10),
            null,
            ReleaseWorkflow.remoteRetry(
                "RepoMissing",
                "WrongBranch",
                "BranchMissing",
                "NotFastForward",
                "MainMoved",
                "TagConflict",
                "PushRejected",
                "WorkTreeDirty",
                "LocalCommitsAhead",
                "FileMissing",
                "GitAuthFailed",
                "GitMissing",
                "InvalidInput"));
    Duration ciWait = cfg.ci() == null ? Duration.ofHours(2) : cfg.ci().waitLimit();
    ci =
        stub(
            CiActivities.class,
            ciWait.plusMinutes(10),
            BEAT,
            ReleaseWorkflow.remoteRetry(
                "CiRed",
                "CiPending",
                "CiBuildMissing",
                "CiAuthFailed",
                "SecretUnresolved",
                "InvalidInput"));
    ansible =
        stub(
            AnsibleActivities.class,
            Duration.ofHours(2),
            BEAT,
            ReleaseWorkflow.remoteRetry(
                "PlaybookFailed",
                "AnsibleMissing",
                "InventoryInvalid",
                "SecretUnresolved",
                "InvalidInput"));
    String[] esFinal = {
      "IndexMissing",
      "IndexExists",
      "IndexServing",
      "AliasConflict",
      "ReindexFailed",
      "ElasticsearchAuthFailed",
      "SecretUnresolved",
      "InvalidInput"
    };
    es = stub(ElasticsearchActivities.class, Duration.ofMinutes(15), BEAT, remote(esFinal));
    esLong = stub(ElasticsearchActivities.class, longJob, BEAT, remote(esFinal));
    String[] sshFinal = {
      "SshAuthFailed",
      "HostKeyMismatch",
      "HostKeyUnknown",
      "RemoteCommandFailed",
      "RemoteToolMissing",
      "RemoteJobFailed",
      "SecretUnresolved",
      "InvalidInput"
    };
    host = stub(RemoteHostActivities.class, Duration.ofMinutes(30), null, remote(sshFinal));
    hostJobs = stub(RemoteHostActivities.class, longJob, BEAT, remote(sshFinal));
    supervisor =
        stub(
            SupervisorActivities.class,
            Duration.ofMinutes(15),
            BEAT,
            remote("ProgramDown", "RemoteToolMissing", "SshAuthFailed", "HostKeyMismatch"));
    ec2 =
        stub(
            Ec2Activities.class,
            Duration.ofHours(2),
            BEAT,
            remote(
                "InstanceMissing",
                "ImageFailed",
                "AddressMissing",
                "TerminationProtected",
                "AwsAuthFailed",
                "AwsRequestRefused",
                "SecretUnresolved",
                "InvalidInput"));
    admin =
        stub(
            WebhookActivities.class,
            Duration.ofMinutes(1),
            null,
            remote("WebhookRejected", "SecretUnresolved", "InvalidInput"));
    // A failed Slack message must not fail the release: a few attempts, then a note.
    slack =
        stub(
            NotifyActivities.class,
            Duration.ofMinutes(2),
            Duration.ofSeconds(30),
            RetryOptions.newBuilder().setMaximumAttempts(3).build());
    Duration watchFor =
        cfg.probe() == null || cfg.probe().maxDuration() == null
            ? Duration.ofDays(3)
            : cfg.probe().maxDuration();
    probe = stub(HttpProbeActivities.class, watchFor.plusMinutes(10), BEAT, remote("InvalidInput"));
  }

  private static RetryOptions remote(String... doNotRetry) {
    return ReleaseWorkflow.remoteRetry(doNotRetry);
  }

  private static <T> T stub(Class<T> type, Duration startToClose, Duration beat, RetryOptions r) {
    return Workflow.newActivityStub(type, ReleaseWorkflow.options(startToClose, beat, r));
  }

  String releaseId() {
    return release.context().releaseId();
  }

  String version() {
    return release.context().version();
  }

  /** A command of the app on {@code on} as a step. */
  ActionResult run(String step, HostRef on, String command, String setting) {
    return release.step(
        step,
        () ->
            host.runCommand(
                new CommandRequest(step, on, command, dry, Map.of(firstWord(command), setting))));
  }

  /** A long command of the app on the host, in the background, followed to its end. */
  JobResult job(String step, String key, String command) {
    return release.step(
        step,
        () ->
            hostJobs.runJob(
                new JobRequest(
                    step,
                    site.host(),
                    releaseId() + "-" + key,
                    command,
                    cfg.commands().progressRegex(),
                    Duration.ofSeconds(10),
                    dry)));
  }

  /** The Ansible web deployment of this version to {@code on} (its inventory host). */
  AnsibleActivities.PlaybookResult deploy(String step, HostRef on) {
    MetaspaceConfig.Ansible a = cfg.ansible();
    Map<String, String> vars = new LinkedHashMap<>();
    if (a.extraVars() != null) {
      vars.putAll(a.extraVars());
    }
    vars.put("version", version());
    return release.step(
        step,
        () ->
            ansible.runPlaybook(
                new AnsibleActivities.PlaybookRequest(
                    step,
                    a.program(),
                    a.checkout(),
                    a.playbook(),
                    a.inventory(),
                    a.inventoryHost(),
                    vars,
                    on.user(),
                    on.privateKeyRef(),
                    on.knownHosts(),
                    dry)));
  }

  /** A switch of the app's admin API ({"processing": false}, {"readOnly": true}, ...). */
  ActionResult adminSwitch(String step, String field, boolean on) {
    return release.step(
        step,
        () ->
            admin.post(
                new WebhookRequest(
                    step,
                    cfg.admin().url(),
                    cfg.admin().authorization(),
                    releaseId() + "/" + step,
                    "{\"" + field + "\": " + on + "}",
                    dry)));
  }

  /** Tells the team's channel; a failure to tell is noted, not fatal. */
  void announce(String step, String text) {
    if (cfg.slack() == null || cfg.slack().webhook() == null) {
      release.skip(step, "metaspace.slack is not configured");
      return;
    }
    try {
      release.step(
          step,
          () -> {
            slack.notify(
                new Notification(
                    step,
                    releaseId(),
                    Notification.Kind.ANNOUNCEMENT,
                    List.of(),
                    text,
                    text,
                    null,
                    List.of(),
                    new NotifyChannels(
                        null,
                        new NotifyChannels.Chat(cfg.slack().channel(), cfg.slack().webhook()))));
            return text;
          });
    } catch (ActivityFailure e) {
      release.note(
          "Slack: '" + text + "' could not be sent to " + cfg.slack().channel() + ": tell them");
    }
  }

  /** The site watched from now until the new version serves, or null when not configured. */
  HttpProbeActivities.PeriodWatchRequest watchRequest(String step) {
    MetaspaceConfig.Probe p = cfg.probe();
    if (p == null || p.url() == null) {
      return null;
    }
    return new HttpProbeActivities.PeriodWatchRequest(
        step, p.url(), version(), null, p.messageText(), p.interval(), 3, p.maxDuration(), dry);
  }

  private static String firstWord(String command) {
    String t = command.strip();
    int sp = t.indexOf(' ');
    return sp < 0 ? t : t.substring(0, sp);
  }
}
