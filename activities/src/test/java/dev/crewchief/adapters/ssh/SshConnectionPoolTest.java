package dev.crewchief.adapters.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's reuse of SSH connections, against the real sandbox sshd. */
class SshConnectionPoolTest {
  Sandbox sandbox;
  SshHosts ssh;
  RemoteHostActivitiesImpl remote;
  HostRef host;

  @BeforeEach
  void up() {
    sandbox = Sandbox.get();
    ssh = new SshHosts(new SecretResolver(Map.of()));
    remote = new RemoteHostActivitiesImpl(ssh);
    host = hostWith(sandbox.dir.resolve("known_hosts"));
  }

  @AfterEach
  void down() {
    ssh.close();
  }

  HostRef hostWith(Path knownHosts) {
    return new HostRef(
        "sandbox",
        "127.0.0.1",
        sandbox.sshPort(),
        sandbox.user(),
        "file:" + sandbox.dir.resolve("client_ed25519"),
        knownHosts.toString());
  }

  String run(HostRef h, String command) {
    return remote.runCommand(new CommandRequest("test", h, command, false)).output().strip();
  }

  @Test
  void stepsOnOneHostOneAfterAnotherShareOneConnection() {
    for (int i = 0; i < 5; i++) {
      assertEquals("step " + i, run(host, "echo step " + i));
    }
    assertEquals(1, ssh.connectionsOpened());
  }

  @Test
  void aFailingCommandKeepsTheConnectionButOneThatKillsItGetsAFreshOne() {
    assertThrows(ApplicationFailure.class, () -> run(host, "exit 3"));
    assertEquals("ok", run(host, "echo ok"));
    assertEquals(1, ssh.connectionsOpened());
    // The command's parent is the server's process for this connection: the connection dies
    // under the command, which fails, and the next step gets a new connection.
    assertThrows(ApplicationFailure.class, () -> run(host, "kill -9 $PPID"));
    assertEquals("again", run(host, "echo again"));
    assertEquals(2, ssh.connectionsOpened());
  }

  @Test
  void aPooledConnectionTheServerDroppedIsReplacedAndTheStepRuns() {
    String server = run(host, "echo $PPID");
    // The connection waits in the pool; its server process goes away (sshd restarted, a
    // network drop): the next step still runs, on a new connection.
    Sandbox.run("kill", "-9", server);
    assertEquals("after", run(host, "echo after"));
    assertEquals(2, ssh.connectionsOpened());
  }

  @Test
  void idleConnectionsAreClosed() {
    run(host, "true");
    assertEquals(0, ssh.closeIdle(SshHosts.IDLE_TIMEOUT));
    assertEquals(1, ssh.closeIdle(Duration.ZERO));
    run(host, "true");
    assertEquals(2, ssh.connectionsOpened());
  }

  @Test
  void aChangedKnownHostsFileIsNeverAnsweredFromThePool(@TempDir Path tmp) throws Exception {
    Path known = tmp.resolve("known_hosts");
    Files.copy(sandbox.dir.resolve("known_hosts"), known);
    HostRef h = hostWith(known);
    assertEquals("hi", run(h, "echo hi"));
    // The host's key is replaced in the file by another: the pooled connection, verified
    // against the old contents, must not serve; a new one is verified and refused.
    Sandbox.run(
        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp.resolve("other").toString());
    String otherKey = Files.readString(tmp.resolve("other.pub")).split(" ")[1];
    Files.writeString(
        known, "[127.0.0.1]:" + sandbox.sshPort() + " ssh-ed25519 " + otherKey + "\n");
    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> run(h, "true"));
    assertEquals("SshHostKeyMismatch", f.getType());
  }

  @Test
  void stepsRunningAtOnceGetAConnectionEachAndThenShareThem() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<String>> runs = new ArrayList<>();
      // Each command waits until all three are running, so that they overlap for sure.
      Path dir = Files.createTempDirectory(sandbox.dir, "overlap");
      Sandbox.run("chmod", "777", dir.toString());
      for (int i = 0; i < 3; i++) {
        String cmd =
            "touch "
                + dir
                + "/"
                + i
                + "; n=0; until [ $(ls "
                + dir
                + " | wc -l) -ge 3 ]; do n=$((n+1)); [ $n -gt 600 ] && exit 9; sleep 0.05; done;"
                + " echo "
                + i;
        runs.add(pool.submit(() -> run(host, cmd)));
      }
      for (int i = 0; i < 3; i++) {
        assertEquals(String.valueOf(i), runs.get(i).get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(3, ssh.connectionsOpened());
    for (int i = 0; i < 6; i++) {
      run(host, "true");
    }
    assertTrue(ssh.connectionsOpened() == 3, "reused: " + ssh.connectionsOpened());
  }
}
