package dev.crewchief.adapters.aws;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.Progress;
import dev.crewchief.activities.S3Activities;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import net.schmizz.sshj.sftp.FileMode;
import net.schmizz.sshj.sftp.RemoteFile;
import net.schmizz.sshj.sftp.RemoteResourceInfo;
import net.schmizz.sshj.sftp.SFTPClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@link S3Activities} with aws-sdk-java-v2; the host's files are read over SFTP through {@link
 * SshHosts} (host key verified against the host's known_hosts). A copy is idempotent by size: what
 * is already under the prefix with the same size is not uploaded again, so a retry uploads only
 * what the attempt before did not finish.
 */
public final class S3ActivitiesImpl implements S3Activities {
  private static final Logger log = LoggerFactory.getLogger(S3ActivitiesImpl.class);

  private final AwsClients clients;
  private final SshHosts ssh;

  public S3ActivitiesImpl(AwsClients clients, SshHosts ssh) {
    this.clients = clients;
    this.ssh = ssh;
  }

  // ---------------------------------------------------------------------------------------------
  // verifyListed

  @Override
  public Listed verifyListed(ListedRequest r) {
    requireBucket(r.bucket());
    AwsClients.Target t = target(r.aws());
    String prefix = r.prefix() == null ? "" : r.prefix();
    if (r.dryRun()) {
      clients.rehearse(t);
      return new Listed(r.bucket(), prefix, 0, 0, null, null, true);
    }
    if (r.since() == null) {
      throw invalid("step " + r.step() + " needs the time the backup started (since)");
    }
    Map<String, S3Object> found = list(clients.s3(t), t, r.bucket(), prefix);
    // S3 keeps whole seconds: an object written in the second the backup started is listed with
    // that second, before "since" itself.
    java.time.Instant since = r.since().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    int n = 0;
    long bytes = 0;
    S3Object newest = null;
    boolean marker = r.markerSuffix() == null || r.markerSuffix().isBlank();
    for (S3Object o : found.values()) {
      if (o.lastModified() == null || o.lastModified().isBefore(since)) {
        continue;
      }
      n++;
      bytes += o.size() == null ? 0 : o.size();
      if (newest == null || o.lastModified().isAfter(newest.lastModified())) {
        newest = o;
      }
      if (!marker && o.key().endsWith(r.markerSuffix())) {
        marker = true;
      }
    }
    String where = "s3://" + r.bucket() + "/" + prefix;
    if (n == 0) {
      throw ApplicationFailure.newNonRetryableFailure(
          "nothing under "
              + where
              + " was written at or after "
              + r.since()
              + " ("
              + found.size()
              + " older objects): the base backup did not land; check the backup step's log",
          "BackupNotListed");
    }
    if (!marker) {
      throw ApplicationFailure.newNonRetryableFailure(
          n
              + " objects under "
              + where
              + " since "
              + r.since()
              + ", but none ends with "
              + r.markerSuffix()
              + ": the backup did not finish",
          "BackupNotListed");
    }
    log.info(
        "step '{}': {} objects ({} bytes) under {} since {}", r.step(), n, bytes, where, r.since());
    return new Listed(r.bucket(), prefix, n, bytes, newest.key(), newest.lastModified(), false);
  }

  // ---------------------------------------------------------------------------------------------
  // copyFromHost

  @Override
  public Copied copyFromHost(CopyRequest r) {
    requireBucket(r.bucket());
    if (r.remoteDir() == null || !r.remoteDir().startsWith("/")) {
      throw invalid("remoteDir '" + r.remoteDir() + "' must be an absolute directory path");
    }
    if (r.host() == null) {
      throw invalid("step " + r.step() + " names no host to copy from");
    }
    AwsClients.Target t = target(r.aws());
    String prefix = r.prefix() == null ? "" : r.prefix().replaceAll("^/+|/+$", "");
    if (r.dryRun()) {
      clients.rehearse(t);
      ssh.rehearse(r.host());
      return new Copied(0, 0, 0, r.bucket(), prefix, true);
    }
    S3Client s3 = clients.s3(t);
    String root = r.remoteDir().replaceAll("/+$", "");
    try (SshHosts.Connection c = ssh.lease(r.host());
        SFTPClient sftp = c.newSFTPClient()) {
      Map<String, Long> files = walk(sftp, r, root);
      Map<String, S3Object> there = list(s3, t, r.bucket(), prefix.isEmpty() ? "" : prefix + "/");
      int done = 0;
      int uploaded = 0;
      long bytes = 0;
      for (Map.Entry<String, Long> f : files.entrySet()) {
        String key = key(prefix, f.getKey());
        S3Object o = there.get(key);
        if (o == null || o.size() == null || o.size().longValue() != f.getValue()) {
          put(s3, t, sftp, r, root + "/" + f.getKey(), key, f.getValue());
          uploaded++;
          bytes += f.getValue();
        }
        done++;
        ActivityIo.heartbeat(
            new Progress(
                done,
                files.size(),
                "files",
                "copied " + f.getKey() + " to s3://" + r.bucket() + "/" + key));
      }
      // Read back: every file is there, at its size.
      Map<String, S3Object> after = list(s3, t, r.bucket(), prefix.isEmpty() ? "" : prefix + "/");
      for (Map.Entry<String, Long> f : files.entrySet()) {
        S3Object o = after.get(key(prefix, f.getKey()));
        if (o == null || o.size() == null || o.size().longValue() != f.getValue()) {
          throw ApplicationFailure.newFailure(
              "s3://"
                  + r.bucket()
                  + "/"
                  + key(prefix, f.getKey())
                  + " does not read back at "
                  + f.getValue()
                  + " bytes after the upload",
              "AwsUnreachable");
        }
      }
      log.info(
          "step '{}': {} files of {}:{} in s3://{}/{}, {} uploaded ({} bytes)",
          r.step(),
          files.size(),
          r.host().describe(),
          root,
          r.bucket(),
          prefix,
          uploaded,
          bytes);
      return new Copied(files.size(), uploaded, bytes, r.bucket(), prefix, false);
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "SFTP to " + r.host().describe() + " failed: " + e.getMessage(), "SshUnreachable");
    }
  }

  private static String key(String prefix, String relative) {
    return prefix.isEmpty() ? relative : prefix + "/" + relative;
  }

  /** Regular files under {@code root}, by path relative to it, with their sizes. */
  private static Map<String, Long> walk(SFTPClient sftp, CopyRequest r, String root)
      throws IOException {
    if (sftp.statExistence(root) == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          r.remoteDir() + " does not exist on " + r.host().describe() + ": check remoteDir",
          "InvalidInput");
    }
    Map<String, Long> out = new TreeMap<>();
    Deque<String> dirs = new ArrayDeque<>();
    dirs.add("");
    while (!dirs.isEmpty()) {
      String rel = dirs.poll();
      for (RemoteResourceInfo i : sftp.ls(rel.isEmpty() ? root : root + "/" + rel)) {
        String child = rel.isEmpty() ? i.getName() : rel + "/" + i.getName();
        FileMode.Type type = i.getAttributes().getType();
        if (type == FileMode.Type.DIRECTORY) {
          dirs.add(child);
        } else if (type == FileMode.Type.REGULAR) {
          out.put(child, i.getAttributes().getSize());
        }
        // Links and devices are not copied: a log directory has none worth keeping.
      }
    }
    return out;
  }

  private static void put(
      S3Client s3,
      AwsClients.Target t,
      SFTPClient sftp,
      CopyRequest r,
      String path,
      String key,
      long size)
      throws IOException {
    try (RemoteFile f = sftp.open(path);
        InputStream in = f.new RemoteFileInputStream()) {
      s3.putObject(b -> b.bucket(r.bucket()).key(key), RequestBody.fromInputStream(in, size));
    } catch (SdkException e) {
      throw failure(e, "S3 PutObject s3://" + r.bucket() + "/" + key, t, r.bucket());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // plumbing

  private static Map<String, S3Object> list(
      S3Client s3, AwsClients.Target t, String bucket, String prefix) {
    try {
      Map<String, S3Object> out = new HashMap<>();
      for (S3Object o :
          s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
        out.put(o.key(), o);
      }
      return out;
    } catch (SdkException e) {
      throw failure(e, "S3 ListObjectsV2 s3://" + bucket + "/" + prefix, t, bucket);
    }
  }

  private static ApplicationFailure failure(
      SdkException e, String what, AwsClients.Target t, String bucket) {
    log.debug("{} failed", what, e);
    if ("NoSuchBucket".equals(AwsFailures.code(e))) {
      return ApplicationFailure.newNonRetryableFailure(
          what + ": bucket " + bucket + " does not exist (" + t.describe() + "): check the bucket",
          "S3NoSuchBucket");
    }
    return AwsFailures.of(e, what, t);
  }

  private static void requireBucket(String bucket) {
    if (bucket == null || !bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw invalid("bucket '" + bucket + "' is not an S3 bucket name");
    }
  }

  private static AwsClients.Target target(Ec2Activities.Aws aws) {
    if (aws == null) {
      throw invalid("no AWS target given: configure aws.region (and the credential references)");
    }
    return new AwsClients.Target(
        aws.region(), aws.endpoint(), aws.accessKeyRef(), aws.secretKeyRef());
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
