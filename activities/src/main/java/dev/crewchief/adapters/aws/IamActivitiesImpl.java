package dev.crewchief.adapters.aws;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.IamActivities;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKey;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.StatusType;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * {@link IamActivities} with aws-sdk-java-v2, the credentials file written over SSH ({@link
 * CredentialsFiles}).
 *
 * <p>A rotation is idempotent by looking first: the host's file is read, and when its key id is one
 * of the user's INACTIVE keys the key is installed already and nothing is made. A key created by an
 * attempt that died before installing it is named in that attempt's last heartbeat ({@code created
 * AKIA...}); its secret is lost with the attempt, so the retry deletes it and makes another,
 * instead of finding two keys and stopping. Secrets exist only in this process's memory and on the
 * host, never in what the activity returns, throws, logs or heartbeats.
 */
public final class IamActivitiesImpl implements IamActivities {
  private static final Logger log = LoggerFactory.getLogger(IamActivitiesImpl.class);
  private static final Pattern USER = Pattern.compile("[\\w+=,.@-]{1,64}");
  private static final Pattern KEY_ID = Pattern.compile("[A-Z0-9]{16,128}");
  private static final String CREATED = "created ";

  private final AwsClients clients;
  private final SshHosts ssh;
  private final CredentialsFiles files;

  public IamActivitiesImpl(AwsClients clients, SshHosts ssh) {
    this.clients = clients;
    this.ssh = ssh;
    this.files = new CredentialsFiles(ssh);
  }

  // ---------------------------------------------------------------------------------------------
  // rotateKey

  @Override
  public Rotation rotateKey(RotateRequest r) {
    requireUser(r.userName());
    CredentialsFiles.check(r.target());
    AwsClients.Target t = target(r.aws());
    IamClient iam = clients.iam(t);
    String where = r.target().path() + " on " + r.target().host().describe();
    if (r.dryRun()) {
      ssh.rehearse(r.target().host());
      // Reads the key list (no secret in it), not the file (which holds one).
      List<KeyInfo> keys = keys(iam, t, r.userName());
      String inactive =
          keys.stream()
              .filter(k -> "Inactive".equals(k.status()))
              .map(KeyInfo::keyId)
              .findFirst()
              .orElse(null);
      return new Rotation(
          r.userName(), inactive, null, keys, where, "600", r.target().owner(), false, true);
    }

    try (SshHosts.Connection c = ssh.lease(r.target().host())) {
      String text = files.read(c, r.target());
      CredentialsFiles.Key installed = CredentialsFiles.key(text, r.target().section());
      List<AccessKeyMetadata> keys = sdkKeys(iam, t, r.userName());

      // Installed already (a retry of an attempt that got that far): verify and report.
      if (installed != null) {
        Optional<AccessKeyMetadata> inactive =
            keys.stream()
                .filter(k -> k.accessKeyId().equals(installed.id()))
                .filter(k -> k.status() == StatusType.INACTIVE)
                .findFirst();
        if (inactive.isPresent()) {
          CredentialsFiles.Written w = verified(c, r, installed.id());
          log.info(
              "step '{}': key {} of {} is installed in {} already",
              r.step(),
              installed.id(),
              r.userName(),
              where);
          return new Rotation(
              r.userName(),
              null,
              installed.id(),
              info(sdkKeys(iam, t, r.userName())),
              where,
              w.mode(),
              w.owner(),
              true,
              false);
        }
      }

      // A key the previous attempt made but did not install: its secret is gone with it.
      String orphan = createdByEarlierAttempt();
      String deleted = null;
      for (AccessKeyMetadata k : keys) {
        boolean isOrphan =
            k.accessKeyId().equals(orphan) && (installed == null || !installed.id().equals(orphan));
        if (isOrphan) {
          log.info(
              "step '{}': deleting {} made by an earlier attempt and not installed",
              r.step(),
              orphan);
          deleteKey(iam, t, r.userName(), orphan);
        }
      }
      keys = sdkKeys(iam, t, r.userName());
      if (keys.size() >= 2) {
        List<AccessKeyMetadata> inactive =
            keys.stream().filter(k -> k.status() == StatusType.INACTIVE).toList();
        if (inactive.isEmpty()) {
          // Which to delete: the one the host does not use, else the older one.
          AccessKeyMetadata drop =
              keys.stream()
                  .filter(k -> installed == null || !k.accessKeyId().equals(installed.id()))
                  .min(Comparator.comparing(AccessKeyMetadata::createDate))
                  .orElse(keys.get(0));
          throw ApplicationFailure.newNonRetryableFailure(
              "IAM user "
                  + r.userName()
                  + " has two ACTIVE keys ("
                  + keys.stream().map(AccessKeyMetadata::accessKeyId).toList()
                  + ") and no INACTIVE one to delete: find out which key is still in use, then"
                  + " deactivate and delete the other (probably "
                  + drop.accessKeyId()
                  + ", created "
                  + drop.createDate()
                  + "), and retry",
              "IamKeyLimit");
        }
        deleted = inactive.get(0).accessKeyId();
        log.info("step '{}': deleting INACTIVE key {} of {}", r.step(), deleted, r.userName());
        deleteKey(iam, t, r.userName(), deleted);
      }

      AccessKey made =
          call(
              t,
              "IAM CreateAccessKey " + r.userName(),
              () -> iam.createAccessKey(b -> b.userName(r.userName())).accessKey());
      String newId = made.accessKeyId();
      ActivityIo.heartbeat(
          new Progress(1, 3, "steps", CREATED + newId + " for " + r.userName() + ", installing"));
      call(
          t,
          "IAM UpdateAccessKey " + newId + " Inactive",
          () ->
              iam.updateAccessKey(
                  b -> b.userName(r.userName()).accessKeyId(newId).status(StatusType.INACTIVE)));
      String merged =
          CredentialsFiles.withKey(text, r.target().section(), newId, made.secretAccessKey());
      CredentialsFiles.Written written = files.write(c, r.target(), merged);
      ActivityIo.heartbeat(
          new Progress(2, 3, "steps", CREATED + newId + " for " + r.userName() + ", installed"));
      CredentialsFiles.Written w = verified(c, r, newId);
      List<KeyInfo> after = info(sdkKeys(iam, t, r.userName()));
      if (after.stream().noneMatch(k -> k.keyId().equals(newId) && "Inactive".equals(k.status()))) {
        throw ApplicationFailure.newFailure(
            "key " + newId + " of " + r.userName() + " does not read back INACTIVE: " + after,
            "AwsUnreachable");
      }
      log.info(
          "step '{}': key {} of {} made, INACTIVE, installed in {} ({} {}); deleted {}",
          r.step(),
          newId,
          r.userName(),
          where,
          written.mode(),
          written.owner(),
          deleted);
      return new Rotation(
          r.userName(), deleted, newId, after, where, w.mode(), w.owner(), false, false);
    }
  }

  /** The file read back has {@code keyId}, mode 600 and the owner. */
  private CredentialsFiles.Written verified(SshHosts.Connection c, RotateRequest r, String keyId) {
    CredentialsFiles.Key back =
        CredentialsFiles.key(files.read(c, r.target()), r.target().section());
    CredentialsFiles.Written w = files.stat(c, r.target());
    String where = r.target().path() + " on " + r.target().host().describe();
    if (back == null || !keyId.equals(back.id()) || back.secret() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          where + " does not read back with key " + keyId + " under [" + r.target().section() + "]",
          "CredentialsFile");
    }
    if (w == null || !"600".equals(w.mode()) || !r.target().owner().equals(w.owner())) {
      throw ApplicationFailure.newNonRetryableFailure(
          where
              + " reads back "
              + (w == null ? "missing" : "mode " + w.mode() + " owner " + w.owner())
              + ", not mode 600 owner "
              + r.target().owner(),
          "CredentialsFile");
    }
    return w;
  }

  /** The key id the previous attempt's last heartbeat says it created, or "". */
  private static String createdByEarlierAttempt() {
    try {
      Optional<Progress> last = Activity.getExecutionContext().getHeartbeatDetails(Progress.class);
      if (last.isPresent() && last.get().message() != null) {
        String m = last.get().message();
        if (m.startsWith(CREATED)) {
          String id = m.substring(CREATED.length()).split(" ", 2)[0];
          return KEY_ID.matcher(id).matches() ? id : "";
        }
      }
    } catch (IllegalStateException notInAnActivity) {
      // Called directly (tests): no earlier attempt.
    }
    return "";
  }

  private void deleteKey(IamClient iam, AwsClients.Target t, String user, String id) {
    try {
      iam.deleteAccessKey(b -> b.userName(user).accessKeyId(id));
    } catch (SdkException e) {
      if (!"NoSuchEntity".equals(AwsFailures.code(e))) {
        throw failure(e, "IAM DeleteAccessKey " + id + " of " + user, t);
      }
      // Gone already: what a retry of a delete finds.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // activateOnly

  @Override
  public List<KeyInfo> activateOnly(ActivateRequest r) {
    requireUser(r.userName());
    if (r.activeKeyId() == null && r.dryRun()) {
      AwsClients.Target t = target(r.aws());
      clients.rehearse(t);
      return keys(clients.iam(t), t, r.userName());
    }
    if (r.activeKeyId() == null || !KEY_ID.matcher(r.activeKeyId()).matches()) {
      throw invalid("activeKeyId '" + r.activeKeyId() + "' is not an access key id");
    }
    AwsClients.Target t = target(r.aws());
    IamClient iam = clients.iam(t);
    List<AccessKeyMetadata> keys = sdkKeys(iam, t, r.userName());
    if (keys.stream().noneMatch(k -> k.accessKeyId().equals(r.activeKeyId()))) {
      throw ApplicationFailure.newNonRetryableFailure(
          "IAM user "
              + r.userName()
              + " has no key "
              + r.activeKeyId()
              + " (its keys: "
              + info(keys)
              + "): check the key id the rotation returned",
          "KeyValidationFailed");
    }
    if (r.dryRun()) {
      return keys.stream()
          .map(
              k ->
                  new KeyInfo(
                      k.accessKeyId(),
                      k.accessKeyId().equals(r.activeKeyId()) ? "Active" : "Inactive"))
          .toList();
    }
    // The new key first, so that the user is never without an active key.
    for (AccessKeyMetadata k : keys) {
      if (k.accessKeyId().equals(r.activeKeyId()) && k.status() != StatusType.ACTIVE) {
        setStatus(iam, t, r.userName(), k.accessKeyId(), StatusType.ACTIVE);
      }
    }
    for (AccessKeyMetadata k : keys) {
      if (!k.accessKeyId().equals(r.activeKeyId()) && k.status() != StatusType.INACTIVE) {
        setStatus(iam, t, r.userName(), k.accessKeyId(), StatusType.INACTIVE);
      }
    }
    List<KeyInfo> after = info(sdkKeys(iam, t, r.userName()));
    for (KeyInfo k : after) {
      boolean want = k.keyId().equals(r.activeKeyId());
      if (want != "Active".equals(k.status())) {
        throw ApplicationFailure.newFailure(
            "the keys of " + r.userName() + " do not read back as set: " + after, "AwsUnreachable");
      }
    }
    log.info("step '{}': {} is the only active key of {}", r.step(), r.activeKeyId(), r.userName());
    return after;
  }

  private void setStatus(
      IamClient iam, AwsClients.Target t, String user, String id, StatusType status) {
    call(
        t,
        "IAM UpdateAccessKey " + id + " " + status,
        () -> iam.updateAccessKey(b -> b.userName(user).accessKeyId(id).status(status)));
  }

  // ---------------------------------------------------------------------------------------------
  // validateInstalledKey

  @Override
  public Validation validateInstalledKey(ValidateRequest r) {
    requireUser(r.userName());
    CredentialsFiles.check(r.target());
    AwsClients.Target t = target(r.aws());
    String where = r.target().path() + " on " + r.target().host().describe();
    if (r.dryRun()) {
      clients.rehearse(t);
      ssh.rehearse(r.target().host());
      return new Validation(r.userName(), null, null, true);
    }
    CredentialsFiles.Key key;
    try (SshHosts.Connection c = ssh.lease(r.target().host())) {
      key = CredentialsFiles.key(files.read(c, r.target()), r.target().section());
    }
    if (key == null || key.secret() == null || key.secret().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          where + " has no key under [" + r.target().section() + "]: rotate the key first",
          "KeyValidationFailed");
    }
    String arn;
    try (StsClient sts = clients.stsWith(t, AwsBasicCredentials.create(key.id(), key.secret()))) {
      arn = sts.getCallerIdentity().arn();
    } catch (SdkException e) {
      ApplicationFailure f = failure(e, "STS GetCallerIdentity with key " + key.id(), t);
      if ("AwsAuthFailed".equals(f.getType())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "AWS refuses the key "
                + key.id()
                + " installed in "
                + where
                + " ("
                + AwsFailures.code(e)
                + "): is it active? rotate it again if it was deleted",
            "KeyValidationFailed");
      }
      throw f;
    }
    if (arn == null || !arn.endsWith("/" + r.userName()) || !arn.contains(":user/")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the key "
              + key.id()
              + " installed in "
              + where
              + " belongs to "
              + arn
              + ", not to IAM user "
              + r.userName(),
          "KeyValidationFailed");
    }
    log.info("step '{}': key {} in {} is {}", r.step(), key.id(), where, arn);
    return new Validation(r.userName(), key.id(), arn, false);
  }

  // ---------------------------------------------------------------------------------------------
  // plumbing

  private List<KeyInfo> keys(IamClient iam, AwsClients.Target t, String user) {
    return info(sdkKeys(iam, t, user));
  }

  private List<AccessKeyMetadata> sdkKeys(IamClient iam, AwsClients.Target t, String user) {
    try {
      return iam.listAccessKeys(b -> b.userName(user)).accessKeyMetadata().stream()
          .sorted(Comparator.comparing(AccessKeyMetadata::createDate))
          .toList();
    } catch (SdkException e) {
      throw failure(e, "IAM ListAccessKeys " + user, t);
    }
  }

  private static List<KeyInfo> info(List<AccessKeyMetadata> keys) {
    return keys.stream().map(k -> new KeyInfo(k.accessKeyId(), k.statusAsString())).toList();
  }

  private static <T> T call(AwsClients.Target t, String what, Supplier<T> call) {
    try {
      return call.get();
    } catch (SdkException e) {
      throw failure(e, what, t);
    }
  }

  private static ApplicationFailure failure(SdkException e, String what, AwsClients.Target t) {
    log.debug("{} failed", what, e);
    String code = AwsFailures.code(e);
    if ("NoSuchEntity".equals(code)) {
      return ApplicationFailure.newNonRetryableFailure(
          what + ": " + AwsFailures.message(e) + " (" + t.describe() + "): check the user name",
          "IamNoSuchUser");
    }
    if ("LimitExceeded".equals(code)) {
      return ApplicationFailure.newNonRetryableFailure(
          what + ": " + AwsFailures.message(e) + ": delete one of the user's two keys",
          "IamKeyLimit");
    }
    return AwsFailures.of(e, what, t);
  }

  private static AwsClients.Target target(Ec2Activities.Aws aws) {
    if (aws == null) {
      throw invalid("no AWS target given: configure aws.region (and the credential references)");
    }
    return new AwsClients.Target(
        aws.region(), aws.endpoint(), aws.accessKeyRef(), aws.secretKeyRef());
  }

  private static void requireUser(String user) {
    if (user == null || !USER.matcher(user).matches()) {
      throw invalid("IAM user name '" + user + "' is not a user name");
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
