package dev.crewchief.encode;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.HostConfigActivities;
import dev.crewchief.activities.HostRef;
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
import dev.crewchief.release.Release;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Function;

/**
 * The activity stubs of an ENCODE release, each with the timeouts and retries of its kind of step,
 * and the small steps the release repeats (a command or job on a server, the file indexer's switch,
 * a base backup proved listed). Days-long waits (first indexing, replica catch-up) are one
 * heartbeating activity each, allowed {@code longWaitLimit}.
 */
final class EncodeSteps {
  private static final Duration BEAT = Duration.ofMinutes(2);
  private static final String[] SSH_FINAL = {
    "SshAuthFailed",
    "HostKeyMismatch",
    "HostKeyUnknown",
    "HostAuth",
    "RemoteCommandFailed",
    "RemoteToolMissing",
    "RemoteJobFailed",
    "NoSuchFile",
    "EditNotFound",
    "LogShowsError",
    "LogWaitExpired",
    "SecretUnresolved",
    "InvalidInput"
  };
  private static final String[] AWS_FINAL = {
    "AwsAuth",
    "AwsConfig",
    "AwsAuthFailed",
    "AwsRequestRefused",
    "InstanceMissing",
    "IamNoSuchUser",
    "IamKeyLimit",
    "CredentialsFile",
    "KeyValidationFailed",
    "S3NoSuchBucket",
    "BackupNotListed",
    "TerminationProtected",
    "SecretUnresolved",
    "InvalidInput"
  };

  final Release release;
  final EncodeSite site;
  final EncodeConfig cfg;
  final boolean dry;
  final GitActivities git;
  final Ec2Activities ec2;
  final ElasticsearchActivities es;
  final HostConfigActivities hostConfig;
  final RemoteHostActivities host;
  final RemoteHostActivities hostJobs;
  final IamActivities iam;
  final S3Activities s3;
  final IndexerActivities indexer;
  final MailActivities mail;
  final PostgresReplicationActivities pg;
  final PostgresReplicationActivities pgLong;
  final ProxyActivities proxy;
  final RedmineActivities redmine;

  EncodeSteps(Release release, EncodeSite site) {
    this.release = release;
    this.site = site;
    this.cfg = site.config();
    this.dry = release.dryRun();
    Duration longWait = cfg.longWaitLimit();
    git =
        stub(
            GitActivities.class,
            Duration.ofMinutes(10),
            null,
            remote(
                "RepoMissing",
                "WrongBranch",
                "BranchMissing",
                "TagConflict",
                "PushRejected",
                "WorkTreeDirty",
                "LocalCommitsAhead",
                "GitAuthFailed",
                "GitMissing",
                "InvalidInput"));
    ec2 = stub(Ec2Activities.class, Duration.ofHours(1), BEAT, remote(AWS_FINAL));
    iam = stub(IamActivities.class, Duration.ofMinutes(10), null, remote(AWS_FINAL));
    s3 = stub(S3Activities.class, Duration.ofHours(2), BEAT, remote(AWS_FINAL));
    es =
        stub(
            ElasticsearchActivities.class,
            cfg.elasticsearch().healthLimit().plusMinutes(10),
            BEAT,
            remote("ElasticsearchAuthFailed", "IndexMissing", "SecretUnresolved", "InvalidInput"));
    hostConfig =
        stub(
            HostConfigActivities.class,
            cfg.deploy().cloudInit().limit().plusMinutes(10),
            BEAT,
            remote(SSH_FINAL));
    host = stub(RemoteHostActivities.class, Duration.ofMinutes(30), null, remote(SSH_FINAL));
    hostJobs = stub(RemoteHostActivities.class, longWait, BEAT, remote(SSH_FINAL));
    indexer =
        stub(
            IndexerActivities.class,
            longWait.plusMinutes(10),
            BEAT,
            remote("IndexerBadResponse", "IndexerWaitExpired", "InvalidInput"));
    mail =
        stub(
            MailActivities.class,
            Duration.ofMinutes(2),
            null,
            remote("MailRejected", "MailAuthFailed", "SecretUnresolved", "InvalidInput"));
    String[] pgFinal = {
      "PostgresAuth",
      "PostgresConfig",
      "PostgresNotCaughtUp",
      "PostgresPromoteFailed",
      "SshAuthFailed",
      "HostKeyMismatch",
      "HostKeyUnknown",
      "SecretUnresolved",
      "InvalidInput"
    };
    pg = stub(PostgresReplicationActivities.class, Duration.ofMinutes(15), BEAT, remote(pgFinal));
    pgLong = stub(PostgresReplicationActivities.class, longWait, BEAT, remote(pgFinal));
    proxy =
        stub(
            ProxyActivities.class,
            Duration.ofMinutes(10),
            null,
            remote(
                "RestartRefused",
                "NginxConfigRejected",
                "SiteConfigMissing",
                "EditNotFound",
                "SshAuthFailed",
                "HostKeyMismatch",
                "HostKeyUnknown",
                "InvalidInput"));
    redmine =
        stub(
            RedmineActivities.class,
            Duration.ofMinutes(10),
            null,
            remote("RedmineAuth", "RedmineConfig", "SecretUnresolved", "InvalidInput"));
  }

  private static RetryOptions remote(String... doNotRetry) {
    return ReleaseWorkflow.remoteRetry(doNotRetry);
  }

  private static <T> T stub(Class<T> type, Duration startToClose, Duration beat, RetryOptions r) {
    return Workflow.newActivityStub(type, ReleaseWorkflow.options(startToClose, beat, r));
  }

  /** A step whose activity request carries the step's name: given once, here. */
  <T> T step(String name, Function<String, T> body) {
    return release.step(name, () -> body.apply(name));
  }

  String releaseId() {
    return release.context().releaseId();
  }

  String version() {
    return release.context().version();
  }

  /** {XX} is this version, {YY} the old one. */
  String fill(String template, String oldVersion) {
    return template == null
        ? null
        : template.replace("{XX}", version()).replace("{YY}", oldVersion == null ? "" : oldVersion);
  }

  /** A command on {@code on} as a step. */
  ActionResult run(String name, HostRef on, String command, String setting) {
    return step(
        name,
        n ->
            host.runCommand(
                new CommandRequest(n, on, command, dry, Map.of(firstWord(command), setting))));
  }

  /** A long command on {@code on}, in the background, followed to its end (resumed by id). */
  JobResult job(String name, HostRef on, String key, String command) {
    return step(
        name,
        n ->
            hostJobs.runJob(
                new JobRequest(
                    n, on, releaseId() + "-" + key, command, null, Duration.ofSeconds(10), dry)));
  }

  /** The file indexer switched on {@code on} (its apache config edited, apache restarted). */
  void fileIndexer(HostRef on, boolean enable) {
    EncodeConfig.FileIndexer f = cfg.fileIndexer();
    String what = (enable ? "on" : "off") + " on " + on.name();
    step(
        "file indexer " + what + ": edit " + f.configPath(),
        n ->
            hostConfig.replaceInFile(
                new HostConfigActivities.ReplaceRequest(
                    n,
                    on,
                    f.configPath(),
                    enable ? f.off() : f.on(),
                    enable ? f.on() : f.off(),
                    f.sudo(),
                    dry)));
    run("file indexer " + what + ": restart apache", on, f.restart(), "encode.fileIndexer.restart");
  }

  /** A base backup on {@code on} pushed to S3, then proved listed there. */
  S3Activities.Listed baseBackup(String what, HostRef on, String key) {
    EncodeConfig.Backup b = cfg.backup();
    Instant since = Instant.ofEpochMilli(Workflow.currentTimeMillis());
    job("base backup of " + what + " pushed to S3", on, key, b.command());
    S3Activities.Listed listed =
        step(
            "base backup of " + what + " listed in s3://" + b.bucket() + "/" + b.prefix(),
            n ->
                s3.verifyListed(
                    new S3Activities.ListedRequest(
                        n, site.aws(), b.bucket(), b.prefix(), since, b.marker(), dry)));
    if (!dry) {
      release.note(
          "base backup of "
              + what
              + ": "
              + listed.objects()
              + " objects, "
              + listed.bytes()
              + " bytes, newest "
              + listed.newestKey());
    }
    return listed;
  }

  private static String firstWord(String command) {
    String t = command.strip();
    int sp = t.indexOf(' ');
    return sp < 0 ? t : t.substring(0, sp);
  }
}
