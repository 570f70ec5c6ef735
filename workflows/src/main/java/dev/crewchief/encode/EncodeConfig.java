package dev.crewchief.encode;

import dev.crewchief.config.SmtpConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * An environment's {@code encode} section: how the ENCODE release reaches each thing the runbook
 * names. Host and user names of the runbook (the proxies, {@code write-encoded-backups}, {@code
 * ENCODE_DEVELOPERS@LIST.NIH.GOV}) are values here, never constants. Secrets are references.
 *
 * @param oldServer the production server now serving (a name under the environment's hosts)
 * @param newServer how the new server (single candidate, or the cluster's master) is reached over
 *     SSH once launched: a name under the environment's hosts (its known_hosts must hold the host
 *     key the image boots with: keys are always verified)
 * @param longWaitLimit the longest a days-long wait (first indexing, catch-up) may take
 */
public record EncodeConfig(
    String oldServer,
    String newServer,
    Repo repo,
    Aws aws,
    Deploy deploy,
    Elasticsearch elasticsearch,
    List<KeyUser> keys,
    FileIndexer fileIndexer,
    Indexer indexer,
    Mail mail,
    Postgres postgres,
    Backup backup,
    List<Proxy> proxies,
    String batchUpgrade,
    Logs logs,
    String backupCron,
    String cronUser,
    Redmine redmine,
    Duration longWaitLimit) {

  /** The app's clone on the worker; tags are {@code v{XX}.0} on {@code mainBranch}. */
  public record Repo(String path, String remote, String mainBranch) {}

  public record Aws(String region, String endpoint, String accessKey, String secretKey) {}

  /**
   * What {@code bin/deploy} did: launch instances of {@code imageId} with {@code userData} (a
   * template: {branch} {name} {cluster} {role} {profile}), tagged, with the instance profile.
   */
  public record Deploy(
      String imageId,
      String profile,
      String userData,
      Map<String, String> tags,
      Single candidate,
      Single test,
      Single demo,
      Cluster cluster,
      CloudInit cloudInit) {}

  /** A single server: instance type and name ({XX} is the version). */
  public record Single(String instanceType, String name) {}

  /**
   * A cluster: {@code size} data nodes named {@code dataName}1..N, then the master; {@code
   * replicas} is the runbook's {@code number_of_replicas} after a node is replaced.
   */
  public record Cluster(
      int size,
      String dataInstanceType,
      String dataName,
      String masterInstanceType,
      String masterName,
      String clusterName,
      int replicas) {}

  /** The cloud-init log followed on the new server until {@code doneRegex}. */
  public record CloudInit(String log, String doneRegex, String errorRegex, Duration limit) {}

  /** The new cluster's Elasticsearch as its master serves it, and how long health may take. */
  public record Elasticsearch(String url, String auth, Duration healthLimit, Duration pollEvery) {}

  /** A service user whose key is rotated and installed on the new server. */
  public record KeyUser(String user, String path, String section, String owner) {}

  /**
   * The file indexer's switch in the app's apache config: {@code on} and {@code off} are the line
   * as it reads each way; {@code restart} restarts apache.
   */
  public record FileIndexer(
      String configPath, String on, String off, String restart, boolean sudo) {}

  /** The new server's {@code /_indexer} endpoint and the runbook's "lag down to minutes" rule. */
  public record Indexer(String url, Duration maxLag, Duration pollEvery) {}

  public record Mail(SmtpConfig smtp, String from, List<String> to) {}

  public record Postgres(Server old, Server fresh) {}

  /** One PostgreSQL server; {@code recoveryMode} standby.signal (default) or recovery.conf. */
  public record Server(
      String jdbcUrl,
      String user,
      String password,
      String dataDir,
      String recoveryMode,
      String restartCommand,
      String primaryConninfo) {}

  /**
   * The base backup: {@code command} run on the server (WAL-E's backup-push, pgBackRest's backup,
   * or another), then S3 must list something new under {@code bucket}/{@code prefix}.
   */
  public record Backup(String command, String bucket, String prefix, String marker) {}

  /**
   * A proxy: {@code host} (under hosts), its nginx config file, the old server's address in it and
   * the new one's, and the probe that must answer through it after the reload.
   *
   * @param probeText what the new server's answer through the proxy contains ({XX}: the version),
   *     so the watch knows when the switch has landed; without it, the switch is watched until the
   *     proxy answers 200, which the old server does too
   * @param pidFile nginx's pid file on the proxy (default /run/nginx.pid): the switch waits for the
   *     old worker processes to finish their requests after the reload
   */
  public record Proxy(
      String host,
      String configPath,
      String from,
      String to,
      String probeUrl,
      String probeHost,
      String reload,
      String test,
      String probeText,
      String pidFile) {}

  /**
   * The old server's logs: {@code dir} there, to {@code s3://bucket/prefix} ({YY}: old version).
   */
  public record Logs(String dir, String bucket, String prefix) {}

  public record Redmine(
      String url, String apiKey, String project, String fromStatus, String toStatus) {}
}
