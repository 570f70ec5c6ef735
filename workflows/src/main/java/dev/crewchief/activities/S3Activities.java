package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Instant;

/**
 * S3 as the ENCODE release uses it: proving a base backup landed, and keeping the old server's
 * logs. Failure types: {@code AwsUnreachable}, {@code AwsThrottled} (retryable), {@code
 * AwsAuthFailed}, {@code AwsRequestRefused}, {@code InvalidInput}, {@code SecretUnresolved} (as the
 * shared AwsFailures has them), {@code S3NoSuchBucket}, {@code BackupNotListed} (nothing new under
 * the prefix: non-retryable), {@code SshUnreachable} and the other SSH types.
 */
@ActivityInterface
public interface S3Activities {

  /**
   * Looks under {@code s3://bucket/prefix} for objects written at or after {@code since}: the base
   * backup the step before pushed. {@code markerSuffix} (for example {@code
   * _backup_stop_sentinel.json} for WAL-E, {@code backup.manifest} for pgBackRest) must be among
   * them when given.
   */
  record ListedRequest(
      String step,
      Ec2Activities.Aws aws,
      String bucket,
      String prefix,
      Instant since,
      String markerSuffix,
      boolean dryRun) {}

  record Listed(
      String bucket,
      String prefix,
      int objects,
      long bytes,
      String newestKey,
      Instant newestAt,
      boolean rehearsed) {}

  @ActivityMethod(name = "S3.verifyListed")
  Listed verifyListed(ListedRequest request);

  /**
   * Copies the files under {@code remoteDir} on {@code host} (over SFTP, the host key verified) to
   * {@code s3://bucket/prefix/...}, keeping relative paths, and lists them back. Idempotent: an
   * object already there with the same size is not uploaded again.
   */
  record CopyRequest(
      String step,
      Ec2Activities.Aws aws,
      HostRef host,
      String remoteDir,
      String bucket,
      String prefix,
      boolean dryRun) {}

  record Copied(
      int files, int uploaded, long bytes, String bucket, String prefix, boolean rehearsed) {}

  @ActivityMethod(name = "S3.copyFromHost")
  Copied copyFromHost(CopyRequest request);
}
