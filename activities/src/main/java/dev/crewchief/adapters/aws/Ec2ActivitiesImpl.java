package dev.crewchief.adapters.aws;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Address;
import software.amazon.awssdk.services.ec2.model.AttributeBooleanValue;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.GroupIdentifier;
import software.amazon.awssdk.services.ec2.model.IamInstanceProfileSpecification;
import software.amazon.awssdk.services.ec2.model.InstanceAttributeName;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * {@link Ec2Activities} with aws-sdk-java-v2.
 *
 * <p>Idempotent by looking first: an image is found by its name (owned by this account) before one
 * is made, a launch by its client token (which EC2 also honours on RunInstances), a stop, start,
 * terminate or address move by the state it would produce. So a retried attempt finds what the
 * previous one did and goes on waiting, without the heartbeat details having to carry it.
 *
 * <p>Waits poll EC2 (from a quarter of a second up to every 5 s) and heartbeat {@link Progress}
 * (seconds waited, what for, the state now) on every poll; they end at the activity's timeout or
 * cancellation, or after {@code waitLimit}, then with a retryable {@code AwsUnreachable} (EC2 did
 * not get there in time; the retry looks again). A change EC2 accepts but does not show when read
 * back within that time is reported the same way.
 *
 * <p>Dry runs make no mutating call; they do read (the instance, the image by name, the address,
 * the protection flag), so that the rehearsal says what would be done to what is there now. An id
 * that a rehearsal of an earlier step could not produce (null) is described, not read.
 */
public final class Ec2ActivitiesImpl implements Ec2Activities {
  private static final Logger log = LoggerFactory.getLogger(Ec2ActivitiesImpl.class);
  private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");
  private static final Pattern IMAGE_ID = Pattern.compile("ami-[0-9a-f]{8,17}");
  // EC2's rule for image names: 3-128 of these characters.
  private static final Pattern IMAGE_NAME = Pattern.compile("[A-Za-z0-9()\\[\\] ./\\-'@_]{3,128}");
  private static final Pattern IPV4 =
      Pattern.compile(
          "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
              + "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
  private static final Pattern CLIENT_TOKEN = Pattern.compile("[\\x21-\\x7e]{1,64}");
  // Right after a create, EC2's reads may not see the new resource for a while (eventual
  // consistency); within this time a "not found" means "not yet".
  private static final Duration NOT_YET_VISIBLE = Duration.ofMinutes(2);
  private static final Duration FIRST_POLL = Duration.ofMillis(250);
  private static final Duration MAX_POLL = Duration.ofSeconds(5);
  private static final Set<String> GONE = Set.of("shutting-down", "terminated");

  private final AwsClients clients;
  private final Duration waitLimit;
  private final Clock clock;

  /**
   * @param waitLimit the longest wait for an image, a state or a change to show, beyond what the
   *     activity's own timeouts allow (which end a wait first when they are shorter)
   */
  public Ec2ActivitiesImpl(AwsClients clients, Duration waitLimit, Clock clock) {
    this.clients = clients;
    this.waitLimit = waitLimit;
    this.clock = clock;
  }

  /** Waits of up to 2 hours (an image of large volumes takes that long). */
  public Ec2ActivitiesImpl(AwsClients clients) {
    this(clients, Duration.ofHours(2), Clock.systemUTC());
  }

  // ---------------------------------------------------------------------------------------------
  // describeInstance

  @Override
  public Instance describeInstance(InstanceRequest r) {
    requireInstanceId(r.instanceId(), "instanceId", false);
    Ctx c = ctx(r.aws());
    // A read, made in dry runs too: the rehearsal of a fork shows the source it would copy.
    return describe(c, r.instanceId());
  }

  // ---------------------------------------------------------------------------------------------
  // createImage

  @Override
  public Ec2Activities.Image createImage(ImageRequest r) {
    requireInstanceId(r.instanceId(), "instanceId", r.dryRun());
    if (r.name() == null || !IMAGE_NAME.matcher(r.name()).matches()) {
      throw invalid(
          "image name '"
              + r.name()
              + "' of step "
              + r.step()
              + " must be 3-128 letters, digits, spaces or ( ) [ ] . / - ' @ _");
    }
    Ctx c = ctx(r.aws());
    software.amazon.awssdk.services.ec2.model.Image existing = imageNamed(c, r.name());
    if (r.dryRun()) {
      String state;
      if (existing != null) {
        state = "would reuse " + existing.imageId() + " (" + existing.stateAsString() + ")";
      } else {
        String source =
            r.instanceId() == null
                ? "the instance of the earlier step"
                : r.instanceId()
                    + " ("
                    + sdkInstance(c, r.instanceId()).state().nameAsString()
                    + ")";
        state = "would create from " + source + (r.noReboot() ? " without reboot" : " with reboot");
      }
      return new Ec2Activities.Image(
          existing == null ? null : existing.imageId(), r.name(), state, true);
    }

    String imageId;
    if (existing != null) {
      log.info(
          "step '{}': image {} named {} exists ({}), reused",
          r.step(),
          existing.imageId(),
          r.name(),
          existing.stateAsString());
      imageId = existing.imageId();
    } else {
      sdkInstance(c, r.instanceId()); // InstanceMissing, with a clear message, before creating
      imageId = createImageNow(c, r);
    }
    Instant since = clock.instant();
    software.amazon.awssdk.services.ec2.model.Image image =
        await(
            "image " + imageId + " (" + r.name() + ") of " + r.instanceId() + " to be available",
            () -> {
              var i = imageById(c, imageId);
              if (i == null
                  && Duration.between(since, clock.instant()).compareTo(NOT_YET_VISIBLE) >= 0) {
                throw ApplicationFailure.newNonRetryableFailure(
                    "image "
                        + imageId
                        + " ("
                        + r.name()
                        + ") is gone (deregistered?) while waiting for it to be available",
                    "ImageFailed");
              }
              return i;
            },
            i -> i == null ? "not visible yet" : i.stateAsString(),
            i -> {
              if (i == null) {
                return false;
              }
              if ("available".equals(i.stateAsString())) {
                return true;
              }
              if (!"pending".equals(i.stateAsString())) {
                throw ApplicationFailure.newNonRetryableFailure(
                    "image "
                        + imageId
                        + " ("
                        + r.name()
                        + ") of "
                        + r.instanceId()
                        + " is "
                        + i.stateAsString()
                        + (i.stateReason() == null ? "" : ": " + i.stateReason().message())
                        + " (deregister it, or choose another name, to make a new one)",
                    "ImageFailed");
              }
              return false;
            });
    log.info("step '{}': image {} ({}) is available", r.step(), imageId, r.name());
    return new Ec2Activities.Image(image.imageId(), image.name(), image.stateAsString(), false);
  }

  private String createImageNow(Ctx c, ImageRequest r) {
    log.info(
        "step '{}': CreateImage {} from {} (noReboot {})",
        r.step(),
        r.name(),
        r.instanceId(),
        r.noReboot());
    try {
      return c.ec2
          .createImage(
              b ->
                  b.instanceId(r.instanceId())
                      .name(r.name())
                      .noReboot(r.noReboot())
                      .description("image of " + r.instanceId() + " made by crewchief"))
          .imageId();
    } catch (SdkException e) {
      if ("InvalidAMIName.Duplicate".equals(AwsFailures.code(e))) {
        // Another attempt made it between our look and our create: that one is ours.
        software.amazon.awssdk.services.ec2.model.Image made = imageNamed(c, r.name());
        if (made != null) {
          return made.imageId();
        }
      }
      throw c.failure(e, "EC2 CreateImage " + r.name() + " from " + r.instanceId());
    }
  }

  private software.amazon.awssdk.services.ec2.model.Image imageNamed(Ctx c, String name) {
    List<software.amazon.awssdk.services.ec2.model.Image> images =
        c.call(
            "EC2 DescribeImages name=" + name,
            () ->
                c.ec2
                    .describeImages(
                        b ->
                            b.owners("self")
                                .filters(Filter.builder().name("name").values(name).build()))
                    .images());
    return images.isEmpty() ? null : images.get(0);
  }

  private software.amazon.awssdk.services.ec2.model.Image imageById(Ctx c, String imageId) {
    try {
      List<software.amazon.awssdk.services.ec2.model.Image> images =
          c.ec2.describeImages(b -> b.imageIds(imageId)).images();
      return images.isEmpty() ? null : images.get(0);
    } catch (SdkException e) {
      if ("InvalidAMIID.NotFound".equals(AwsFailures.code(e))) {
        return null;
      }
      throw c.failure(e, "EC2 DescribeImages " + imageId);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // launchLike

  @Override
  public Instance launchLike(LaunchLikeRequest r) {
    requireInstanceId(r.sourceInstanceId(), "sourceInstanceId", r.dryRun());
    if (r.imageId() != null || !r.dryRun()) {
      if (r.imageId() == null || !IMAGE_ID.matcher(r.imageId()).matches()) {
        throw invalid(
            "image id '" + r.imageId() + "' of step " + r.step() + " is not an ami-... id");
      }
    }
    if (r.name() == null || r.name().isBlank() || r.name().length() > 256) {
      throw invalid("step " + r.step() + " needs a Name for the new instance (1-256 characters)");
    }
    if (r.clientToken() == null || !CLIENT_TOKEN.matcher(r.clientToken()).matches()) {
      throw invalid(
          "client token '"
              + r.clientToken()
              + "' of step "
              + r.step()
              + " must be 1-64 visible ASCII characters, derived from the release id");
    }
    Ctx c = ctx(r.aws());

    software.amazon.awssdk.services.ec2.model.Instance launched =
        r.imageId() == null ? null : launchedWith(c, r.imageId(), r.clientToken());
    if (launched != null && GONE.contains(launched.state().nameAsString())) {
      throw invalid(
          "the instance "
              + launched.instanceId()
              + " launched with client token "
              + r.clientToken()
              + " is "
              + launched.state().nameAsString()
              + ": a new launch needs a new client token");
    }
    if (r.dryRun()) {
      return rehearseLaunch(c, r, launched);
    }

    String id;
    if (launched != null) {
      id = launched.instanceId();
      log.info(
          "step '{}': {} was launched with client token {} already ({}), reused",
          r.step(),
          id,
          r.clientToken(),
          launched.state().nameAsString());
    } else {
      software.amazon.awssdk.services.ec2.model.Instance source =
          sdkInstance(c, r.sourceInstanceId());
      RunInstancesRequest run = runLike(source, r);
      log.info(
          "step '{}': RunInstances {} like {} ({}, subnet {}), client token {}",
          r.step(),
          r.imageId(),
          r.sourceInstanceId(),
          source.instanceTypeAsString(),
          source.subnetId(),
          r.clientToken());
      id =
          c.call(
              "EC2 RunInstances " + r.imageId() + " like " + r.sourceInstanceId(),
              () -> c.ec2.runInstances(run).instances().get(0).instanceId());
    }
    awaitInstanceState(c, id, "running", true);
    protect(c, id, true);
    Instance out = describe(c, id);
    log.info("step '{}': {} runs, termination protection on", r.step(), id);
    return out;
  }

  /** What the launch would make: the source's properties, the request's image and name. */
  private Instance rehearseLaunch(
      Ctx c, LaunchLikeRequest r, software.amazon.awssdk.services.ec2.model.Instance launched) {
    if (launched != null) {
      Instance existing = describe(c, launched.instanceId());
      return new Instance(
          existing.id(),
          "would reuse (launched with client token " + r.clientToken() + "): " + existing.state(),
          existing.type(),
          existing.imageId(),
          existing.keyName(),
          existing.subnetId(),
          existing.securityGroupIds(),
          existing.iamInstanceProfileArn(),
          existing.ebsOptimized(),
          existing.privateIp(),
          existing.publicIp(),
          existing.tags(),
          true);
    }
    if (r.sourceInstanceId() == null) {
      return new Instance(
          null,
          "would launch like the instance of the earlier step",
          null,
          r.imageId(),
          null,
          null,
          List.of(),
          null,
          false,
          null,
          null,
          Map.of("Name", r.name()),
          true);
    }
    software.amazon.awssdk.services.ec2.model.Instance s = sdkInstance(c, r.sourceInstanceId());
    return new Instance(
        null,
        "would launch like " + s.instanceId(),
        s.instanceTypeAsString(),
        r.imageId(),
        s.keyName(),
        s.subnetId(),
        groupIds(s),
        s.iamInstanceProfile() == null ? null : s.iamInstanceProfile().arn(),
        Boolean.TRUE.equals(s.ebsOptimized()),
        null,
        null,
        copiedTags(s, r.name()),
        true);
  }

  private static RunInstancesRequest runLike(
      software.amazon.awssdk.services.ec2.model.Instance s, LaunchLikeRequest r) {
    RunInstancesRequest.Builder b =
        RunInstancesRequest.builder()
            .imageId(r.imageId())
            .instanceType(s.instanceTypeAsString())
            .minCount(1)
            .maxCount(1)
            .clientToken(r.clientToken())
            .ebsOptimized(Boolean.TRUE.equals(s.ebsOptimized()))
            .tagSpecifications(
                TagSpecification.builder()
                    .resourceType(ResourceType.INSTANCE)
                    .tags(
                        copiedTags(s, r.name()).entrySet().stream()
                            .map(t -> Tag.builder().key(t.getKey()).value(t.getValue()).build())
                            .toList())
                    .build());
    if (s.keyName() != null) {
      b.keyName(s.keyName());
    }
    if (s.subnetId() != null) {
      b.subnetId(s.subnetId());
    }
    List<String> groups = groupIds(s);
    if (!groups.isEmpty()) {
      b.securityGroupIds(groups);
    }
    if (s.iamInstanceProfile() != null && s.iamInstanceProfile().arn() != null) {
      b.iamInstanceProfile(
          IamInstanceProfileSpecification.builder().arn(s.iamInstanceProfile().arn()).build());
    }
    // Termination protection is set after the launch and read back: EC2 implementations differ
    // in whether RunInstances keeps DisableApiTermination (moto does not).
    return b.build();
  }

  /** The source's tags, less those AWS reserves (aws:*, which no one may set), Name replaced. */
  private static Map<String, String> copiedTags(
      software.amazon.awssdk.services.ec2.model.Instance s, String name) {
    Map<String, String> tags = new TreeMap<>();
    for (Tag t : s.tags()) {
      if (!t.key().startsWith("aws:")) {
        tags.put(t.key(), t.value());
      }
    }
    tags.put("Name", name);
    return tags;
  }

  /**
   * The instance launched with this client token, or null. Found by image (a launch's image is part
   * of the request, so it narrows the search on a large account) and token; the {@code
   * client-token} filter itself is not used: moto answers it with a server error.
   */
  private software.amazon.awssdk.services.ec2.model.Instance launchedWith(
      Ctx c, String imageId, String token) {
    List<Reservation> reservations =
        c.call(
            "EC2 DescribeInstances image-id=" + imageId,
            () ->
                c
                    .ec2
                    .describeInstancesPaginator(
                        b -> b.filters(Filter.builder().name("image-id").values(imageId).build()))
                    .reservations()
                    .stream()
                    .toList());
    software.amazon.awssdk.services.ec2.model.Instance found = null;
    for (Reservation res : reservations) {
      for (var i : res.instances()) {
        if (token.equals(i.clientToken())
            && (found == null || GONE.contains(found.state().nameAsString()))) {
          found = i; // a live one wins over a terminated one
        }
      }
    }
    return found;
  }

  // ---------------------------------------------------------------------------------------------
  // launch, findInstances

  @Override
  public List<Instance> launch(LaunchRequest r) {
    if (r.imageId() != null || !r.dryRun()) {
      if (r.imageId() == null || !IMAGE_ID.matcher(r.imageId()).matches()) {
        throw invalid(
            "image id '" + r.imageId() + "' of step " + r.step() + " is not an ami-... id");
      }
    }
    if (r.count() < 1 || r.count() > 20) {
      throw invalid("step " + r.step() + " launches " + r.count() + " instances: give 1 to 20");
    }
    if (r.name() == null || r.name().isBlank() || r.name().length() > 250) {
      throw invalid("step " + r.step() + " needs a Name for the instances (1-250 characters)");
    }
    if (r.instanceType() == null || !r.instanceType().matches("[a-z0-9-]+\\.[a-z0-9]+")) {
      throw invalid(
          "instance type '"
              + r.instanceType()
              + "' of step "
              + r.step()
              + " is not like t3.medium");
    }
    String suffixed = r.clientToken() + (r.count() > 1 ? "-" + r.count() : "");
    if (r.clientToken() == null || !CLIENT_TOKEN.matcher(suffixed).matches()) {
      throw invalid(
          "client token '"
              + r.clientToken()
              + "' of step "
              + r.step()
              + " must be visible ASCII characters, at most 64 with its -N suffix, derived from"
              + " the release id");
    }
    if (r.userData() != null && r.userData().getBytes(StandardCharsets.UTF_8).length > 16384) {
      throw invalid("the user data of step " + r.step() + " is over EC2's 16 KB");
    }
    Ctx c = ctx(r.aws());
    List<String> ids = new ArrayList<>();
    List<Instance> rehearsed = new ArrayList<>();
    for (int n = 1; n <= r.count(); n++) {
      String token = r.count() == 1 ? r.clientToken() : r.clientToken() + "-" + n;
      String name = r.count() == 1 ? r.name() : r.name() + n;
      Map<String, String> tags = new TreeMap<>(r.tags() == null ? Map.of() : r.tags());
      tags.put("Name", name);
      software.amazon.awssdk.services.ec2.model.Instance launched =
          r.imageId() == null ? null : launchedWith(c, r.imageId(), token);
      if (launched != null && GONE.contains(launched.state().nameAsString())) {
        throw invalid(
            "the instance "
                + launched.instanceId()
                + " launched with client token "
                + token
                + " is "
                + launched.state().nameAsString()
                + ": a new launch needs a new client token");
      }
      if (r.dryRun()) {
        rehearsed.add(
            new Instance(
                launched == null ? null : launched.instanceId(),
                launched == null
                    ? "would launch"
                    : "would reuse (launched with client token " + token + ")",
                r.instanceType(),
                r.imageId(),
                null,
                null,
                List.of(),
                r.iamInstanceProfile(),
                false,
                null,
                null,
                tags,
                false));
        continue;
      }
      if (launched != null) {
        log.info(
            "step '{}': {} was launched with client token {} already",
            r.step(),
            launched.instanceId(),
            token);
        ids.add(launched.instanceId());
        continue;
      }
      RunInstancesRequest.Builder b =
          RunInstancesRequest.builder()
              .imageId(r.imageId())
              .instanceType(r.instanceType())
              .minCount(1)
              .maxCount(1)
              .clientToken(token)
              .tagSpecifications(
                  TagSpecification.builder()
                      .resourceType(ResourceType.INSTANCE)
                      .tags(
                          tags.entrySet().stream()
                              .map(t -> Tag.builder().key(t.getKey()).value(t.getValue()).build())
                              .toList())
                      .build());
      if (r.userData() != null && !r.userData().isEmpty()) {
        b.userData(
            Base64.getEncoder().encodeToString(r.userData().getBytes(StandardCharsets.UTF_8)));
      }
      if (r.iamInstanceProfile() != null && !r.iamInstanceProfile().isBlank()) {
        b.iamInstanceProfile(
            IamInstanceProfileSpecification.builder().name(r.iamInstanceProfile()).build());
      }
      RunInstancesRequest run = b.build();
      log.info(
          "step '{}': RunInstances {} {} named {}, client token {}",
          r.step(),
          r.imageId(),
          r.instanceType(),
          name,
          token);
      ids.add(
          c.call(
              "EC2 RunInstances " + r.imageId() + " named " + name,
              () -> c.ec2.runInstances(run).instances().get(0).instanceId()));
    }
    if (r.dryRun()) {
      return rehearsed;
    }
    List<Instance> out = new ArrayList<>();
    for (String id : ids) {
      awaitInstanceState(c, id, "running", true);
      out.add(describe(c, id));
    }
    log.info("step '{}': {} run", r.step(), ids);
    return out;
  }

  @Override
  public List<Instance> findInstances(FindRequest r) {
    if (r.tags() == null || r.tags().isEmpty()) {
      throw invalid("step " + r.step() + " gives no tags to find instances by");
    }
    Ctx c = ctx(r.aws());
    List<Filter> filters = new ArrayList<>();
    for (Map.Entry<String, String> t : new TreeMap<>(r.tags()).entrySet()) {
      filters.add(Filter.builder().name("tag:" + t.getKey()).values(t.getValue()).build());
    }
    filters.add(
        Filter.builder()
            .name("instance-state-name")
            .values("pending", "running", "stopping", "stopped", "shutting-down")
            .build());
    List<String> ids =
        c.call(
            "EC2 DescribeInstances tags " + r.tags(),
            () ->
                c.ec2.describeInstancesPaginator(b -> b.filters(filters)).reservations().stream()
                    .flatMap(res -> res.instances().stream())
                    .filter(i -> !"terminated".equals(i.state().nameAsString()))
                    .map(software.amazon.awssdk.services.ec2.model.Instance::instanceId)
                    .sorted()
                    .toList());
    List<Instance> out = new ArrayList<>();
    for (String id : ids) {
      out.add(describe(c, id));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // setTerminationProtection

  @Override
  public ActionResult setTerminationProtection(ProtectionRequest r) {
    requireInstanceId(r.instanceId(), "instanceId", r.dryRun());
    String onOff = r.protect() ? "on" : "off";
    String action =
        "EC2 ModifyInstanceAttribute "
            + (r.instanceId() == null ? "(the instance of the earlier step)" : r.instanceId())
            + " DisableApiTermination="
            + r.protect();
    Ctx c = ctx(r.aws());
    if (r.instanceId() == null) {
      return new ActionResult(action, true, "would turn termination protection " + onOff);
    }
    sdkInstance(c, r.instanceId());
    boolean now = protection(c, r.instanceId());
    if (now == r.protect()) {
      return new ActionResult(
          "termination protection of " + r.instanceId() + " is " + onOff + " already",
          r.dryRun(),
          "unchanged: " + onOff);
    }
    if (r.dryRun()) {
      return new ActionResult(action, true, "would turn termination protection " + onOff);
    }
    log.info("step '{}': termination protection of {} {}", r.step(), r.instanceId(), onOff);
    protect(c, r.instanceId(), r.protect());
    return new ActionResult(action, false, "termination protection " + onOff + " (read back)");
  }

  private boolean protection(Ctx c, String id) {
    return c.call(
        "EC2 DescribeInstanceAttribute " + id + " disableApiTermination",
        () -> {
          AttributeBooleanValue v =
              c.ec2
                  .describeInstanceAttribute(
                      b ->
                          b.instanceId(id).attribute(InstanceAttributeName.DISABLE_API_TERMINATION))
                  .disableApiTermination();
          return v != null && Boolean.TRUE.equals(v.value());
        });
  }

  /** Sets the flag, then waits until it reads back so. */
  private void protect(Ctx c, String id, boolean on) {
    c.call(
        "EC2 ModifyInstanceAttribute " + id + " DisableApiTermination=" + on,
        () ->
            c.ec2.modifyInstanceAttribute(
                b ->
                    b.instanceId(id)
                        .disableApiTermination(AttributeBooleanValue.builder().value(on).build())));
    await(
        "termination protection of " + id + " to read back " + (on ? "on" : "off"),
        () -> protection(c, id),
        v -> v ? "on" : "off",
        v -> v == on);
  }

  // ---------------------------------------------------------------------------------------------
  // moveAddress

  @Override
  public AddressMove moveAddress(AddressRequest r) {
    if (r.publicIp() == null || !IPV4.matcher(r.publicIp()).matches()) {
      throw invalid(
          "public IP '" + r.publicIp() + "' of step " + r.step() + " is not an IPv4 address");
    }
    requireInstanceId(r.instanceId(), "instanceId", r.dryRun());
    Ctx c = ctx(r.aws());
    Address a = address(c, r.publicIp());
    String from = a.instanceId();
    if (r.instanceId() != null && r.instanceId().equals(from)) {
      return new AddressMove(r.publicIp(), from, r.instanceId(), false, r.dryRun());
    }
    if (r.dryRun()) {
      if (r.instanceId() != null) {
        sdkInstance(c, r.instanceId());
      }
      return new AddressMove(r.publicIp(), from, r.instanceId(), true, true);
    }
    sdkInstance(c, r.instanceId());
    log.info(
        "step '{}': AssociateAddress {} ({}) from {} to {}",
        r.step(),
        r.publicIp(),
        a.allocationId(),
        from,
        r.instanceId());
    c.call(
        "EC2 AssociateAddress " + r.publicIp() + " to " + r.instanceId(),
        () ->
            c.ec2.associateAddress(
                b ->
                    b.allocationId(a.allocationId())
                        .instanceId(r.instanceId())
                        .allowReassociation(true)));
    await(
        "Elastic IP " + r.publicIp() + " to show on " + r.instanceId(),
        () -> address(c, r.publicIp()).instanceId(),
        on -> "on " + on,
        on -> r.instanceId().equals(on));
    return new AddressMove(r.publicIp(), from, r.instanceId(), true, false);
  }

  private Address address(Ctx c, String ip) {
    List<Address> found;
    try {
      found = c.ec2.describeAddresses(b -> b.publicIps(ip)).addresses();
    } catch (SdkException e) {
      if ("InvalidAddress.NotFound".equals(AwsFailures.code(e))) {
        found = List.of();
      } else {
        throw c.failure(e, "EC2 DescribeAddresses " + ip);
      }
    }
    if (found.isEmpty() || found.get(0).allocationId() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          ip
              + " is not an Elastic IP of this account in "
              + c.target.describe()
              + ": an instance's own public IP cannot be moved; allocate an Elastic IP and"
              + " configure it",
          "AddressMissing");
    }
    return found.get(0);
  }

  // ---------------------------------------------------------------------------------------------
  // stop, start, terminate

  @Override
  public ActionResult stopInstance(InstanceRequest r) {
    return changeState(r, "stop", "stopped");
  }

  @Override
  public ActionResult startInstance(InstanceRequest r) {
    return changeState(r, "start", "running");
  }

  private ActionResult changeState(InstanceRequest r, String verb, String want) {
    requireInstanceId(r.instanceId(), "instanceId", r.dryRun());
    String action =
        "EC2 "
            + (verb.equals("stop") ? "StopInstances " : "StartInstances ")
            + (r.instanceId() == null ? "(the instance of the earlier step)" : r.instanceId())
            + ", then wait until "
            + want;
    Ctx c = ctx(r.aws());
    if (r.instanceId() == null) {
      return new ActionResult(action, true, "would " + verb);
    }
    String now = sdkInstance(c, r.instanceId()).state().nameAsString();
    if (GONE.contains(now)) {
      throw ApplicationFailure.newNonRetryableFailure(
          r.instanceId() + " is " + now + ": it cannot " + verb + " (check the instance id)",
          "InstanceMissing");
    }
    if (want.equals(now)) {
      return new ActionResult(r.instanceId() + " is " + want + " already", r.dryRun(), want);
    }
    if (r.dryRun()) {
      return new ActionResult(action, true, "would " + verb + " (now " + now + ")");
    }
    // An instance on its way to the opposite state is let arrive there first: EC2 refuses to stop
    // a pending instance or start a stopping one.
    String opposite = want.equals("stopped") ? "running" : "stopped";
    String transit = want.equals("stopped") ? "stopping" : "pending";
    if (!now.equals(transit)) {
      if (!now.equals(opposite)) {
        awaitInstanceState(c, r.instanceId(), opposite, false);
      }
      log.info("step '{}': {} {}", r.step(), verb, r.instanceId());
      c.call(
          action,
          () ->
              verb.equals("stop")
                  ? c.ec2.stopInstances(b -> b.instanceIds(r.instanceId()))
                  : c.ec2.startInstances(b -> b.instanceIds(r.instanceId())));
    }
    awaitInstanceState(c, r.instanceId(), want, false);
    return new ActionResult(action, false, want + " (read back)");
  }

  @Override
  public ActionResult terminateInstance(InstanceRequest r) {
    requireInstanceId(r.instanceId(), "instanceId", r.dryRun());
    String action =
        "EC2 TerminateInstances "
            + (r.instanceId() == null ? "(the instance of the earlier step)" : r.instanceId())
            + ", then wait until terminated";
    Ctx c = ctx(r.aws());
    if (r.instanceId() == null) {
      return new ActionResult(action, true, "would terminate");
    }
    String now = sdkInstance(c, r.instanceId()).state().nameAsString();
    if ("terminated".equals(now)) {
      return new ActionResult(r.instanceId() + " is terminated already", r.dryRun(), "terminated");
    }
    boolean protectedNow = !"shutting-down".equals(now) && protection(c, r.instanceId());
    if (r.dryRun()) {
      return new ActionResult(
          action,
          true,
          "would terminate (now "
              + now
              + (protectedNow
                  ? "; termination protection is on now and must be turned off first)"
                  : ")"));
    }
    if (protectedNow) {
      throw terminationProtected(r.instanceId());
    }
    if (!"shutting-down".equals(now)) {
      log.info("step '{}': terminate {} (was {})", r.step(), r.instanceId(), now);
      try {
        c.ec2.terminateInstances(b -> b.instanceIds(r.instanceId()));
      } catch (SdkException e) {
        if ("OperationNotPermitted".equals(AwsFailures.code(e))) {
          throw terminationProtected(r.instanceId());
        }
        throw c.failure(e, "EC2 TerminateInstances " + r.instanceId());
      }
    }
    awaitInstanceState(c, r.instanceId(), "terminated", false);
    return new ActionResult(action, false, "terminated (read back)");
  }

  private static ApplicationFailure terminationProtected(String id) {
    return ApplicationFailure.newNonRetryableFailure(
        id
            + " has termination protection on: turn it off first, on purpose"
            + " (setTerminationProtection with protect=false), then terminate",
        "TerminationProtected");
  }

  // ---------------------------------------------------------------------------------------------
  // instances

  private Instance describe(Ctx c, String id) {
    software.amazon.awssdk.services.ec2.model.Instance i = sdkInstance(c, id);
    String state = i.state().nameAsString();
    // A terminated instance has no protection left to read (and EC2 may refuse the read).
    boolean protectedNow = !GONE.contains(state) && protection(c, id);
    Map<String, String> tags = new TreeMap<>();
    for (Tag t : i.tags()) {
      tags.put(t.key(), t.value());
    }
    return new Instance(
        i.instanceId(),
        state,
        i.instanceTypeAsString(),
        i.imageId(),
        i.keyName(),
        i.subnetId(),
        groupIds(i),
        i.iamInstanceProfile() == null ? null : i.iamInstanceProfile().arn(),
        Boolean.TRUE.equals(i.ebsOptimized()),
        i.privateIpAddress(),
        i.publicIpAddress(),
        tags,
        protectedNow);
  }

  private static List<String> groupIds(software.amazon.awssdk.services.ec2.model.Instance i) {
    return i.securityGroups().stream().map(GroupIdentifier::groupId).sorted().toList();
  }

  /** The instance, or a non-retryable {@code InstanceMissing}. */
  private software.amazon.awssdk.services.ec2.model.Instance sdkInstance(Ctx c, String id) {
    software.amazon.awssdk.services.ec2.model.Instance i = findInstance(c, id);
    if (i == null) {
      throw instanceMissing(c, id);
    }
    return i;
  }

  private software.amazon.awssdk.services.ec2.model.Instance findInstance(Ctx c, String id) {
    try {
      for (Reservation res : c.ec2.describeInstances(b -> b.instanceIds(id)).reservations()) {
        for (var i : res.instances()) {
          if (id.equals(i.instanceId())) {
            return i;
          }
        }
      }
      return null;
    } catch (SdkException e) {
      if ("InvalidInstanceID.NotFound".equals(AwsFailures.code(e))) {
        return null;
      }
      throw c.failure(e, "EC2 DescribeInstances " + id);
    }
  }

  private static ApplicationFailure instanceMissing(Ctx c, String id) {
    return ApplicationFailure.newNonRetryableFailure(
        "instance "
            + id
            + " does not exist in "
            + c.target.describe()
            + " (check the instance id and the region)",
        "InstanceMissing");
  }

  /**
   * Waits until the instance is in {@code want}. {@code fresh}: just launched, so "not found" and
   * pending are expected for a while; an instance that ends up terminated instead fails.
   */
  private void awaitInstanceState(Ctx c, String id, String want, boolean fresh) {
    Instant since = clock.instant();
    await(
        id + " to be " + want,
        () -> {
          var i = findInstance(c, id);
          if (i == null
              && !(fresh
                  && Duration.between(since, clock.instant()).compareTo(NOT_YET_VISIBLE) < 0)) {
            throw instanceMissing(c, id);
          }
          return i;
        },
        i -> i == null ? "not visible yet" : i.state().nameAsString(),
        i -> {
          if (i == null) {
            return false;
          }
          String s = i.state().nameAsString();
          if (!want.equals(s) && !"terminated".equals(want) && GONE.contains(s)) {
            throw ApplicationFailure.newNonRetryableFailure(
                id
                    + " is "
                    + s
                    + " while waiting for it to be "
                    + want
                    + (i.stateReason() == null ? "" : ": " + i.stateReason().message()),
                "InstanceMissing");
          }
          return want.equals(s);
        });
  }

  // ---------------------------------------------------------------------------------------------
  // waiting

  /**
   * Polls {@code read} until {@code done} holds, heartbeating on every poll; {@code done} may throw
   * to end the wait with a failure.
   */
  private <T> T await(
      String what,
      Supplier<T> read,
      Function<T, String> describe,
      java.util.function.Predicate<T> done) {
    Instant start = clock.instant();
    Duration pause = FIRST_POLL;
    while (true) {
      T v = read.get();
      long waited = Duration.between(start, clock.instant()).toSeconds();
      ActivityIo.heartbeat(
          new Progress(waited, 0, "s", "waiting for " + what + " (now " + describe.apply(v) + ")"));
      if (done.test(v)) {
        return v;
      }
      if (Duration.between(start, clock.instant()).compareTo(waitLimit) >= 0) {
        throw ApplicationFailure.newFailure(
            "gave up waiting for "
                + what
                + " after "
                + waitLimit.toMinutes()
                + " min (now "
                + describe.apply(v)
                + "): EC2 has not got there; a retry looks again",
            "AwsUnreachable");
      }
      try {
        Thread.sleep(pause.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
      pause = pause.multipliedBy(3).dividedBy(2);
      if (pause.compareTo(MAX_POLL) > 0) {
        pause = MAX_POLL;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // plumbing

  /** One activity's client and target, and the EC2-specific failure mapping. */
  private static final class Ctx {
    final Ec2Client ec2;
    final AwsClients.Target target;

    Ctx(Ec2Client ec2, AwsClients.Target target) {
      this.ec2 = ec2;
      this.target = target;
    }

    <T> T call(String what, Supplier<T> call) {
      try {
        return call.get();
      } catch (SdkException e) {
        throw failure(e, what);
      }
    }

    ApplicationFailure failure(SdkException e, String what) {
      log.debug("{} failed", what, e);
      String code = AwsFailures.code(e);
      if ("InvalidInstanceID.NotFound".equals(code)) {
        return ApplicationFailure.newNonRetryableFailure(
            what + ": " + AwsFailures.message(e) + " in " + target.describe(), "InstanceMissing");
      }
      if ("InvalidAddress.NotFound".equals(code)) {
        return ApplicationFailure.newNonRetryableFailure(
            what + ": " + AwsFailures.message(e) + " in " + target.describe(), "AddressMissing");
      }
      if ("InvalidInstanceID.Malformed".equals(code) || "InvalidAMIID.Malformed".equals(code)) {
        return invalid(what + ": " + AwsFailures.message(e));
      }
      return AwsFailures.of(e, what, target);
    }
  }

  private Ctx ctx(Aws aws) {
    if (aws == null) {
      throw invalid("no AWS target given: configure aws.region (and the credential references)");
    }
    AwsClients.Target t =
        new AwsClients.Target(aws.region(), aws.endpoint(), aws.accessKeyRef(), aws.secretKeyRef());
    return new Ctx(clients.ec2(t), t);
  }

  private static void requireInstanceId(String id, String field, boolean dryRun) {
    if (id == null && dryRun) {
      return; // a rehearsal of the step that makes it had no id to give
    }
    if (id == null || !INSTANCE_ID.matcher(id).matches()) {
      throw invalid(field + " '" + id + "' is not an EC2 instance id (i-0123456789abcdef0)");
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
