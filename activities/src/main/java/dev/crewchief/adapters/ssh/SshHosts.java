package dev.crewchief.adapters.ssh;

import dev.crewchief.activities.HostRef;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.schmizz.keepalive.KeepAliveProvider;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.DisconnectReason;
import net.schmizz.sshj.connection.ConnectionException;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.sftp.SFTPClient;
import net.schmizz.sshj.transport.TransportException;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts;
import net.schmizz.sshj.userauth.UserAuthException;
import net.schmizz.sshj.userauth.keyprovider.KeyProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens verified SSH connections (sshj) and runs commands. The host key is always checked against
 * the host's known_hosts file; the private key is resolved from its reference here, inside the
 * activity, and never leaves this process.
 *
 * <p>Failures become {@link ApplicationFailure}s with stable types: {@code SshHostKeyMismatch},
 * {@code SshAuthFailed} and {@code SshConfigInvalid} cannot be fixed by a retry and are
 * non-retryable; {@code SshUnreachable} is retried.
 *
 * <p>Connections are reused. A step {@link #lease leases} a connection to its host and gives it
 * back when done; the next step to the same host, user, key and known_hosts file (its contents
 * included, so an edited file means a new, newly verified connection) takes it instead of opening a
 * new one, so a release's steps on one host share one connection (TCP, key exchange and public-key
 * auth once) where each used to open its own. A connection serves one step at a time, with a new
 * session (channel) per command as SSH has it; steps running at once get a connection each. Host
 * keys were verified when the connection was opened, and a connection is only ever reused for the
 * same known_hosts file. An idle connection is closed after {@link #IDLE_TIMEOUT}; a keep-alive
 * (with reply) every {@link #KEEP_ALIVE} keeps a live one's reads from timing out and finds a dead
 * one. A connection that turns out to be broken when a step opens its first session on it is
 * discarded and the session opened once more on a fresh connection (nothing ran on the host yet); a
 * connection that fails while a command runs is discarded, and the step fails as before.
 */
public final class SshHosts implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SshHosts.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration DEFAULT_HANDSHAKE = Duration.ofSeconds(20);

  /** How long a connection nobody uses stays open. */
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);

  /** The interval of keep-alive requests (answered by the server) on an open connection. */
  static final Duration KEEP_ALIVE = Duration.ofSeconds(20);

  /** Idle connections kept per host (more than that are closed when given back). */
  private static final int MAX_IDLE_PER_HOST = 4;

  private final SecretResolver secrets;
  private final Duration handshake;
  private final Map<PoolKey, Deque<Idle>> idle = new HashMap<>();
  private final AtomicLong opened = new AtomicLong();
  private ScheduledExecutorService reaper;
  private boolean closed;

  public SshHosts(SecretResolver secrets) {
    this(secrets, DEFAULT_HANDSHAKE);
  }

  /** With another bound on the SSH handshake (tests). */
  public SshHosts(SecretResolver secrets, Duration handshake) {
    this.secrets = secrets;
    this.handshake = handshake;
  }

  /**
   * What a reused connection must match: the host, its user, the key (its reference and a digest of
   * what it resolved to, so a rotated key logs in anew) and the known_hosts file as it is now.
   */
  private record PoolKey(
      String address,
      int port,
      String user,
      String keyRef,
      String keyDigest,
      String knownHosts,
      String knownHostsDigest) {}

  private record Idle(SSHClient client, long sinceNanos) {}

  /**
   * A connection to a host for one step, given back by {@link #close}: an idle connection to the
   * same host, user, key and known_hosts file when there is one, else a new verified one. Not for
   * use by two threads at once.
   */
  public Connection lease(HostRef host) {
    File knownHosts = knownHosts(host);
    String key = secrets.resolve(host.privateKeyRef(), "the SSH key of " + host.describe());
    PoolKey k =
        new PoolKey(
            host.address(),
            host.port(),
            host.user(),
            host.privateKeyRef(),
            digest(key),
            knownHosts.getAbsolutePath(),
            digest(read(knownHosts)));
    SSHClient pooled = take(k);
    if (pooled != null) {
      return new Connection(host, k, pooled, true);
    }
    return new Connection(host, k, open(host, knownHosts, key), false);
  }

  /** Connections opened so far (TCP, key exchange, authentication), reused ones not counted. */
  public long connectionsOpened() {
    return opened.get();
  }

  /** Closes the connections idle for longer than {@code olderThan}; how many it closed. */
  public int closeIdle(Duration olderThan) {
    long now = System.nanoTime();
    List<SSHClient> expired = new ArrayList<>();
    synchronized (idle) {
      for (Iterator<Deque<Idle>> it = idle.values().iterator(); it.hasNext(); ) {
        Deque<Idle> q = it.next();
        q.removeIf(
            i -> {
              boolean old = now - i.sinceNanos() >= olderThan.toNanos();
              if (old) {
                expired.add(i.client());
              }
              return old;
            });
        if (q.isEmpty()) {
          it.remove();
        }
      }
    }
    expired.forEach(SshHosts::close);
    return expired.size();
  }

  /** Closes every idle connection and stops pooling (the worker's shutdown). */
  @Override
  public void close() {
    synchronized (idle) {
      closed = true;
      if (reaper != null) {
        reaper.shutdownNow();
      }
    }
    closeIdle(Duration.ZERO);
  }

  /** The most recently used live idle connection for the key, or null. */
  private SSHClient take(PoolKey k) {
    List<SSHClient> dead = new ArrayList<>();
    SSHClient found = null;
    synchronized (idle) {
      Deque<Idle> q = idle.get(k);
      while (q != null && !q.isEmpty() && found == null) {
        SSHClient c = q.pollLast().client();
        if (c.isConnected() && c.isAuthenticated()) {
          found = c;
        } else {
          dead.add(c);
        }
      }
      if (q != null && q.isEmpty()) {
        idle.remove(k);
      }
    }
    dead.forEach(SshHosts::close);
    return found;
  }

  /** Gives a connection back to the pool, or closes it when it is not fit for another step. */
  private void giveBack(PoolKey k, SSHClient c) {
    if (!c.isConnected() || !c.isAuthenticated()) {
      close(c);
      return;
    }
    synchronized (idle) {
      if (!closed) {
        Deque<Idle> q = idle.computeIfAbsent(k, x -> new ArrayDeque<>());
        if (q.size() < MAX_IDLE_PER_HOST) {
          q.addLast(new Idle(c, System.nanoTime()));
          startReaper();
          return;
        }
      }
    }
    close(c);
  }

  /** A daemon thread that closes idle connections: a worker's exit never waits for it. */
  private void startReaper() {
    if (reaper == null) {
      reaper =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "ssh-idle-reaper");
                t.setDaemon(true);
                return t;
              });
      long every = Math.max(1, IDLE_TIMEOUT.toSeconds() / 4);
      reaper.scheduleWithFixedDelay(
          () -> {
            try {
              closeIdle(IDLE_TIMEOUT);
            } catch (RuntimeException e) {
              log.debug("closing idle SSH connections: {}", e.getMessage());
            }
          },
          every,
          every,
          TimeUnit.SECONDS);
    }
  }

  private static byte[] read(File knownHosts) {
    try {
      return java.nio.file.Files.readAllBytes(knownHosts.toPath());
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "known_hosts file " + knownHosts + " cannot be read: " + e.getMessage(),
          "SshConfigInvalid");
    }
  }

  private static String digest(String key) {
    return digest(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String digest(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A leased connection (see {@link #lease}): sessions and SFTP are opened through it, so that a
   * reused connection found broken is replaced once by a fresh one before anything runs.
   */
  public final class Connection implements AutoCloseable {
    private final HostRef host;
    private final PoolKey key;
    private SSHClient client;
    private boolean reused;
    private boolean broken;

    private Connection(HostRef host, PoolKey key, SSHClient client, boolean reused) {
      this.host = host;
      this.key = key;
      this.client = client;
      this.reused = reused;
    }

    /** A new session (one command) on this connection. */
    public Session startSession() throws IOException {
      try {
        return client.startSession();
      } catch (IOException | IllegalStateException e) {
        return retryFresh(e).startSession();
      }
    }

    /** An SFTP client on this connection. */
    public SFTPClient newSFTPClient() throws IOException {
      try {
        return client.newSFTPClient();
      } catch (IOException | IllegalStateException e) {
        return retryFresh(e).newSFTPClient();
      }
    }

    /**
     * A reused connection that fails at its first channel is stale (the server closed it, the
     * network dropped it): once, it is replaced by a new connection, with the same verification. A
     * fresh connection's failure is the step's.
     */
    private SSHClient retryFresh(Exception e) throws IOException {
      if (!reused) {
        broken = true;
        if (e instanceof IOException io) {
          throw io;
        }
        throw new IOException(e.getMessage(), e);
      }
      log.info(
          "reused SSH connection to {} failed ({}): opening a new one",
          host.describe(),
          e.getMessage());
      SshHosts.close(client);
      reused = false;
      client = open(host, knownHosts(host), secretKey());
      return client;
    }

    private String secretKey() {
      return secrets.resolve(host.privateKeyRef(), "the SSH key of " + host.describe());
    }

    /** Not to be reused: a command on it failed or did not finish. */
    void markBroken() {
      broken = true;
    }

    /** The host this connection is to. */
    public HostRef host() {
      return host;
    }

    /** Gives the connection back for the next step (or closes it when it is broken). */
    @Override
    public void close() {
      if (client == null) {
        return;
      }
      SSHClient c = client;
      client = null;
      if (broken) {
        SshHosts.close(c);
      } else {
        giveBack(key, c);
      }
    }
  }

  /**
   * What a rehearsal checks of a host before the real run needs it, without connecting: the
   * known_hosts file is there and lists the host, and the private key's reference resolves on this
   * worker. A rehearsal that passes with a key or a known_hosts file the real run cannot find would
   * be a promise the release cannot keep.
   */
  public void rehearse(HostRef host) {
    File knownHosts = knownHosts(host);
    String listed = host.port() == 22 ? host.address() : "[" + host.address() + "]:" + host.port();
    try {
      OpenSSHKnownHosts kh = new OpenSSHKnownHosts(knownHosts);
      boolean found = false;
      for (OpenSSHKnownHosts.KnownHostEntry e : kh.entries()) {
        if (e.appliesTo(listed)) {
          found = true;
          break;
        }
      }
      if (!found) {
        throw ApplicationFailure.newNonRetryableFailure(
            "known_hosts file "
                + knownHosts
                + " has no key for "
                + listed
                + " (host "
                + host.name()
                + "): add the host's key, checked out of band (ssh-keyscan -p "
                + host.port()
                + " "
                + host.address()
                + ")",
            "SshConfigInvalid");
      }
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "known_hosts file " + knownHosts + " cannot be read: " + e.getMessage(),
          "SshConfigInvalid");
    }
    secrets.resolve(host.privateKeyRef(), "the SSH key of " + host.describe());
  }

  private static File knownHosts(HostRef host) {
    if (host.knownHosts() == null || host.knownHosts().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "host "
              + host.name()
              + " has no knownHosts file configured: host keys are always verified",
          "SshConfigInvalid");
    }
    File knownHosts = new File(host.knownHosts());
    if (!knownHosts.isFile()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "known_hosts file "
              + knownHosts
              + " for host "
              + host.name()
              + " does not exist on this worker",
          "SshConfigInvalid");
    }
    return knownHosts;
  }

  /** A new connected, authenticated client, not pooled; the caller closes it. */
  public SSHClient connect(HostRef host) {
    File knownHosts = knownHosts(host);
    return open(
        host,
        knownHosts,
        secrets.resolve(host.privateKeyRef(), "the SSH key of " + host.describe()));
  }

  private SSHClient open(HostRef host, File knownHosts, String key) {
    DefaultConfig config = new DefaultConfig();
    // keepalive@openssh.com with want-reply: the server's answers keep a live connection's reads
    // from timing out while it waits in the pool or a command is silent, and a dead one is found.
    config.setKeepAliveProvider(KeepAliveProvider.KEEP_ALIVE);
    SSHClient client = new SSHClient(config);
    boolean connected = false;
    try {
      client.getConnection().getKeepAlive().setKeepAliveInterval((int) KEEP_ALIVE.toSeconds());
      client.addHostKeyVerifier(new OpenSSHKnownHosts(knownHosts));
      client.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
      // The handshake is bounded on its own: a port that accepts TCP but never speaks SSH (a
      // wrong port, a firewall that holds connections) fails the attempt in seconds, naming it.
      client.setTimeout((int) handshake.toMillis());
      client.getTransport().setTimeoutMs((int) handshake.toMillis());
      client.connect(host.address(), host.port());
      connected = true;
      KeyProvider keys = client.loadKeys(key, null, null);
      client.authPublickey(host.user(), keys);
      // Commands may be silent for a while (a pip install): reads wait longer than a handshake.
      client.getTransport().setTimeoutMs((int) Duration.ofMinutes(2).toMillis());
      client.getConnection().setTimeoutMs((int) Duration.ofMinutes(2).toMillis());
      setSocketTimeout(client, Duration.ofMinutes(2));
      opened.incrementAndGet();
      log.debug("opened SSH connection to {}", host.describe());
      return client;
    } catch (UserAuthException e) {
      close(client);
      throw ApplicationFailure.newNonRetryableFailure(
          "SSH key "
              + host.privateKeyRef()
              + " was refused for "
              + host.describe()
              + ": authorize its public key for that user, or configure the right key",
          "SshAuthFailed");
    } catch (TransportException e) {
      close(client);
      if (timedOut(e)) {
        throw handshakeTimedOut(host);
      }
      if (e.getDisconnectReason() == DisconnectReason.HOST_KEY_NOT_VERIFIABLE) {
        throw ApplicationFailure.newNonRetryableFailure(
            "host key of "
                + host.address()
                + ":"
                + host.port()
                + " does not match "
                + knownHosts
                + " (unknown or changed key): check the host's fingerprint out of band, then"
                + " update the known_hosts file",
            "SshHostKeyMismatch");
      }
      throw unreachable(host, e);
    } catch (SocketTimeoutException e) {
      close(client);
      if (connected || client.getSocket() != null) {
        throw handshakeTimedOut(host);
      }
      throw unreachable(host, e);
    } catch (ConnectException | NoRouteToHostException | UnknownHostException e) {
      close(client);
      throw unreachable(host, e);
    } catch (IOException e) {
      close(client);
      if (e.getMessage() != null && e.getMessage().toLowerCase().contains("key")) {
        throw ApplicationFailure.newNonRetryableFailure(
            "the SSH key "
                + host.privateKeyRef()
                + " cannot be read as a private key: "
                + e.getMessage(),
            "SshConfigInvalid");
      }
      throw unreachable(host, e);
    }
  }

  private ApplicationFailure handshakeTimedOut(HostRef host) {
    return ApplicationFailure.newFailure(
        host.address()
            + ":"
            + host.port()
            + " (host "
            + host.name()
            + ") accepted the connection but did not complete the SSH handshake within "
            + handshake.toSeconds()
            + " s: is sshd listening on that port?",
        "SshUnreachable");
  }

  private static boolean timedOut(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException
          || t instanceof java.util.concurrent.TimeoutException
          || (t.getMessage() != null && t.getMessage().toLowerCase().contains("timeout"))) {
        return true;
      }
    }
    return false;
  }

  private static void setSocketTimeout(SSHClient client, Duration timeout) {
    try {
      if (client.getSocket() != null) {
        client.getSocket().setSoTimeout((int) timeout.toMillis());
      }
    } catch (java.net.SocketException e) {
      log.debug("cannot set the socket timeout: {}", e.getMessage());
    }
  }

  private static ApplicationFailure unreachable(HostRef host, Exception e) {
    return ApplicationFailure.newFailure(
        "cannot reach "
            + host.describe()
            + ": "
            + e.getClass().getSimpleName()
            + " "
            + e.getMessage(),
        "SshUnreachable");
  }

  /**
   * Runs a command through {@code sh -c} semantics of the login shell, heartbeating while it runs
   * when called from an activity.
   */
  public ExecResult exec(Connection client, String command, Duration timeout) {
    return exec(client, command, timeout, command);
  }

  /**
   * As {@link #exec(Connection, String, Duration)}, heartbeating {@code heartbeat} instead of the
   * command: a step that reports {@link dev.crewchief.activities.Progress} keeps its last progress
   * in the heartbeat details (what a retry and {@code crewchief status} read) while it runs the
   * short commands that measure it.
   */
  public ExecResult exec(Connection client, String command, Duration timeout, Object heartbeat) {
    return exec(client, command, null, timeout, heartbeat);
  }

  /**
   * As {@link #exec(Connection, String, Duration, Object)}, with {@code stdin} (null: none) written
   * to the command's standard input, then closed: content that would be too long, or not safe, to
   * pass in the command line (a file's new text).
   */
  public ExecResult exec(
      Connection client, String command, byte[] stdin, Duration timeout, Object heartbeat) {
    boolean done = false;
    try (Session session = client.startSession()) {
      Session.Command cmd = session.exec(command);
      if (stdin != null) {
        try (java.io.OutputStream in = cmd.getOutputStream()) {
          in.write(stdin);
        }
      }
      // Both streams are drained on their own threads so that this one keeps heartbeating while
      // the command runs: a worker killed mid-command is then noticed within the heartbeat
      // timeout instead of the whole start-to-close timeout.
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread errReader = ActivityIo.drain(cmd.getErrorStream(), err, "ssh-stderr");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread outReader = ActivityIo.drain(cmd.getInputStream(), out, "ssh-stdout");
      // The command's stdout reaching its end is the sign that it finished; sshj's own
      // Channel.join(timeout) throws when the timeout passes, so it is only used once the output
      // is complete, to collect the exit status.
      long deadline = System.nanoTime() + timeout.toNanos();
      while (outReader.isAlive() && System.nanoTime() < deadline) {
        outReader.join(2_000);
        ActivityIo.heartbeat(heartbeat);
      }
      if (!outReader.isAlive()) {
        try {
          cmd.join(30, TimeUnit.SECONDS);
        } catch (ConnectionException noExitStatus) {
          log.debug("no exit status for '{}': {}", command, noExitStatus.getMessage());
        }
      }
      errReader.join(5_000);
      Integer status = cmd.getExitStatus();
      if (status == null) {
        throw ApplicationFailure.newFailure(
            (cmd.isOpen()
                    ? "command did not finish within " + timeout
                    : "command ended without an exit status (killed by a signal?)")
                + ": "
                + command,
            "RemoteCommandTimedOut");
      }
      done = true;
      return new ExecResult(
          status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while running a command", "SshUnreachable");
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "SSH session failed: " + e.getClass().getSimpleName() + " " + e.getMessage(),
          "SshUnreachable");
    } finally {
      if (!done) {
        // A command that failed to run or to finish leaves the connection in doubt: not reused.
        client.markBroken();
      }
    }
  }

  /**
   * Runs a command and fails with {@code RemoteCommandFailed} on a non-zero exit, or {@code
   * RemoteToolMissing} when the shell did not find a tool it was to run (exit 127).
   */
  public ExecResult execChecked(Connection client, HostRef host, String command, Duration timeout) {
    return execChecked(client, host, command, timeout, Map.of(), "running a command");
  }

  /**
   * As {@link #execChecked(Connection, HostRef, String, Duration)}, {@code tools} saying what to
   * change when one of the tools the command runs is not found (see {@link ToolMissing}), and
   * {@code what} what the command was doing, for that message.
   */
  public ExecResult execChecked(
      Connection client,
      HostRef host,
      String command,
      Duration timeout,
      Map<String, String> tools,
      String what) {
    ExecResult r = exec(client, command, timeout);
    if (r.exitStatus() == ToolMissing.EXIT) {
      throw ToolMissing.failure(host, what, r.stderr().isBlank() ? r.stdout() : r.stderr(), tools);
    }
    if (r.exitStatus() != 0) {
      throw ApplicationFailure.newFailure(
          "command failed on "
              + host.describe()
              + " (exit "
              + r.exitStatus()
              + "): "
              + tail(r.stderr().isBlank() ? r.stdout() : r.stderr()),
          "RemoteCommandFailed");
    }
    return r;
  }

  static String tail(String s) {
    String t = s.strip();
    return t.length() > 1500 ? "..." + t.substring(t.length() - 1500) : t;
  }

  public static void close(SSHClient client) {
    try {
      client.close();
    } catch (IOException e) {
      log.debug("closing SSH client: {}", e.getMessage());
    }
  }
}
