package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;

/**
 * IAM access keys of service users, rotated the way the ENCODE runbook does it. Key material never
 * leaves the activity: a new key's secret is written straight to the host's credentials file, and
 * only key ids are returned.
 *
 * <p>Failure types: {@code AwsUnreachable}, {@code AwsThrottled} (retryable), {@code
 * AwsAuthFailed}, {@code AwsRequestRefused}, {@code InvalidInput}, {@code SecretUnresolved} (as the
 * shared AwsFailures has them), {@code SshUnreachable} and the other SSH types, {@code
 * IamNoSuchUser}, {@code IamKeyLimit} (two keys and neither inactive: non-retryable, says which key
 * to delete), {@code CredentialsFile} (the host file could not be written or read back), {@code
 * KeyValidationFailed}.
 */
@ActivityInterface
public interface IamActivities {

  /**
   * Where a user's key goes: {@code path} on {@code host} (for example {@code
   * /var/lib/postgresql/.aws/credentials}), under {@code [section]}, owned by {@code owner}, mode
   * 0600. Other sections of the file are kept.
   */
  record CredentialsFile(HostRef host, String path, String section, String owner) {}

  record RotateRequest(
      String step,
      Ec2Activities.Aws aws,
      String userName,
      CredentialsFile target,
      boolean dryRun) {}

  record KeyInfo(String keyId, String status) {}

  /**
   * The user's keys after the rotation; {@code deletedKeyId} the INACTIVE key deleted (null if
   * there was none), {@code newKeyId} the key created, left INACTIVE and installed. A retry finds
   * the key already installed (the file's key id is one of the user's inactive keys) and does not
   * create another.
   */
  record Rotation(
      String userName,
      String deletedKeyId,
      String newKeyId,
      List<KeyInfo> keys,
      String installedAt,
      String fileMode,
      String fileOwner,
      boolean resumed,
      boolean rehearsed) {}

  @ActivityMethod(name = "Iam.rotateKey")
  Rotation rotateKey(RotateRequest request);

  /** Makes {@code activeKeyId} the user's only ACTIVE key; every other key becomes INACTIVE. */
  record ActivateRequest(
      String step, Ec2Activities.Aws aws, String userName, String activeKeyId, boolean dryRun) {}

  @ActivityMethod(name = "Iam.activateOnly")
  List<KeyInfo> activateOnly(ActivateRequest request);

  /**
   * The runbook's keyValidation: the key in the host's credentials file is read there and used to
   * call AWS (STS GetCallerIdentity); returns the key id and the user AWS says it belongs to.
   */
  record ValidateRequest(
      String step,
      Ec2Activities.Aws aws,
      String userName,
      CredentialsFile target,
      boolean dryRun) {}

  record Validation(String userName, String keyId, String arn, boolean rehearsed) {}

  @ActivityMethod(name = "Iam.validateInstalledKey")
  Validation validateInstalledKey(ValidateRequest request);
}
