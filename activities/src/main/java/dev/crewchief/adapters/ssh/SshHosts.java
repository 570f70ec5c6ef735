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
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.DisconnectReason;
import net.schmizz.sshj.connection.ConnectionException;
import net.schmizz.sshj.connection.channel.direct.Session;
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
 */
public final class SshHosts {
  private static final Logger log = LoggerFactory.getLogger(SshHosts.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration DEFAULT_HANDSHAKE = Duration.ofSeconds(20);

  private final SecretResolver secrets;
  private final Duration handshake;

  public SshHosts(SecretResolver secrets) {
    this(secrets, DEFAULT_HANDSHAKE);
  }

  /** With another bound on the SSH handshake (tests). */
  public SshHosts(SecretResolver secrets, Duration handshake) {
    this.secrets = secrets;
    this.handshake = handshake;
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

  /** A connected, authenticated client; the caller closes it. */
  public SSHClient connect(HostRef host) {
    File knownHosts = knownHosts(host);
    String key = secrets.resolve(host.privateKeyRef(), "the SSH key of " + host.describe());
    SSHClient client = new SSHClient(new DefaultConfig());
    boolean connected = false;
    try {
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
  public ExecResult exec(SSHClient client, String command, Duration timeout) {
    try (Session session = client.startSession()) {
      Session.Command cmd = session.exec(command);
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
        ActivityIo.heartbeat(command);
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
      return new ExecResult(
          status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while running a command", "SshUnreachable");
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "SSH session failed: " + e.getClass().getSimpleName() + " " + e.getMessage(),
          "SshUnreachable");
    }
  }

  /**
   * Runs a command and fails with {@code RemoteCommandFailed} on a non-zero exit, or {@code
   * RemoteToolMissing} when the shell did not find a tool it was to run (exit 127).
   */
  public ExecResult execChecked(SSHClient client, HostRef host, String command, Duration timeout) {
    return execChecked(client, host, command, timeout, Map.of(), "running a command");
  }

  /**
   * As {@link #execChecked(SSHClient, HostRef, String, Duration)}, {@code tools} saying what to
   * change when one of the tools the command runs is not found (see {@link ToolMissing}), and
   * {@code what} what the command was doing, for that message.
   */
  public ExecResult execChecked(
      SSHClient client,
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
