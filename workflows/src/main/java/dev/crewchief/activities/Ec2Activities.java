package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.util.List;
import java.util.Map;

/**
 * AWS EC2 (aws-sdk-java-v2): images, instances, termination protection and Elastic IPs. Every
 * change is verified by reading it back, and waits (image available, instance running or stopped)
 * heartbeat. Failure types: {@code AwsUnreachable}, {@code AwsThrottled} (retried); {@code
 * InstanceMissing}, {@code ImageFailed}, {@code AddressMissing}, {@code TerminationProtected},
 * {@code AwsAuthFailed}, {@code AwsRequestRefused} (any other client error, with AWS's code and
 * message), {@code SecretUnresolved}, {@code InvalidInput} (not retryable).
 */
@ActivityInterface
public interface Ec2Activities {

  /**
   * Where and as whom: {@code endpoint} null for AWS itself (set for a test server such as moto);
   * {@code accessKeyRef}/{@code secretKeyRef} secret references, both null for the worker's default
   * credentials chain (instance profile, environment, ~/.aws).
   */
  record Aws(String region, String endpoint, String accessKeyRef, String secretKeyRef) {}

  record InstanceRequest(String step, Aws aws, String instanceId, boolean dryRun) {}

  /** An instance as EC2 describes it, with the properties a copy takes over. */
  record Instance(
      String id,
      String state,
      String type,
      String imageId,
      String keyName,
      String subnetId,
      List<String> securityGroupIds,
      String iamInstanceProfileArn,
      boolean ebsOptimized,
      String privateIp,
      String publicIp,
      Map<String, String> tags,
      boolean terminationProtection) {}

  /**
   * Snapshot {@code instanceId} as an image named {@code name} (derived from the release id, so a
   * retry finds the image it made instead of making a second), then wait until it is available.
   */
  record ImageRequest(
      String step, Aws aws, String instanceId, String name, boolean noReboot, boolean dryRun) {}

  record Image(String id, String name, String state, boolean rehearsed) {}

  /**
   * Launch one instance from {@code imageId} with the properties of {@code sourceInstanceId} (type,
   * key, subnet, security groups, instance profile, EBS optimisation, tags, with {@code Name} set
   * to {@code name}), idempotent through {@code clientToken}; wait until it runs, then turn
   * termination protection on and verify it.
   */
  record LaunchLikeRequest(
      String step,
      Aws aws,
      String sourceInstanceId,
      String imageId,
      String name,
      String clientToken,
      boolean dryRun) {}

  record ProtectionRequest(
      String step, Aws aws, String instanceId, boolean protect, boolean dryRun) {}

  /**
   * Associate the Elastic IP {@code publicIp} with {@code instanceId} (from wherever it is now).
   */
  record AddressRequest(String step, Aws aws, String publicIp, String instanceId, boolean dryRun) {}

  /** Where the address was ({@code from}, null when unassociated) and is now. */
  record AddressMove(String publicIp, String from, String to, boolean changed, boolean rehearsed) {}

  @ActivityMethod(name = "Ec2.describeInstance")
  Instance describeInstance(InstanceRequest request);

  @ActivityMethod(name = "Ec2.createImage")
  Image createImage(ImageRequest request);

  @ActivityMethod(name = "Ec2.launchLike")
  Instance launchLike(LaunchLikeRequest request);

  @ActivityMethod(name = "Ec2.setTerminationProtection")
  ActionResult setTerminationProtection(ProtectionRequest request);

  @ActivityMethod(name = "Ec2.moveAddress")
  AddressMove moveAddress(AddressRequest request);

  /** Stop, then wait until stopped. Idempotent. */
  @ActivityMethod(name = "Ec2.stopInstance")
  ActionResult stopInstance(InstanceRequest request);

  /** Start, then wait until running. Idempotent. */
  @ActivityMethod(name = "Ec2.startInstance")
  ActionResult startInstance(InstanceRequest request);

  /**
   * Terminate; refused with {@code TerminationProtected} while protection is on (turn it off first,
   * on purpose). Idempotent: an instance already terminated is success.
   */
  @ActivityMethod(name = "Ec2.terminateInstance")
  ActionResult terminateInstance(InstanceRequest request);

  /**
   * Launches {@code count} instances of an image, as the runbook's {@code bin/deploy} does: type,
   * name, instance profile, user data (cloud-init; plain text, the adapter encodes it) and tags.
   * {@code clientToken} makes a retry find the instances of the first attempt instead of launching
   * more (with {@code count} above 1 the adapter suffixes it per instance). Each instance is named
   * {@code name} when {@code count} is 1, else {@code name1..nameN}.
   */
  record LaunchRequest(
      String step,
      Aws aws,
      String name,
      String imageId,
      String instanceType,
      int count,
      String iamInstanceProfile,
      String userData,
      Map<String, String> tags,
      String clientToken,
      boolean dryRun) {}

  @ActivityMethod(name = "Ec2.launch")
  List<Instance> launch(LaunchRequest request);

  /** Instances not terminated whose tags include every one of {@code tags}. */
  record FindRequest(String step, Aws aws, Map<String, String> tags) {}

  @ActivityMethod(name = "Ec2.findInstances")
  List<Instance> findInstances(FindRequest request);
}
