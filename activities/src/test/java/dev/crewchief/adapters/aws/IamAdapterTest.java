package dev.crewchief.adapters.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.Ec2Activities.Aws;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.IamActivities;
import dev.crewchief.activities.IamActivities.ActivateRequest;
import dev.crewchief.activities.IamActivities.CredentialsFile;
import dev.crewchief.activities.IamActivities.KeyInfo;
import dev.crewchief.activities.IamActivities.RotateRequest;
import dev.crewchief.activities.IamActivities.Rotation;
import dev.crewchief.activities.IamActivities.ValidateRequest;
import dev.crewchief.activities.IamActivities.Validation;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.StatusType;

/**
 * The IAM adapter against moto's server and the sandbox host: what it did is read back with the SDK
 * and from the credentials file on the host's disk (the sandbox's home is local). The file is the
 * SSH user's, or another user's, which the adapter reads and writes with {@code sudo -n} (the
 * sandbox user given passwordless sudo for that test, by a sudoers file).
 */
class IamAdapterTest {
  static IamClient iam;
  static AwsClients clients;
  static SshHosts ssh;
  static Aws aws;
  static Sandbox sandbox;
  static HostRef host;
  static TestActivityEnvironment env;
  static IamActivities stub;

  @BeforeAll
  static void up() {
    String endpoint = MotoServer.endpoint();
    iam =
        IamClient.builder()
            .region(Region.AWS_GLOBAL)
            .endpointOverride(URI.create(endpoint))
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(MotoServer.ACCESS_KEY, MotoServer.SECRET_KEY)))
            .build();
    sandbox = Sandbox.get();
    host =
        new HostRef(
            "sandbox",
            "127.0.0.1",
            sandbox.sshPort(),
            sandbox.user(),
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    SecretResolver secrets =
        new SecretResolver(
            Map.of("MOTO_KEY", MotoServer.ACCESS_KEY, "MOTO_SECRET", MotoServer.SECRET_KEY));
    clients = new AwsClients(secrets);
    ssh = new SshHosts(secrets);
    aws = new Aws(MotoServer.REGION, endpoint, "env:MOTO_KEY", "env:MOTO_SECRET");
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new IamActivitiesImpl(clients, ssh));
    stub =
        env.newActivityStub(
            IamActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                .build());
  }

  @AfterAll
  static void down() {
    env.close();
    clients.close();
    ssh.close();
    iam.close();
  }

  /** A user with one ACTIVE key (installed in the file) and one INACTIVE; returns both ids. */
  static String[] userWithTwoKeys(String user) {
    iam.createUser(b -> b.userName(user));
    String active = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    String inactive = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    iam.updateAccessKey(b -> b.userName(user).accessKeyId(inactive).status(StatusType.INACTIVE));
    return new String[] {active, inactive};
  }

  /** The credentials file in the sandbox user's home, with another section and the old key. */
  static Path credentials(String activeKey) throws Exception {
    Path dir = sandbox.home().resolve(".aws-" + UUID.randomUUID());
    Files.createDirectories(dir);
    Path file = dir.resolve("credentials");
    Files.writeString(
        file,
        "[default]\naws_access_key_id = AKIAOTHERSECTION0001\n"
            + "aws_secret_access_key = other-section-secret\nregion = eu-west-1\n\n"
            + "[encoded]\naws_access_key_id = "
            + activeKey
            + "\naws_secret_access_key = old-secret\n");
    UserPrincipal owner =
        dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(sandbox.user());
    Files.setOwner(dir, owner);
    Files.setOwner(file, owner);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  static Map<String, String> keysOf(String user) {
    return iam.listAccessKeys(b -> b.userName(user)).accessKeyMetadata().stream()
        .collect(
            Collectors.toMap(AccessKeyMetadata::accessKeyId, AccessKeyMetadata::statusAsString));
  }

  @Test
  void rotateDeletesTheInactiveKeyInstallsANewInactiveOneAndARetryMakesNoThird() throws Exception {
    String user = "encoded-" + UUID.randomUUID().toString().substring(0, 8);
    String[] ids = userWithTwoKeys(user);
    Path file = credentials(ids[0]);
    CredentialsFile target = new CredentialsFile(host, file.toString(), "encoded", sandbox.user());

    Rotation dry = stub.rotateKey(new RotateRequest("rotate", aws, user, target, true));
    assertTrue(dry.rehearsed());
    assertEquals(ids[1], dry.deletedKeyId());
    assertEquals(2, keysOf(user).size());
    assertTrue(Files.readString(file).contains(ids[0]));

    Rotation r = stub.rotateKey(new RotateRequest("rotate", aws, user, target, false));
    assertFalse(r.rehearsed());
    assertFalse(r.resumed());
    assertEquals(ids[1], r.deletedKeyId());
    assertNotNull(r.newKeyId());
    Map<String, String> keys = keysOf(user);
    assertEquals(Map.of(ids[0], "Active", r.newKeyId(), "Inactive"), keys);

    String text = Files.readString(file);
    var installed = CredentialsFiles.key(text, "encoded");
    assertEquals(r.newKeyId(), installed.id());
    assertNotEquals("old-secret", installed.secret());
    assertTrue(text.contains("[default]\naws_access_key_id = AKIAOTHERSECTION0001\n"), text);
    assertTrue(text.contains("region = eu-west-1"), text);
    assertTrue(
        text.contains(
            "[encoded]\naws_access_key_id = "
                + r.newKeyId()
                + "\naws_secret_access_key = "
                + installed.secret()
                + "\n"),
        "the runbook's format");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(sandbox.user(), Files.getOwner(file).getName());
    assertEquals("600", r.fileMode());
    assertEquals(sandbox.user(), r.fileOwner());

    // The secret went over stdin: no command the host ran names it; nothing returned holds it.
    for (String cmd : sandbox.commandsRun()) {
      assertFalse(cmd.contains(installed.secret()), "a command line carried the secret");
    }
    assertFalse(r.toString().contains(installed.secret()));

    Rotation again = stub.rotateKey(new RotateRequest("rotate", aws, user, target, false));
    assertTrue(again.resumed());
    assertEquals(r.newKeyId(), again.newKeyId());
    assertEquals(keys, keysOf(user), "a retry makes no third key");
    assertEquals(r.newKeyId(), CredentialsFiles.key(Files.readString(file), "encoded").id());

    // The runbook's next steps: activate the new key only, then check the installed key works.
    List<KeyInfo> after =
        stub.activateOnly(new ActivateRequest("activate", aws, user, r.newKeyId(), false));
    assertEquals(Map.of(ids[0], "Inactive", r.newKeyId(), "Active"), keysOf(user));
    assertEquals(2, after.size());

    Validation v =
        stub.validateInstalledKey(new ValidateRequest("validate", aws, user, target, false));
    assertEquals(r.newKeyId(), v.keyId());
    assertEquals(iam.getUser(b -> b.userName(user)).user().arn(), v.arn());
    assertFalse(v.toString().contains(installed.secret()));
  }

  // --- a file owned by another user than the SSH user: read and written with sudo -n

  static final Path SUDOERS = Path.of("/etc/sudoers.d/crewchief-test-iam");
  static final String APP_USER = "ccencodeapp";

  /** A command on this machine, as root (the test's user, as for the sandbox itself). */
  static void local(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd));
  }

  @Test
  void anotherUsersFileIsRotatedWithSudoAndStaysTheirs() throws Exception {
    local("userdel", APP_USER); // left by an earlier run, if any
    local("useradd", "-M", "-s", "/usr/sbin/nologin", APP_USER);
    String user = "encoded-" + UUID.randomUUID().toString().substring(0, 8);
    String[] ids = userWithTwoKeys(user);
    Path file = credentials(ids[0]);
    // The app user's own directory and file: the SSH user can neither read nor write them.
    UserPrincipal app =
        file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(APP_USER);
    Files.setOwner(file.getParent(), app);
    Files.setOwner(file, app);
    Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwx------"));
    CredentialsFile target = new CredentialsFile(host, file.toString(), "encoded", APP_USER);
    try {
      // Without sudo: refused when the file is read, before anything changes in IAM.
      var refused =
          Ec2AdapterTest.assertFailure(
              "CredentialsFile",
              () -> stub.rotateKey(new RotateRequest("rotate", aws, user, target, false)));
      assertTrue(
          refused
              .getOriginalMessage()
              .contains(
                  "the owner "
                      + APP_USER
                      + " is not the SSH user, so "
                      + sandbox.user()
                      + " needs passwordless sudo for sh there"),
          refused.getOriginalMessage());
      assertEquals(Map.of(ids[0], "Active", ids[1], "Inactive"), keysOf(user));

      Files.writeString(SUDOERS, sandbox.user() + " ALL=(ALL) NOPASSWD: ALL\n");
      Files.setPosixFilePermissions(SUDOERS, PosixFilePermissions.fromString("r--r-----"));
      Rotation r = stub.rotateKey(new RotateRequest("rotate", aws, user, target, false));
      assertEquals(ids[1], r.deletedKeyId());
      assertEquals(Map.of(ids[0], "Active", r.newKeyId(), "Inactive"), keysOf(user));
      assertEquals("600", r.fileMode());
      assertEquals(APP_USER, r.fileOwner());
      assertEquals(APP_USER, Files.getOwner(file).getName(), "still the app user's");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      String text = Files.readString(file);
      assertEquals(r.newKeyId(), CredentialsFiles.key(text, "encoded").id());
      assertTrue(text.contains("aws_access_key_id = AKIAOTHERSECTION0001"), text);
      for (String cmd : sandbox.commandsRun()) {
        assertFalse(
            cmd.contains(CredentialsFiles.key(text, "encoded").secret()),
            "a command line carried the secret");
      }

      // Validation reads the key back through sudo too.
      stub.activateOnly(new ActivateRequest("activate", aws, user, r.newKeyId(), false));
      Validation v =
          stub.validateInstalledKey(new ValidateRequest("validate", aws, user, target, false));
      assertEquals(r.newKeyId(), v.keyId());
    } finally {
      Files.deleteIfExists(SUDOERS);
      local("userdel", APP_USER);
    }
  }

  @Test
  void twoActiveKeysAreAKeyLimitNamingTheOneToDelete() throws Exception {
    String user = "encoded-" + UUID.randomUUID().toString().substring(0, 8);
    iam.createUser(b -> b.userName(user));
    String a = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    String b2 = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    Path file = credentials(a);
    CredentialsFile target = new CredentialsFile(host, file.toString(), "encoded", sandbox.user());
    var f =
        Ec2AdapterTest.assertFailure(
            "IamKeyLimit",
            () -> stub.rotateKey(new RotateRequest("rotate", aws, user, target, false)));
    assertTrue(f.getOriginalMessage().contains(b2), f.getOriginalMessage());
    assertEquals(2, keysOf(user).size());
  }

  @Test
  void aMissingUserIsIamNoSuchUser() throws Exception {
    Path file = credentials("AKIAUNUSEDUNUSED0001");
    CredentialsFile target = new CredentialsFile(host, file.toString(), "encoded", sandbox.user());
    Ec2AdapterTest.assertFailure(
        "IamNoSuchUser",
        () -> stub.rotateKey(new RotateRequest("rotate", aws, "nobody-here", target, false)));
  }

  @Test
  void theRunbookFormatReplacesOrAppendsTheSection() throws Exception {
    String with = CredentialsFiles.withKey("[a]\nx = 1\n", "b", "ID", "S");
    assertEquals("[a]\nx = 1\n\n[b]\naws_access_key_id = ID\naws_secret_access_key = S\n", with);
    assertEquals(
        "[b]\naws_access_key_id = ID\naws_secret_access_key = S\n",
        CredentialsFiles.withKey(null, "b", "ID", "S"));
    assertEquals(
        "[b]\naws_access_key_id = N\naws_secret_access_key = T\n[c]\ny = 2\n",
        CredentialsFiles.withKey(
            "[b]\naws_access_key_id = ID\naws_secret_access_key = S\n[c]\ny = 2\n", "b", "N", "T"));
  }

  @Test
  void aKeyAnEarlierAttemptMadeButDidNotInstallIsReplaced() throws Exception {
    // The attempt before died between CreateAccessKey and UpdateAccessKey: two ACTIVE keys, the
    // file still on the old one, and its last heartbeat naming the key it made.
    String user = "encoded-" + UUID.randomUUID().toString().substring(0, 8);
    iam.createUser(b -> b.userName(user));
    String old = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    String orphan = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    Path file = credentials(old);
    CredentialsFile target = new CredentialsFile(host, file.toString(), "encoded", sandbox.user());
    env.setHeartbeatDetails(
        new Progress(1, 3, "steps", "created " + orphan + " for " + user + ", installing"));

    Rotation r = stub.rotateKey(new RotateRequest("rotate", aws, user, target, false));
    assertNotEquals(orphan, r.newKeyId());
    assertEquals(Map.of(old, "Active", r.newKeyId(), "Inactive"), keysOf(user));
    assertEquals(r.newKeyId(), CredentialsFiles.key(Files.readString(file), "encoded").id());
  }

  @Test
  void validatingAFileWithoutTheSectionFails() throws Exception {
    Path file = credentials("AKIAUNUSEDUNUSED0002");
    CredentialsFile target = new CredentialsFile(host, file.toString(), "absent", sandbox.user());
    Ec2AdapterTest.assertFailure(
        "KeyValidationFailed",
        () -> stub.validateInstalledKey(new ValidateRequest("validate", aws, "x", target, false)));
    CredentialsFile wrong = new CredentialsFile(host, file.toString(), "encoded", sandbox.user());
    // The section's key is not a key AWS knows.
    var f =
        Ec2AdapterTest.assertFailure(
            "KeyValidationFailed",
            () ->
                stub.validateInstalledKey(new ValidateRequest("validate", aws, "x", wrong, false)));
    assertFalse(f.getOriginalMessage().contains("old-secret"));
  }

  @Test
  void aMissingFileIsMadeInAPrivateDirectory() throws Exception {
    String user = "encoded-" + UUID.randomUUID().toString().substring(0, 8);
    iam.createUser(b -> b.userName(user));
    String only = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
    Path file = sandbox.home().resolve(".aws-new-" + UUID.randomUUID()).resolve("credentials");
    CredentialsFile target = new CredentialsFile(host, file.toString(), "encoded", sandbox.user());

    Rotation r = stub.rotateKey(new RotateRequest("rotate", aws, user, target, false));
    assertEquals(null, r.deletedKeyId());
    assertEquals(Map.of(only, "Active", r.newKeyId(), "Inactive"), keysOf(user));
    assertEquals(r.newKeyId(), CredentialsFiles.key(Files.readString(file), "encoded").id());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    assertEquals(sandbox.user(), Files.getOwner(file).getName());
  }
}
