package dev.crewchief.adapters.aws;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.Ec2Activities.Aws;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.S3Activities;
import dev.crewchief.activities.S3Activities.Copied;
import dev.crewchief.activities.S3Activities.CopyRequest;
import dev.crewchief.activities.S3Activities.Listed;
import dev.crewchief.activities.S3Activities.ListedRequest;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 adapter against moto's server and the sandbox host; objects are read back with the SDK.
 */
class S3AdapterTest {
  static S3Client s3;
  static AwsClients clients;
  static SshHosts ssh;
  static Aws aws;
  static Sandbox sandbox;
  static HostRef host;
  static TestActivityEnvironment env;
  static S3Activities stub;

  @BeforeAll
  static void up() {
    String endpoint = MotoServer.endpoint();
    s3 =
        S3Client.builder()
            .region(Region.of(MotoServer.REGION))
            .endpointOverride(URI.create(endpoint))
            .forcePathStyle(true)
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
    env.registerActivitiesImplementations(new S3ActivitiesImpl(clients, ssh));
    stub =
        env.newActivityStub(
            S3Activities.class,
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
    s3.close();
  }

  static String bucket() {
    String b = "encoded-backups-" + UUID.randomUUID().toString().substring(0, 8);
    s3.createBucket(x -> x.bucket(b));
    return b;
  }

  static void put(String bucket, String key, String body) {
    s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(body));
  }

  @Test
  void verifyListedFindsTheBackupSinceAndItsMarker() {
    String bucket = bucket();
    put(bucket, "other/unrelated.txt", "x");
    put(
        bucket,
        "basebackups_005/base_000000010000000000000002/tar_partitions/part_1.tar.lzo",
        "12345");
    put(bucket, "basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json", "{}");
    Instant written =
        s3.headObject(
                b ->
                    b.bucket(bucket)
                        .key(
                            "basebackups_005/base_000000010000000000000002_backup_stop_sentinel.json"))
            .lastModified();
    // S3 keeps seconds: "since" a second before the write covers it whatever the clocks.
    Instant since = written.truncatedTo(ChronoUnit.SECONDS).minusSeconds(1);

    Listed l =
        stub.verifyListed(
            new ListedRequest(
                "verify",
                aws,
                bucket,
                "basebackups_005/",
                since,
                "_backup_stop_sentinel.json",
                false));
    assertFalse(l.rehearsed());
    assertEquals(2, l.objects());
    assertEquals(7, l.bytes());
    assertTrue(l.newestKey().startsWith("basebackups_005/"), l.newestKey());
    // A backup that started within the second of the write (S3 lists that whole second) counts.
    Listed sameSecond =
        stub.verifyListed(
            new ListedRequest(
                "verify",
                aws,
                bucket,
                "basebackups_005/",
                written.truncatedTo(ChronoUnit.SECONDS).plusMillis(999),
                "_backup_stop_sentinel.json",
                false));
    assertEquals(2, sameSecond.objects());

    var none =
        Ec2AdapterTest.assertFailure(
            "BackupNotListed",
            () ->
                stub.verifyListed(
                    new ListedRequest(
                        "verify",
                        aws,
                        bucket,
                        "basebackups_005/",
                        Instant.now().plus(Duration.ofHours(1)),
                        null,
                        false)));
    assertTrue(none.getOriginalMessage().contains("2 older objects"), none.getOriginalMessage());
    Ec2AdapterTest.assertFailure(
        "BackupNotListed",
        () ->
            stub.verifyListed(
                new ListedRequest(
                    "verify", aws, bucket, "basebackups_005/", since, "backup.manifest", false)));
    Ec2AdapterTest.assertFailure(
        "S3NoSuchBucket",
        () ->
            stub.verifyListed(
                new ListedRequest(
                    "verify",
                    aws,
                    "no-such-bucket-" + UUID.randomUUID(),
                    "x/",
                    since,
                    null,
                    false)));
  }

  @Test
  void copyFromHostCopiesTheTreeAndASecondCopyUploadsNothing() throws Exception {
    String bucket = bucket();
    Path dir = sandbox.home().resolve("old-logs-" + UUID.randomUUID());
    Files.createDirectories(dir.resolve("nginx/rotated"));
    Files.writeString(dir.resolve("app.log"), "started\nstopped\n");
    Files.writeString(dir.resolve("nginx/access.log"), "GET / 200\n".repeat(1000));
    Files.write(dir.resolve("nginx/rotated/access.log.1.gz"), new byte[] {31, -117, 8, 0, 1, 2});

    CopyRequest req =
        new CopyRequest("logs", aws, host, dir.toString(), bucket, "old-server/logs", false);
    Copied dry =
        stub.copyFromHost(
            new CopyRequest("logs", aws, host, dir.toString(), bucket, "old-server/logs", true));
    assertTrue(dry.rehearsed());
    assertTrue(s3.listObjectsV2(b -> b.bucket(bucket)).contents().isEmpty());

    Copied c = stub.copyFromHost(req);
    assertEquals(3, c.files());
    assertEquals(3, c.uploaded());
    Map<String, Long> there =
        s3.listObjectsV2(b -> b.bucket(bucket)).contents().stream()
            .collect(Collectors.toMap(S3Object::key, S3Object::size));
    assertEquals(
        Map.of(
            "old-server/logs/app.log", 16L,
            "old-server/logs/nginx/access.log", 10000L,
            "old-server/logs/nginx/rotated/access.log.1.gz", 6L),
        there);
    assertEquals(
        "started\nstopped\n",
        s3.getObjectAsBytes(b -> b.bucket(bucket).key("old-server/logs/app.log"))
            .asString(StandardCharsets.UTF_8));
    assertArrayEquals(
        new byte[] {31, -117, 8, 0, 1, 2},
        s3.getObjectAsBytes(
                b -> b.bucket(bucket).key("old-server/logs/nginx/rotated/access.log.1.gz"))
            .asByteArray());

    Copied again = stub.copyFromHost(req);
    assertEquals(3, again.files());
    assertEquals(0, again.uploaded());
  }
}
