package dev.crewchief.adapters.ssh;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ArchiveRequest;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.InspectRequest;
import dev.crewchief.activities.JobRequest;
import dev.crewchief.activities.JobResult;
import dev.crewchief.activities.PathFacts;
import dev.crewchief.activities.Progress;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SourceRequirement;
import dev.crewchief.activities.SyncRequest;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import net.schmizz.sshj.sftp.SFTPClient;
import net.schmizz.sshj.xfer.FileSystemFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link RemoteHostActivities} over SSH with sshj. */
public final class RemoteHostActivitiesImpl implements RemoteHostActivities {
  private static final Logger log = LoggerFactory.getLogger(RemoteHostActivitiesImpl.class);
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(9);

  private final SshHosts ssh;
  private final HostJobs jobs;

  public RemoteHostActivitiesImpl(SshHosts ssh) {
    this.ssh = ssh;
    this.jobs = new HostJobs(ssh);
  }

  @Override
  public PathFacts inspect(InspectRequest r) {
    requireHost(r.host());
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new PathFacts(false, List.of());
    }
    StringBuilder cmd = new StringBuilder("for p in");
    for (String p : r.paths()) {
      cmd.append(' ').append(q(p));
    }
    cmd.append("; do [ -e \"$p\" ] && printf '%s\\n' \"$p\"; done; true");
    SshHosts.Connection client = ssh.lease(r.host());
    try {
      ExecResult res = ssh.execChecked(client, r.host(), cmd.toString(), Duration.ofMinutes(1));
      List<String> existing = res.stdout().lines().filter(l -> !l.isBlank()).toList();
      return new PathFacts(true, existing);
    } finally {
      client.close();
    }
  }

  @Override
  public ActionResult runCommand(CommandRequest r) {
    requireHost(r.host());
    if (r.command() == null || r.command().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "empty command for step " + r.step(), "InvalidInput");
    }
    String action = "on " + r.host().describe() + ": " + r.command();
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new ActionResult(action, true, "");
    }
    log.info("step '{}' {}", r.step(), action);
    SshHosts.Connection client = ssh.lease(r.host());
    try {
      ExecResult res =
          ssh.execChecked(
              client,
              r.host(),
              r.command(),
              COMMAND_TIMEOUT,
              r.tools() == null ? Map.of() : r.tools(),
              "step '" + r.step() + "' ran");
      return new ActionResult(action, false, SshHosts.tail(res.stdout()));
    } finally {
      client.close();
    }
  }

  @Override
  public SyncResult syncDirectory(SyncRequest r) {
    requireHost(r.host());
    Path local = Path.of(r.localDir());
    if (!Files.isDirectory(local)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "source directory " + local + " does not exist on this worker: check randopony.sourceDir",
          "SourceMissing");
    }
    // The source's layout is checked before anything is sent, in a rehearsal too: a source
    // without what the later steps need would otherwise be found out half-way, on the host.
    requireLayout(local, r.required());
    PathPatterns excluded = new PathPatterns(r.excludes());
    PathPatterns protect = new PathPatterns(r.protect());
    Map<String, Path> files = listLocal(local, r.excludes(), r.protect());
    String target = r.host().describe() + ":" + r.remoteDir();
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new SyncResult(
          "would upload the changed files among "
              + files.size()
              + " from "
              + local
              + " to "
              + target
              + (r.delete()
                  ? ", and delete there the files the source no longer has (except "
                      + String.join(", ", leftAlone(r))
                      + ")"
                  : ""),
          true,
          List.of(),
          0,
          List.of());
    }
    SshHosts.Connection client = ssh.lease(r.host());
    try {
      ExecResult res =
          ssh.execChecked(
              client,
              r.host(),
              "mkdir -p "
                  + q(r.remoteDir())
                  + " && cd "
                  + q(r.remoteDir())
                  + " && find . -type f -print0 | xargs -0 -r sha256sum",
              Duration.ofMinutes(2));
      Map<String, String> remote = new HashMap<>();
      for (String line : res.stdout().lines().toList()) {
        int sep = line.indexOf("  ");
        if (sep > 0) {
          String path = line.substring(sep + 2);
          remote.put(path.startsWith("./") ? path.substring(2) : path, line.substring(0, sep));
        }
      }
      List<String> uploaded = new ArrayList<>();
      int unchanged = 0;
      int seen = 0;
      try (SFTPClient sftp = client.newSFTPClient()) {
        for (Map.Entry<String, Path> e : files.entrySet()) {
          String rel = e.getKey();
          seen++;
          if (sha256(e.getValue()).equals(remote.get(rel))) {
            unchanged++;
            continue;
          }
          String dest = r.remoteDir() + "/" + rel;
          int slash = dest.lastIndexOf('/');
          sftp.mkdirs(dest.substring(0, slash));
          if (remote.containsKey(rel)) {
            // Removing first lets us replace files made read-only (credentials at 400).
            sftp.rm(dest);
          }
          ActivityIo.heartbeat(new Progress(seen, files.size(), "files", "uploading " + rel));
          sftp.put(new FileSystemFile(e.getValue().toFile()), dest);
          sftp.chmod(dest, Files.isExecutable(e.getValue()) ? 0755 : 0644);
          uploaded.add(rel);
        }
      }
      List<String> deleted = new ArrayList<>();
      int kept = 0;
      if (r.delete()) {
        // What rsync --delete does: the host's files the source no longer has go, except what
        // the excludes and the protected paths leave alone (build output; the app's data).
        for (String rel : new TreeMap<>(remote).keySet()) {
          if (files.containsKey(rel)) {
            continue;
          }
          if (excluded.matches(rel) || protect.matches(rel)) {
            kept++;
          } else {
            deleted.add(rel);
          }
        }
        delete(client, r, local, deleted);
      }
      log.info(
          "synced {} to {}: {} uploaded, {} unchanged, {} deleted",
          local,
          target,
          uploaded.size(),
          unchanged,
          deleted.size());
      return new SyncResult(
          "uploaded "
              + uploaded.size()
              + " changed files ("
              + unchanged
              + " unchanged) from "
              + local
              + " to "
              + target
              + (r.delete()
                  ? "; deleted "
                      + (deleted.isEmpty()
                          ? "nothing"
                          : deleted.size()
                              + " no longer in the source ("
                              + abbreviate(deleted)
                              + ")")
                      + (kept == 0
                          ? ""
                          : "; kept "
                              + kept
                              + " not in the source that match "
                              + String.join(", ", leftAlone(r)))
                  : ""),
          false,
          uploaded,
          unchanged,
          deleted);
    } catch (IOException e) {
      client.markBroken();
      throw ApplicationFailure.newFailure(
          "upload to " + target + " failed: " + e.getMessage(), "SshUnreachable");
    } finally {
      client.close();
    }
  }

  /** Fails {@code SourceIncomplete}, naming every missing path, when the source lacks one. */
  static void requireLayout(Path local, List<SourceRequirement> required) {
    if (required == null) {
      return;
    }
    List<String> missing = new ArrayList<>();
    for (SourceRequirement req : required) {
      boolean found = req.anyOf().stream().anyMatch(p -> Files.exists(local.resolve(p)));
      if (!found) {
        missing.add(String.join(" or ", req.anyOf()) + " (" + req.what() + ")");
      }
    }
    if (!missing.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "source directory "
              + local
              + " has no "
              + String.join("; no ", missing)
              + ". Nothing was uploaded.",
          "SourceIncomplete");
    }
  }

  /**
   * Deletes the files, then the directories they leave empty that the source does not have, in
   * batches (a long list would not fit in one command line). Idempotent: a retry finds them gone.
   */
  private void delete(SshHosts.Connection client, SyncRequest r, Path local, List<String> deleted) {
    SortedSet<String> dirs = new TreeSet<>(Comparator.reverseOrder());
    for (String rel : deleted) {
      for (int slash = rel.lastIndexOf('/'); slash > 0; slash = rel.lastIndexOf('/', slash - 1)) {
        String dir = rel.substring(0, slash);
        if (!Files.isDirectory(local.resolve(dir))) {
          dirs.add(dir);
        }
      }
    }
    List<String> commands = new ArrayList<>();
    for (int i = 0; i < deleted.size(); i += 200) {
      StringBuilder cmd = new StringBuilder("cd " + q(r.remoteDir()) + " && rm -f --");
      for (String rel : deleted.subList(i, Math.min(deleted.size(), i + 200))) {
        cmd.append(' ').append(q(rel));
      }
      commands.add(cmd.toString());
    }
    if (!dirs.isEmpty()) {
      // Deepest first (reverse order puts a/b before a), each only when it is empty by now.
      StringBuilder cmd =
          new StringBuilder("cd " + q(r.remoteDir()) + " && rmdir --ignore-fail-on-non-empty --");
      for (String dir : dirs) {
        cmd.append(' ').append(q(dir));
      }
      commands.add(cmd.toString());
    }
    int done = 0;
    for (String cmd : commands) {
      ActivityIo.heartbeat(
          new Progress(++done, commands.size(), "batches", "deleting files gone from the source"));
      ssh.execChecked(client, r.host(), cmd, Duration.ofMinutes(2));
    }
  }

  private static List<String> leftAlone(SyncRequest r) {
    List<String> all = new ArrayList<>();
    if (r.excludes() != null) {
      all.addAll(r.excludes());
    }
    if (r.protect() != null) {
      all.addAll(r.protect());
    }
    return all;
  }

  private static String abbreviate(List<String> paths) {
    return paths.size() <= 20
        ? String.join(", ", paths)
        : String.join(", ", paths.subList(0, 20)) + " and " + (paths.size() - 20) + " more";
  }

  @Override
  public ActionResult archiveAndDelete(ArchiveRequest r) {
    requireHost(r.host());
    for (String p : r.paths()) {
      if (p.startsWith("/") || p.contains("..") || p.isBlank()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "archive path '" + p + "' must be relative to " + r.baseDir(), "InvalidInput");
      }
    }
    if (!r.archivePath().startsWith("/") || !r.archivePath().endsWith(".tar.gz")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "archive '" + r.archivePath() + "' must be an absolute path ending in .tar.gz",
          "InvalidInput");
    }
    StringBuilder list = new StringBuilder();
    for (String p : r.paths()) {
      list.append(' ').append(q(p));
    }
    String archive = q(r.archivePath());
    String action =
        "on "
            + r.host().describe()
            + ": archive"
            + list
            + " of "
            + r.baseDir()
            + " into "
            + r.archivePath()
            + ", then delete them";
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new ActionResult(action, true, "");
    }
    // Idempotent: files already deleted by an earlier attempt are skipped (then the archive that
    // attempt wrote is kept); the archive is written under a temporary name, moved into place and
    // its listing checked before anything is deleted.
    String cmd =
        "set -e; cd "
            + q(r.baseDir())
            + "; present=''; for f in"
            + list
            + "; do [ -e \"$f\" ] && present=\"$present $f\"; done; if [ -z \"$present\" ]; then"
            + " echo nothing left to archive; exit 0; fi; mkdir -p \"$(dirname "
            + archive
            + ")\"; tar -czf "
            + archive
            + ".part $present; mv "
            + archive
            + ".part "
            + archive
            + "; listing=$(tar -tzf "
            + archive
            + "); for f in $present; do printf '%s\\n' \"$listing\" | grep -qxF \"$f\" || { echo"
            + " \"$f missing from archive\" >&2; exit 1; }; done; rm -rf $present; echo"
            + " archived:$present";
    SshHosts.Connection client = ssh.lease(r.host());
    try {
      ExecResult res = ssh.execChecked(client, r.host(), cmd, COMMAND_TIMEOUT);
      return new ActionResult(action, false, res.stdout().strip());
    } finally {
      client.close();
    }
  }

  private static void requireHost(HostRef host) {
    if (host == null || host.address() == null || host.user() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no host given: configure the host's address and user", "InvalidInput");
    }
  }

  /** The source's files to upload: all but what the excludes and the protected paths match. */
  static Map<String, Path> listLocal(Path root, List<String> excludes, List<String> protect) {
    PathPatterns excluded = new PathPatterns(excludes);
    PathPatterns protectedPaths = new PathPatterns(protect);
    Map<String, Path> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(Files::isRegularFile)
          .forEach(
              p -> {
                String rel = root.relativize(p).toString().replace('\\', '/');
                if (!excluded.matches(rel) && !protectedPaths.matches(rel)) {
                  files.put(rel, p);
                }
              });
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "cannot read source directory " + root + ": " + e.getMessage(), "SourceMissing");
    }
    return files;
  }

  private static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) >= 0) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public JobResult runJob(JobRequest r) {
    requireHost(r.host());
    return jobs.run(r);
  }
}
