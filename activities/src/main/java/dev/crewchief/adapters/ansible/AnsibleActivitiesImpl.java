package dev.crewchief.adapters.ansible;

import dev.crewchief.activities.AnsibleActivities;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AnsibleActivities} with ansible-core's {@code ansible-playbook}, run as a process of the
 * worker, and an editor of INI inventories.
 *
 * <p><b>A run.</b> The command (see {@link PlaybookCommand} for the settings it pins, host key
 * checking first) runs in {@code workDir} with a private directory of its own: the SSH key,
 * resolved from its reference, in a file only the worker's user can read; Ansible's home and local
 * temp; the ssh control sockets. The directory is removed after the run, whatever its outcome, and
 * the ssh masters Ansible left persisting are told to exit, so nothing of the run stays on the
 * worker. Its output (stdout and stderr, merged in order) is read as it comes: the task being run
 * is heartbeated as a {@link Progress} (tasks seen so far, of an unknown total), the last {@value
 * PlaybookOutput#TAIL_LINES} lines are kept for the result, and the {@code PLAY RECAP} gives each
 * host's counts. A run whose exit status is not 0, or whose recap has a failed or unreachable host,
 * fails {@code PlaybookFailed}, not retryable (a playbook is re-run on purpose, by a person or the
 * workflow), with the failed tasks' lines and the recap. A heartbeat that reports the activity
 * cancelled or timed out kills the process and everything it started.
 *
 * <p>The key never leaves its file: it is not on the command line, in the environment or in any
 * output (the file's path is, and the path is all a person needs to rerun the command by hand).
 */
public final class AnsibleActivitiesImpl implements AnsibleActivities {
  private static final Logger log = LoggerFactory.getLogger(AnsibleActivitiesImpl.class);
  private static final String DEFAULT_PROGRAM = "ansible-playbook";
  private static final long HEARTBEAT_MILLIS = 500;
  private static final Pattern VAR_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.@-]*");
  // A host name, an IPv4 or IPv6 address (an IPv6 zone after %): nothing a shell or INI would read.
  private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:%_-]*");
  private static final Pattern HOST_NAME = Pattern.compile("[^\\s#\\[\\]=\"']+");

  /** Where a rehearsal's command shows the run's private directory. */
  private static final Path REHEARSAL_TMP = Path.of("<private temp dir>");

  private final SecretResolver secrets;
  private final Path tempRoot;
  private final Map<String, String> env;

  /** Temp directories under {@code java.io.tmpdir}; programs found on this process's PATH. */
  public AnsibleActivitiesImpl(SecretResolver secrets) {
    this(secrets, Path.of(System.getProperty("java.io.tmpdir")), System.getenv());
  }

  /**
   * @param tempRoot where each run's private directory is made (its path must stay short: the ssh
   *     control sockets live in it)
   * @param env the worker's environment, for its PATH
   */
  public AnsibleActivitiesImpl(SecretResolver secrets, Path tempRoot, Map<String, String> env) {
    this.secrets = secrets;
    this.tempRoot = tempRoot;
    this.env = env;
  }

  @Override
  public PlaybookResult runPlaybook(PlaybookRequest r) {
    Path workDir = directory(r.workDir(), "workDir of step " + r.step());
    Path playbook = existing(workDir, r.playbook(), "playbook of step " + r.step());
    existing(workDir, r.inventory(), "inventory of step " + r.step());
    Path knownHosts = knownHosts(workDir, r);
    validate(r);
    String program = program(r.ansiblePlaybook(), workDir);

    if (r.dryRun()) {
      // The reference is checked, the key not read: a rehearsal finds a key file that is missing.
      Path keyFile = null;
      if (r.privateKeyRef() != null) {
        checkKeyReference(r.privateKeyRef());
        keyFile = REHEARSAL_TMP.resolve("key");
      }
      PlaybookCommand c = command(r, program, workDir, keyFile, knownHosts, REHEARSAL_TMP);
      return new PlaybookResult(List.of(), c.display(), "", true);
    }

    Path tmp = privateDir();
    try {
      Path keyFile = r.privateKeyRef() == null ? null : writeKey(tmp, r.privateKeyRef());
      PlaybookCommand c = command(r, program, workDir, keyFile, knownHosts, tmp);
      log.info("step '{}': {}", r.step(), c.display());
      Ran ran = run(c, tmp, playbook);
      return outcome(r, c, ran.out(), ran.exit(), knownHosts);
    } finally {
      deleteTree(tmp);
    }
  }

  private PlaybookCommand command(
      PlaybookRequest r, String program, Path workDir, Path keyFile, Path knownHosts, Path tmp) {
    return PlaybookCommand.of(
        program,
        workDir,
        r.playbook(),
        r.inventory(),
        r.limit(),
        r.extraVars(),
        r.remoteUser(),
        keyFile,
        knownHosts,
        tmp);
  }

  /** What a run printed, and its exit status. */
  private record Ran(PlaybookOutput out, int exit) {}

  /** Runs the command to its end, heartbeating; kills it when a heartbeat says to stop. */
  private Ran run(PlaybookCommand c, Path tmp, Path playbook) {
    ProcessBuilder pb = new ProcessBuilder(c.argv).directory(c.workDir.toFile());
    pb.environment().putAll(c.env);
    pb.redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    PlaybookOutput out = new PlaybookOutput();
    String what = "ansible-playbook " + playbook.getFileName();
    ActivityIo.heartbeat(new Progress(0, 0, "tasks", "starting " + what));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw missing(c.argv.get(0), e.getMessage());
    }
    Thread reader = new Thread(() -> read(p, out), "ansible-output");
    reader.setDaemon(true);
    reader.start();
    try {
      int seen = -1;
      while (!p.waitFor(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS)) {
        // Every half second (the SDK sends at most one heartbeat per throttle interval, the
        // latest): the task being run, so a person sees where a long play is.
        int tasks = out.tasks();
        if (tasks != seen) {
          log.debug("{}: {}", what, out.task());
          seen = tasks;
        }
        ActivityIo.heartbeat(
            new Progress(tasks, 0, "tasks", out.task() == null ? what : out.task()));
      }
      reader.join(10_000);
      return new Ran(out, p.exitValue());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    } finally {
      if (p.isAlive()) {
        log.warn("stopping {} (pid {}) and the processes it started", what, p.pid());
        killTree(p);
      }
      stopSshMasters(tmp.resolve("cp"));
    }
  }

  private static void read(Process p, PlaybookOutput out) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        out.accept(line);
      }
    } catch (IOException e) {
      log.debug("ansible-playbook output closed: {}", e.getMessage());
    }
  }

  private PlaybookResult outcome(
      PlaybookRequest r, PlaybookCommand c, PlaybookOutput out, int exit, Path knownHosts) {
    List<HostRecap> recap = out.recap();
    boolean hostsFailed = recap.stream().anyMatch(h -> h.failed() > 0 || h.unreachable() > 0);
    if (exit == 0 && !hostsFailed) {
      return new PlaybookResult(recap, c.display(), out.tail(), false);
    }
    List<String> why = new ArrayList<>();
    for (PlaybookOutput.Failure f : out.failures()) {
      why.add(f.describe());
    }
    if (why.isEmpty()) {
      why.addAll(out.errors());
    }
    if (why.isEmpty()) {
      why.add("last lines: " + out.tail(8).replace('\n', ' '));
    }
    String message =
        "playbook "
            + r.playbook()
            + " of step "
            + r.step()
            + " failed (ansible-playbook exit "
            + exit
            + "): "
            + String.join(" | ", why)
            + (recap.isEmpty()
                ? ""
                : "; recap: "
                    + recap.stream()
                        .map(PlaybookOutput::describe)
                        .collect(Collectors.joining(", ")));
    if (message.contains("Host key verification failed")) {
      message +=
          " (the host's SSH key is not the one listed in "
              + knownHosts
              + ", or not listed there: check its fingerprint with the host's owner, then add it)";
    }
    throw ApplicationFailure.newNonRetryableFailure(message, "PlaybookFailed", recap);
  }

  // ---------------------------------------------------------------------------------------------
  // pointInventory

  /** Heartbeated just before the file is written, so that a retry knows the address it replaced. */
  public record InventoryAttempt(String file, String host, String previous) {}

  @Override
  public InventoryChange pointInventory(InventoryRequest r) {
    if (r.file() == null || !Path.of(r.file()).isAbsolute()) {
      throw invalid(
          "inventory file '" + r.file() + "' of step " + r.step() + " must be an absolute path");
    }
    if (r.host() == null || !HOST_NAME.matcher(r.host()).matches()) {
      throw invalid(
          "inventory host '" + r.host() + "' of step " + r.step() + " is not an inventory name");
    }
    String target = r.address() == null || r.address().isBlank() ? null : r.address().strip();
    if (target != null && !ADDRESS.matcher(target).matches()) {
      throw invalid(
          "address '"
              + r.address()
              + "' of step "
              + r.step()
              + " is not a host name or IP address (leave it empty to remove ansible_host)");
    }
    Path file = Path.of(r.file());
    if (!Files.isRegularFile(file)) {
      throw inventoryInvalid(
          "inventory file " + file + " does not exist on this worker (is the checkout there?)");
    }
    Path real;
    String text;
    try {
      // A symlinked inventory is edited where it really is, and stays a symlink.
      real = file.toRealPath();
      text = new String(Files.readAllBytes(real), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw inventoryInvalid("cannot read inventory file " + file + ": " + e.getMessage());
    }
    IniInventory inventory = IniInventory.parse(text, r.host());
    if (!inventory.hasHost()) {
      throw inventoryInvalid(
          "host "
              + r.host()
              + " is not in inventory "
              + file
              + " (no host line names it in a group section): check the host name and the file");
    }
    String current = addressOf(inventory, file);
    checkHostVars(real.getParent(), r.host(), file);

    if (Objects.equals(current, target)) {
      // Already so. When an earlier attempt of this activity made the change (and was lost before
      // it could report), the address it replaced is in its heartbeat.
      String previous = earlierPrevious(r).orElse(current);
      return new InventoryChange(r.file(), r.host(), previous, target, false, r.dryRun());
    }
    if (r.dryRun()) {
      return new InventoryChange(r.file(), r.host(), current, target, true, true);
    }
    ActivityIo.heartbeat(new InventoryAttempt(r.file(), r.host(), current));
    writeAtomically(real, inventory.withAddress(target).getBytes(StandardCharsets.ISO_8859_1));

    // Act, then verify: the file as it now is must give the host the new address.
    String now;
    try {
      now =
          addressOf(
              IniInventory.parse(
                  new String(Files.readAllBytes(real), StandardCharsets.ISO_8859_1), r.host()),
              file);
    } catch (IOException e) {
      throw inventoryInvalid("cannot read inventory file " + file + " back: " + e.getMessage());
    }
    if (!Objects.equals(now, target)) {
      throw inventoryInvalid(
          "inventory "
              + file
              + " gives "
              + r.host()
              + " "
              + now
              + " after the edit, not "
              + target);
    }
    log.info(
        "step '{}': inventory {}: {} ansible_host {} -> {}",
        r.step(),
        file,
        r.host(),
        current,
        target);
    return new InventoryChange(r.file(), r.host(), current, target, true, false);
  }

  private static String addressOf(IniInventory inventory, Path file) {
    try {
      return inventory.address();
    } catch (IllegalStateException e) {
      throw inventoryInvalid(e.getMessage() + " in " + file + ": give it one");
    }
  }

  /**
   * Ansible reads {@code host_vars/HOST} next to the inventory after the inventory's own lines, so
   * an {@code ansible_host} there wins over the line this edits: the edit would change nothing.
   */
  private static void checkHostVars(Path dir, String host, Path file) {
    Path vars = dir.resolve("host_vars");
    List<Path> candidates = new ArrayList<>();
    for (String name : List.of(host, host + ".yml", host + ".yaml", host + ".json")) {
      Path p = vars.resolve(name);
      if (Files.isRegularFile(p)) {
        candidates.add(p);
      } else if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          s.filter(Files::isRegularFile).forEach(candidates::add);
        } catch (IOException e) {
          throw inventoryInvalid("cannot read " + p + ": " + e.getMessage());
        }
      }
    }
    Pattern setsHost = Pattern.compile("(?m)^\\s*\"?ansible_host\"?\\s*:");
    for (Path p : candidates) {
      try {
        if (setsHost.matcher(Files.readString(p, StandardCharsets.ISO_8859_1)).find()) {
          throw inventoryInvalid(
              "ansible_host of "
                  + host
                  + " is set in "
                  + p
                  + ", which Ansible reads after "
                  + file
                  + ": change it there (this step edits INI host lines only)");
        }
      } catch (IOException e) {
        throw inventoryInvalid("cannot read " + p + ": " + e.getMessage());
      }
    }
  }

  private static Optional<String> earlierPrevious(InventoryRequest r) {
    try {
      var ctx = Activity.getExecutionContext();
      if (ctx.getInfo().getAttempt() <= 1) {
        return Optional.empty();
      }
      return ctx.getHeartbeatDetails(InventoryAttempt.class)
          .filter(a -> r.file().equals(a.file()) && r.host().equals(a.host()))
          .map(InventoryAttempt::previous);
    } catch (IllegalStateException notInActivity) {
      return Optional.empty();
    } catch (RuntimeException e) {
      log.warn("cannot read the earlier attempt's heartbeat: {}", e.toString());
      return Optional.empty();
    }
  }

  /**
   * Writes {@code bytes} to a file beside {@code target} with its permissions, flushes it to disk,
   * and renames it over {@code target}: a reader (or a crash) sees the old file or the new, never
   * half of one.
   */
  private static void writeAtomically(Path target, byte[] bytes) {
    Path dir = target.getParent();
    Path tmp = null;
    try {
      tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(bytes));
        ch.force(true);
      }
      try {
        Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
      } catch (UnsupportedOperationException notPosix) {
        // Default permissions on a file system without POSIX ones.
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
    } catch (IOException e) {
      throw inventoryInvalid("cannot write inventory file " + target + ": " + e.getMessage());
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // Best effort: a dot-file left beside the inventory.
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // inputs

  private static void validate(PlaybookRequest r) {
    if (r.limit() != null && (r.limit().startsWith("-") || r.limit().matches(".*\\p{Cntrl}.*"))) {
      throw invalid("limit '" + r.limit() + "' of step " + r.step() + " is not a host pattern");
    }
    if (r.remoteUser() != null
        && !r.remoteUser().isBlank()
        && !USER.matcher(r.remoteUser()).matches()) {
      throw invalid(
          "remoteUser '" + r.remoteUser() + "' of step " + r.step() + " is not a user name");
    }
    if (r.extraVars() != null) {
      for (Map.Entry<String, String> e : r.extraVars().entrySet()) {
        if (e.getKey() == null || !VAR_NAME.matcher(e.getKey()).matches()) {
          throw invalid(
              "extra variable name '"
                  + e.getKey()
                  + "' of step "
                  + r.step()
                  + " is not an Ansible variable name (letters, digits, _)");
        }
        if (e.getValue() == null) {
          throw invalid("extra variable " + e.getKey() + " of step " + r.step() + " has no value");
        }
      }
    }
    if (r.privateKeyRef() != null && !SecretResolver.wellFormed(r.privateKeyRef())) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the private key reference of step "
              + r.step()
              + " is not of the form file:/path or env:NAME (not shown: it may be the key"
              + " itself): configure a reference",
          "SecretUnresolved");
    }
  }

  private static Path directory(String dir, String what) {
    if (dir == null || dir.isBlank() || !Path.of(dir).isAbsolute()) {
      throw invalid(what + " '" + dir + "' must be an absolute path");
    }
    Path p = Path.of(dir);
    if (!Files.isDirectory(p)) {
      throw invalid(what + " " + p + " is not a directory on this worker (is the checkout there?)");
    }
    return p;
  }

  private static Path existing(Path workDir, String path, String what) {
    if (path == null || path.isBlank()) {
      throw invalid(what + " is not set");
    }
    if (path.startsWith("-")) {
      throw invalid(what + " '" + path + "' must not start with '-'");
    }
    Path p = workDir.resolve(path);
    if (!Files.exists(p)) {
      throw invalid(what + " " + p + " does not exist");
    }
    return p;
  }

  private static Path knownHosts(Path workDir, PlaybookRequest r) {
    String kh = r.knownHosts();
    if (kh == null || kh.isBlank()) {
      throw invalid(
          "knownHosts of step "
              + r.step()
              + " is not set: host keys are always verified, give a known_hosts file listing the"
              + " hosts' keys (checked fingerprints, e.g. from ssh-keyscan)");
    }
    Path p = workDir.resolve(kh);
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      throw invalid("knownHosts file " + p + " of step " + r.step() + " cannot be read");
    }
    return p;
  }

  private void checkKeyReference(String ref) {
    if (ref.startsWith("file:")) {
      Path p = Path.of(ref.substring("file:".length()));
      if (!Files.isReadable(p)) {
        throw ApplicationFailure.newNonRetryableFailure(
            "secret " + ref + " for the SSH private key cannot be read on this worker",
            "SecretUnresolved");
      }
    }
  }

  /**
   * The program to run: the configured path (relative to the checkout) or name on the worker's
   * PATH, as an absolute path.
   */
  private String program(String configured, Path workDir) {
    String name = configured == null || configured.isBlank() ? DEFAULT_PROGRAM : configured;
    if (name.contains("/")) {
      Path p = workDir.resolve(name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p.toString();
      }
      throw missing(name, p + " is not an executable file");
    }
    String path = env.getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw missing(name, "not found on the worker's PATH (" + path + ")");
  }

  private static ApplicationFailure missing(String program, String why) {
    return ApplicationFailure.newNonRetryableFailure(
        "cannot run "
            + program
            + " on this worker: "
            + why
            + ". Install ansible-core there (pip install ansible-core) or set ansiblePlaybook to"
            + " the path of its ansible-playbook",
        "AnsibleMissing");
  }

  // ---------------------------------------------------------------------------------------------
  // the run's private directory

  private Path privateDir() {
    try {
      Path tmp =
          Files.createTempDirectory(
              tempRoot,
              "cc-ansible-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      for (String sub : List.of("home", "local", "cp")) {
        Files.createDirectory(tmp.resolve(sub));
      }
      return tmp;
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot make a temp directory under " + tempRoot + ": " + e.getMessage(),
          "PlaybookFailed");
    }
  }

  private Path writeKey(Path tmp, String ref) {
    String key = secrets.resolve(ref, "the SSH private key of the Ansible run").strip();
    Path file = tmp.resolve("key");
    try {
      Files.createFile(
          file,
          PosixFilePermissions.asFileAttribute(
              Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE)));
      // OpenSSH wants the key's last line ended.
      Files.writeString(file, key + "\n", StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot write the SSH key's temp file in " + tmp + ": " + e.getMessage(),
          "PlaybookFailed");
    }
  }

  /** The process and every process it started, the ssh clients of the play among them. */
  private static void killTree(Process p) {
    List<ProcessHandle> children = p.descendants().collect(Collectors.toList());
    p.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The ssh masters ({@code ControlPersist}) outlive ansible-playbook by design, detached from it:
   * each is told to exit through its socket, so that no connection to the hosts stays open after
   * the run (and none is found by a later run with a stale key).
   */
  private static void stopSshMasters(Path cp) {
    List<Path> sockets;
    try (Stream<Path> s = Files.list(cp)) {
      sockets = s.collect(Collectors.toList());
    } catch (IOException e) {
      return;
    }
    for (Path socket : sockets) {
      try {
        Process p =
            new ProcessBuilder("ssh", "-o", "ControlPath=" + socket, "-O", "exit", "crewchief")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (IOException e) {
        log.debug("cannot stop the ssh master of {}: {}", socket, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot remove the Ansible run's temp directory {}: {}", dir, e.getMessage());
    }
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      log.warn("the Ansible run's temp directory {} is left behind", dir);
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  private static ApplicationFailure inventoryInvalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InventoryInvalid");
  }
}
