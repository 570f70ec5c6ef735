package dev.crewchief.adapters.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.Ec2Activities.AddressMove;
import dev.crewchief.activities.Ec2Activities.AddressRequest;
import dev.crewchief.activities.Ec2Activities.Aws;
import dev.crewchief.activities.Ec2Activities.ImageRequest;
import dev.crewchief.activities.Ec2Activities.InstanceRequest;
import dev.crewchief.activities.Ec2Activities.LaunchLikeRequest;
import dev.crewchief.activities.Ec2Activities.ProtectionRequest;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.IamInstanceProfileSpecification;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.InstanceAttributeName;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.iam.IamClient;

/**
 * The EC2 adapter against moto's server. What the adapter did is read back with the SDK directly.
 * Each test makes its own instances; the network, key pair and instance profile a copy takes over
 * are made once.
 */
class Ec2AdapterTest {
  static Ec2Client ec2;
  static AwsClients clients;
  static Aws aws;
  static TestActivityEnvironment env;
  static Ec2Activities stub;
  static Ec2ActivitiesImpl adapter;
  static final List<Progress> heartbeats = new CopyOnWriteArrayList<>();

  static String baseImage;
  static String subnet;
  static List<String> groups;
  static String profileArn;
  static final String KEY = "metaspace-deploy-" + UUID.randomUUID();

  @BeforeAll
  static void up() {
    String endpoint = MotoServer.endpoint();
    var creds =
        StaticCredentialsProvider.create(
            AwsBasicCredentials.create(MotoServer.ACCESS_KEY, MotoServer.SECRET_KEY));
    ec2 =
        Ec2Client.builder()
            .region(Region.of(MotoServer.REGION))
            .endpointOverride(URI.create(endpoint))
            .credentialsProvider(creds)
            .build();
    String vpc = ec2.createVpc(b -> b.cidrBlock("10.20.0.0/16")).vpc().vpcId();
    subnet = ec2.createSubnet(b -> b.vpcId(vpc).cidrBlock("10.20.1.0/24")).subnet().subnetId();
    String web =
        ec2.createSecurityGroup(b -> b.vpcId(vpc).groupName("web").description("web")).groupId();
    String ssh =
        ec2.createSecurityGroup(b -> b.vpcId(vpc).groupName("ssh").description("ssh")).groupId();
    groups = List.of(web, ssh).stream().sorted().toList();
    ec2.createKeyPair(b -> b.keyName(KEY));
    try (IamClient iam =
        IamClient.builder()
            .region(Region.AWS_GLOBAL)
            .endpointOverride(URI.create(endpoint))
            .credentialsProvider(creds)
            .build()) {
      String name = "metaspace-web-" + UUID.randomUUID();
      iam.createRole(
          b ->
              b.roleName(name)
                  .assumeRolePolicyDocument(
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                          + "\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},"
                          + "\"Action\":\"sts:AssumeRole\"}]}"));
      profileArn =
          iam.createInstanceProfile(b -> b.instanceProfileName(name)).instanceProfile().arn();
      iam.addRoleToInstanceProfile(b -> b.instanceProfileName(name).roleName(name));
    }
    baseImage = ec2.describeImages(b -> b.owners("amazon")).images().get(0).imageId();

    SecretResolver secrets =
        new SecretResolver(
            Map.of("MOTO_KEY", MotoServer.ACCESS_KEY, "MOTO_SECRET", MotoServer.SECRET_KEY));
    clients = new AwsClients(secrets);
    aws = new Aws(MotoServer.REGION, endpoint, "env:MOTO_KEY", "env:MOTO_SECRET");
    adapter = new Ec2ActivitiesImpl(clients);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(adapter);
    env.setActivityHeartbeatListener(Progress.class, heartbeats::add);
    stub =
        env.newActivityStub(
            Ec2Activities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setHeartbeatTimeout(Duration.ofSeconds(30))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());
  }

  @AfterAll
  static void down() {
    env.close();
    clients.close();
    ec2.close();
  }

  @BeforeEach
  void clearHeartbeats() {
    heartbeats.clear();
  }

  /** The instance a fork copies: properties worth copying, running. */
  static String sourceInstance(String name) {
    return ec2.runInstances(
            b ->
                b.imageId(baseImage)
                    .instanceType("t3.medium")
                    .minCount(1)
                    .maxCount(1)
                    .keyName(KEY)
                    .subnetId(subnet)
                    .securityGroupIds(groups)
                    .ebsOptimized(true)
                    .iamInstanceProfile(
                        IamInstanceProfileSpecification.builder().arn(profileArn).build())
                    .tagSpecifications(
                        TagSpecification.builder()
                            .resourceType(ResourceType.INSTANCE)
                            .tags(tag("Name", name), tag("app", "metaspace"), tag("env", "prod"))
                            .build()))
        .instances()
        .get(0)
        .instanceId();
  }

  static Tag tag(String k, String v) {
    return Tag.builder().key(k).value(v).build();
  }

  static software.amazon.awssdk.services.ec2.model.Instance read(String id) {
    return ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0);
  }

  static String state(String id) {
    return read(id).state().nameAsString();
  }

  static boolean protectionOf(String id) {
    return ec2.describeInstanceAttribute(
            b -> b.instanceId(id).attribute(InstanceAttributeName.DISABLE_API_TERMINATION))
        .disableApiTermination()
        .value();
  }

  static List<Image> imagesNamed(String name) {
    return ec2.describeImages(
            b -> b.owners("self").filters(Filter.builder().name("name").values(name).build()))
        .images();
  }

  static List<String> instancesWithToken(String token) {
    return ec2.describeInstances().reservations().stream()
        .flatMap(r -> r.instances().stream())
        .filter(i -> token.equals(i.clientToken()))
        .map(i -> i.instanceId())
        .toList();
  }

  /** A copy of a fresh source, through the adapter, as a fork makes it. */
  static Ec2Activities.Instance fork(String source, String name) {
    String image =
        stub.createImage(new ImageRequest("image", aws, source, name + "-image", true, false)).id();
    return stub.launchLike(
        new LaunchLikeRequest("launch", aws, source, image, name, name + "-token", false));
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    Throwable t = assertThrows(Exception.class, call);
    if (t instanceof ActivityFailure af) {
      t = af.getCause();
    }
    ApplicationFailure f = assertInstanceOf(ApplicationFailure.class, t, String.valueOf(t));
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }

  @Test
  void imageOfAnInstanceIsAvailableAndASecondCallReusesIt() {
    String source = sourceInstance("metaspace-image-src");
    String name = "metaspace-release-42-" + UUID.randomUUID();
    Ec2Activities.Image image =
        stub.createImage(new ImageRequest("image", aws, source, name, true, false));
    assertFalse(image.rehearsed());
    assertEquals("available", image.state());
    assertEquals(name, image.name());
    List<Image> found = imagesNamed(name);
    assertEquals(1, found.size());
    assertEquals(image.id(), found.get(0).imageId());
    assertEquals("available", found.get(0).stateAsString());
    assertFalse(heartbeats.isEmpty());
    assertTrue(heartbeats.get(0).message().contains(image.id()), heartbeats.get(0).describe());

    Ec2Activities.Image again =
        stub.createImage(new ImageRequest("image", aws, source, name, true, false));
    assertEquals(image.id(), again.id());
    assertEquals(1, imagesNamed(name).size());
  }

  @Test
  void launchLikeCopiesThePropertiesAndTurnsProtectionOn() {
    String source = sourceInstance("metaspace-old");
    String name = "metaspace-new-" + UUID.randomUUID();
    Ec2Activities.Instance copy = fork(source, name);

    var s = read(source);
    var c = read(copy.id());
    assertNotEquals(source, copy.id());
    assertEquals("running", c.state().nameAsString());
    assertEquals("t3.medium", c.instanceTypeAsString());
    assertEquals(s.instanceTypeAsString(), c.instanceTypeAsString());
    assertEquals(KEY, c.keyName());
    assertEquals(subnet, c.subnetId());
    assertEquals(
        Set.copyOf(groups),
        c.securityGroups().stream().map(g -> g.groupId()).collect(Collectors.toSet()));
    assertEquals(profileArn, c.iamInstanceProfile().arn());
    assertEquals(Boolean.TRUE, c.ebsOptimized());
    Map<String, String> tags = c.tags().stream().collect(Collectors.toMap(Tag::key, Tag::value));
    assertEquals(Map.of("Name", name, "app", "metaspace", "env", "prod"), tags);
    assertTrue(protectionOf(copy.id()), "termination protection read back with the SDK");
    assertFalse(protectionOf(source));

    // What the adapter reports is what EC2 holds.
    assertEquals("running", copy.state());
    assertEquals(groups, copy.securityGroupIds());
    assertEquals(profileArn, copy.iamInstanceProfileArn());
    assertTrue(copy.ebsOptimized());
    assertTrue(copy.terminationProtection());
    assertEquals(tags, copy.tags());
    assertEquals(c.privateIpAddress(), copy.privateIp());
    assertTrue(
        heartbeats.stream().anyMatch(h -> h.message().contains(copy.id() + " to be running")),
        heartbeats.toString());

    Ec2Activities.Instance described =
        adapter.describeInstance(new InstanceRequest("describe", aws, copy.id(), false));
    assertEquals(copy, described);
  }

  @Test
  void launchLikeTwiceWithTheSameClientTokenIsOneInstance() {
    String source = sourceInstance("metaspace-token-src");
    String name = "metaspace-token-" + UUID.randomUUID();
    Ec2Activities.Instance first = fork(source, name);
    Ec2Activities.Instance second = fork(source, name);
    assertEquals(first.id(), second.id());
    assertEquals(List.of(first.id()), instancesWithToken(name + "-token"));
  }

  @Test
  void terminateIsRefusedWhileProtectedAndWorksAfterProtectionIsOff() {
    String source = sourceInstance("metaspace-term-src");
    String id = fork(source, "metaspace-term-" + UUID.randomUUID()).id();

    ApplicationFailure f =
        assertFailure(
            "TerminationProtected",
            () -> adapter.terminateInstance(new InstanceRequest("terminate", aws, id, false)));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(id), f.getOriginalMessage());
    assertEquals("running", state(id));

    ActionResult off =
        stub.setTerminationProtection(new ProtectionRequest("unprotect", aws, id, false, false));
    assertFalse(off.rehearsed());
    assertFalse(protectionOf(id));
    ActionResult offAgain =
        stub.setTerminationProtection(new ProtectionRequest("unprotect", aws, id, false, false));
    assertTrue(offAgain.output().startsWith("unchanged"), offAgain.toString());

    ActionResult done = stub.terminateInstance(new InstanceRequest("terminate", aws, id, false));
    assertFalse(done.rehearsed());
    assertEquals("terminated", state(id));
    ActionResult again = stub.terminateInstance(new InstanceRequest("terminate", aws, id, false));
    assertTrue(again.action().contains("already"), again.toString());
    assertEquals("terminated", state(id));
  }

  @Test
  void protectionTurnedOnThroughTheAdapterBlocksTermination() {
    // An instance launched without protection, protected afterwards (as a release would do).
    String id = sourceInstance("metaspace-protected");
    ActionResult on =
        stub.setTerminationProtection(new ProtectionRequest("protect", aws, id, true, false));
    assertTrue(on.output().contains("read back"), on.toString());
    assertTrue(protectionOf(id));
    assertFailure(
        "TerminationProtected",
        () -> stub.terminateInstance(new InstanceRequest("terminate", aws, id, false)));
    assertEquals("running", state(id));
  }

  @Test
  void elasticIpMovesToTheNewInstanceAndBack() {
    String source = sourceInstance("metaspace-eip-src");
    var alloc = ec2.allocateAddress(b -> b.domain("vpc"));
    String ip = alloc.publicIp();
    ec2.associateAddress(b -> b.allocationId(alloc.allocationId()).instanceId(source));
    String copy = fork(source, "metaspace-eip-" + UUID.randomUUID()).id();

    AddressMove there = stub.moveAddress(new AddressRequest("eip", aws, ip, copy, false));
    assertEquals(new AddressMove(ip, source, copy, true, false), there);
    assertEquals(copy, addressOwner(ip));

    AddressMove stays = stub.moveAddress(new AddressRequest("eip", aws, ip, copy, false));
    assertFalse(stays.changed());
    assertEquals(copy, addressOwner(ip));

    AddressMove back = stub.moveAddress(new AddressRequest("eip-back", aws, ip, source, false));
    assertEquals(new AddressMove(ip, copy, source, true, false), back);
    assertEquals(source, addressOwner(ip));

    // An instance's own public IP, or any other address, is not an Elastic IP to move.
    ApplicationFailure f =
        assertFailure(
            "AddressMissing",
            () -> adapter.moveAddress(new AddressRequest("eip", aws, "198.51.100.7", copy, false)));
    assertTrue(f.isNonRetryable());
  }

  static String addressOwner(String ip) {
    return ec2.describeAddresses(b -> b.publicIps(ip)).addresses().get(0).instanceId();
  }

  @Test
  void stopStartAndTerminateWaitForTheState() {
    String id = sourceInstance("metaspace-stop");
    ActionResult stopped = stub.stopInstance(new InstanceRequest("stop", aws, id, false));
    assertEquals("stopped", state(id));
    assertFalse(stopped.rehearsed());
    assertTrue(
        heartbeats.stream().anyMatch(h -> h.message().contains(id + " to be stopped")),
        heartbeats.toString());
    ActionResult stoppedAgain = stub.stopInstance(new InstanceRequest("stop", aws, id, false));
    assertTrue(stoppedAgain.action().contains("already"), stoppedAgain.toString());

    stub.startInstance(new InstanceRequest("start", aws, id, false));
    assertEquals("running", state(id));
    ActionResult startedAgain = stub.startInstance(new InstanceRequest("start", aws, id, false));
    assertTrue(startedAgain.action().contains("already"), startedAgain.toString());

    stub.terminateInstance(new InstanceRequest("terminate", aws, id, false));
    assertEquals("terminated", state(id));
    ActionResult again = stub.terminateInstance(new InstanceRequest("terminate", aws, id, false));
    assertTrue(again.action().contains("already"), again.toString());
    assertFailure(
        "InstanceMissing", () -> stub.startInstance(new InstanceRequest("start", aws, id, false)));
  }

  @Test
  void aMissingInstanceIsNotRetried() {
    String nope = "i-0123456789abcdef0";
    for (Executable call :
        List.<Executable>of(
            () -> adapter.describeInstance(new InstanceRequest("d", aws, nope, false)),
            () -> stub.terminateInstance(new InstanceRequest("t", aws, nope, false)),
            () -> stub.createImage(new ImageRequest("i", aws, nope, "img-" + nope, true, false)))) {
      ApplicationFailure f = assertFailure("InstanceMissing", call);
      assertTrue(f.isNonRetryable());
      assertTrue(f.getOriginalMessage().contains(nope), f.getOriginalMessage());
    }
    assertTrue(imagesNamed("img-" + nope).isEmpty());
  }

  @Test
  void aDryRunChangesNothing() {
    String source = sourceInstance("metaspace-dry");
    var alloc = ec2.allocateAddress(b -> b.domain("vpc"));
    ec2.associateAddress(b -> b.allocationId(alloc.allocationId()).instanceId(source));
    String name = "metaspace-dry-" + UUID.randomUUID();
    int instancesBefore = ec2.describeInstances().reservations().size();

    Ec2Activities.Image image =
        stub.createImage(new ImageRequest("image", aws, source, name, true, true));
    assertTrue(image.rehearsed());
    assertNull(image.id());
    assertTrue(image.state().contains("would create from " + source), image.state());
    assertTrue(imagesNamed(name).isEmpty());

    Ec2Activities.Instance launch =
        stub.launchLike(
            new LaunchLikeRequest("launch", aws, source, null, name, name + "-token", true));
    assertNull(launch.id());
    assertEquals("t3.medium", launch.type());
    assertEquals(name, launch.tags().get("Name"));
    assertTrue(instancesWithToken(name + "-token").isEmpty());
    assertEquals(instancesBefore, ec2.describeInstances().reservations().size());

    ActionResult protect =
        stub.setTerminationProtection(new ProtectionRequest("p", aws, source, true, true));
    assertTrue(protect.rehearsed());
    assertFalse(protectionOf(source));

    AddressMove move =
        stub.moveAddress(new AddressRequest("eip", aws, alloc.publicIp(), null, true));
    assertTrue(move.rehearsed());
    assertEquals(source, move.from());
    assertEquals(source, addressOwner(alloc.publicIp()));

    for (ActionResult r :
        List.of(
            stub.stopInstance(new InstanceRequest("stop", aws, source, true)),
            stub.terminateInstance(new InstanceRequest("terminate", aws, source, true)))) {
      assertTrue(r.rehearsed(), r.toString());
      assertTrue(r.output().startsWith("would "), r.toString());
    }
    assertEquals("running", state(source));
    assertEquals(instancesBefore, ec2.describeInstances().reservations().size());
  }

  @Test
  void unresolvableCredentialsAreRefusedBeforeAnyRequest() {
    Aws unset =
        new Aws(MotoServer.REGION, MotoServer.endpoint(), "env:NO_SUCH_KEY", "env:NO_SUCH_SECRET");
    String nope = "i-0123456789abcdef0";
    ApplicationFailure f =
        assertFailure(
            "SecretUnresolved",
            () -> adapter.describeInstance(new InstanceRequest("d", unset, nope, false)));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("NO_SUCH_KEY"), f.getOriginalMessage());
    // A dry run checks them too.
    assertFailure(
        "SecretUnresolved",
        () -> adapter.stopInstance(new InstanceRequest("s", unset, nope, true)));

    Aws half = new Aws(MotoServer.REGION, MotoServer.endpoint(), "env:MOTO_KEY", null);
    assertFailure(
        "InvalidInput",
        () -> adapter.describeInstance(new InstanceRequest("d", half, nope, false)));
    Aws pasted =
        new Aws(MotoServer.REGION, MotoServer.endpoint(), "AKIAPASTEDKEY0000000", "s3cr3t-pasted");
    ApplicationFailure p =
        assertFailure(
            "InvalidInput",
            () -> adapter.describeInstance(new InstanceRequest("d", pasted, nope, false)));
    assertFalse(p.getOriginalMessage().contains("AKIAPASTEDKEY"), p.getOriginalMessage());
  }

  @Test
  void anUnreachableEndpointIsRetryable() {
    Aws gone = new Aws(MotoServer.REGION, "http://127.0.0.1:1", "env:MOTO_KEY", "env:MOTO_SECRET");
    ApplicationFailure f =
        assertFailure(
            "AwsUnreachable",
            () ->
                adapter.describeInstance(
                    new InstanceRequest("d", gone, "i-0123456789abcdef0", false)));
    assertFalse(f.isNonRetryable());
    assertNotNull(f.getOriginalMessage());
  }

  @Test
  void launchStartsNamedInstancesWithUserDataAndTagsAndARetryLaunchesNothingNew() {
    String release = UUID.randomUUID().toString().substring(0, 8);
    String profile = profileArn.substring(profileArn.lastIndexOf('/') + 1);
    String userData = "#cloud-config\nruncmd:\n  - echo encoded " + release + "\n";
    Map<String, String> tags = Map.of("app", "encoded", "release", release);
    Ec2Activities.LaunchRequest req =
        new Ec2Activities.LaunchRequest(
            "deploy",
            aws,
            "encoded-web-" + release + "-",
            baseImage,
            "m5.xlarge",
            2,
            profile,
            userData,
            tags,
            "encoded-" + release,
            false);

    List<Ec2Activities.Instance> dry =
        stub.launch(
            new Ec2Activities.LaunchRequest(
                "deploy",
                aws,
                req.name(),
                baseImage,
                "m5.xlarge",
                2,
                profile,
                userData,
                tags,
                req.clientToken(),
                true));
    assertEquals(2, dry.size());
    assertTrue(instancesWithToken(req.clientToken() + "-1").isEmpty());

    List<Ec2Activities.Instance> launched = stub.launch(req);
    assertEquals(2, launched.size());
    for (int n = 1; n <= 2; n++) {
      Ec2Activities.Instance i = launched.get(n - 1);
      var back = read(i.id());
      assertEquals("running", back.state().nameAsString());
      assertEquals("m5.xlarge", back.instanceTypeAsString());
      assertEquals(req.clientToken() + "-" + n, back.clientToken());
      assertEquals(profileArn, back.iamInstanceProfile().arn());
      Map<String, String> backTags =
          back.tags().stream().collect(Collectors.toMap(Tag::key, Tag::value));
      assertEquals("encoded-web-" + release + "-" + n, backTags.get("Name"));
      assertEquals("encoded", backTags.get("app"));
      assertEquals(release, backTags.get("release"));
      String data =
          ec2.describeInstanceAttribute(
                  b -> b.instanceId(i.id()).attribute(InstanceAttributeName.USER_DATA))
              .userData()
              .value();
      assertEquals(
          userData,
          new String(
              java.util.Base64.getDecoder().decode(data), java.nio.charset.StandardCharsets.UTF_8));
    }

    List<Ec2Activities.Instance> again = stub.launch(req);
    assertEquals(
        launched.stream().map(Ec2Activities.Instance::id).toList(),
        again.stream().map(Ec2Activities.Instance::id).toList());
    assertEquals(1, instancesWithToken(req.clientToken() + "-1").size());
    assertEquals(1, instancesWithToken(req.clientToken() + "-2").size());

    List<Ec2Activities.Instance> found =
        stub.findInstances(new Ec2Activities.FindRequest("find", aws, tags));
    assertEquals(
        launched.stream().map(Ec2Activities.Instance::id).sorted().toList(),
        found.stream().map(Ec2Activities.Instance::id).toList());
    assertTrue(
        stub.findInstances(
                new Ec2Activities.FindRequest("find", aws, Map.of("release", release + "-none")))
            .isEmpty());
  }

  @Test
  void findInstancesLeavesTerminatedOnesOut() {
    String release = UUID.randomUUID().toString().substring(0, 8);
    Ec2Activities.LaunchRequest req =
        new Ec2Activities.LaunchRequest(
            "deploy",
            aws,
            "encoded-one-" + release,
            baseImage,
            "t3.small",
            1,
            null,
            null,
            Map.of("release", release),
            "encoded-one-" + release,
            false);
    Ec2Activities.Instance one = stub.launch(req).get(0);
    assertEquals(
        "encoded-one-" + release,
        read(one.id()).tags().stream()
            .filter(t -> t.key().equals("Name"))
            .findFirst()
            .orElseThrow()
            .value());
    assertEquals(req.clientToken(), read(one.id()).clientToken());
    ec2.terminateInstances(b -> b.instanceIds(one.id()));
    assertTrue(
        stub.findInstances(new Ec2Activities.FindRequest("find", aws, Map.of("release", release)))
            .isEmpty());
  }
}
