package dev.crewchief.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.release.DecisionSignature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signing with the real ssh-keygen and ssh-agent, each signature checked by {@link
 * DecisionSignature}: a signature that does not verify, or verifies for another decision, fails.
 */
class SshSignerTest {
  private static final Instant AT = Instant.parse("2025-05-06T07:08:09Z");
  private static final byte[] MESSAGE =
      DecisionSignature.message("release-atmosphere-prod-36-1", "go", "APPROVE", "alice", AT);
  private static final byte[] REJECTION =
      DecisionSignature.message("release-atmosphere-prod-36-1", "go", "REJECT", "alice", AT);
  private static final String PASSPHRASE = "correct horse battery staple";

  @TempDir static Path keys;
  private static Path alice;
  private static Path bob;
  private static Path carol;

  /** Where SshSigner keeps its temporary files in each test: empty again after every call. */
  @TempDir Path tmp;

  private final List<Agent> agents = new ArrayList<>();

  @BeforeAll
  static void generateKeys() throws Exception {
    alice = keygen("alice", "ed25519", "");
    bob = keygen("bob", "ecdsa", "");
    carol = keygen("carol", "ed25519", PASSPHRASE);
  }

  @BeforeEach
  void noTemporaryFilesYet() throws IOException {
    assertNoTemporaryFiles();
  }

  @AfterEach
  void stopAgentsAndCheckTheTemporaryFilesAreGone() throws Exception {
    for (Agent agent : agents) {
      agent.close();
    }
    assertNoTemporaryFiles();
  }

  @Test
  void signsWithAPrivateKeyFile() throws Exception {
    String signature = SshSigner.sign(MESSAGE, alice, env(null));
    assertTrue(signature.startsWith("-----BEGIN SSH SIGNATURE-----"), signature);
    assertNull(DecisionSignature.check(signature, MESSAGE, line(alice)));
    assertEquals(
        "the signature does not match the decision"
            + " (release, gate, decision, approver or issued-at differ)",
        DecisionSignature.check(signature, REJECTION, line(alice)));
    String ecdsa = SshSigner.sign(MESSAGE, bob, env(null));
    assertNull(DecisionSignature.check(ecdsa, MESSAGE, line(bob)));
  }

  @Test
  void signsThroughTheAgentWithThePublicKeyFileOrLine() throws Exception {
    Agent agent = agent();
    agent.add(alice, null);
    // Only the .pub is here: nothing but the agent can sign with it.
    Path pubOnly = Files.createDirectory(keys.resolve("pub-only-" + System.nanoTime()));
    Path pub = Files.copy(keys.resolve("alice.pub"), pubOnly.resolve("alice.pub"));

    String signature = SshSigner.sign(MESSAGE, pub, env(agent.socket));
    assertNull(DecisionSignature.check(signature, MESSAGE, line(alice)));
    assertFalse(DecisionSignature.check(signature, REJECTION, line(alice)) == null);

    String byLine = SshSigner.signWithAgent(MESSAGE, line(alice), env(agent.socket));
    assertNull(DecisionSignature.check(byLine, MESSAGE, line(alice)));
    assertFalse(DecisionSignature.check(byLine, REJECTION, line(alice)) == null);
  }

  @Test
  void aKeyWithAPassphraseIsSignedThroughTheAgentOrNotAtAll() throws Exception {
    String advice =
        "the key "
            + carol
            + " needs its passphrase: add it to ssh-agent (ssh-add "
            + carol
            + ") and pass "
            + carol
            + ".pub";
    assertEquals(
        advice + " (SSH_AUTH_SOCK is not set)",
        message(() -> SshSigner.sign(MESSAGE, carol, env(null))));

    Agent agent = agent();
    assertEquals(
        advice + " (it is not in the agent now)",
        message(() -> SshSigner.sign(MESSAGE, carol, env(agent.socket))));

    agent.add(carol, PASSPHRASE);
    String byPrivate = SshSigner.sign(MESSAGE, carol, env(agent.socket));
    assertNull(DecisionSignature.check(byPrivate, MESSAGE, line(carol)));
    String byPub = SshSigner.sign(MESSAGE, keys.resolve("carol.pub"), env(agent.socket));
    assertNull(DecisionSignature.check(byPub, MESSAGE, line(carol)));
  }

  @Test
  void aKeyNotInTheAgentIsNamed() throws Exception {
    Agent agent = agent();
    agent.add(alice, null);
    String fingerprint = DecisionSignature.fingerprint(line(bob));

    String byPub =
        message(() -> SshSigner.sign(MESSAGE, keys.resolve("bob.pub"), env(agent.socket)));
    assertTrue(byPub.contains(fingerprint + " (bob@laptop)"), byPub);
    assertTrue(
        byPub.contains(
            "is not in the ssh-agent at SSH_AUTH_SOCK=" + agent.socket + ": add it with ssh-add"),
        byPub);

    String byLine = message(() -> SshSigner.signWithAgent(MESSAGE, line(bob), env(agent.socket)));
    assertTrue(
        byLine.startsWith(
            "the approver's key " + fingerprint + " (bob@laptop) is not in the ssh-agent"),
        byLine);
  }

  @Test
  void aPublicKeyWithoutAnAgentSaysSshAuthSockIsNotSet() throws Exception {
    String byPub = message(() -> SshSigner.sign(MESSAGE, keys.resolve("alice.pub"), env(null)));
    assertTrue(byPub.startsWith("SSH_AUTH_SOCK is not set"), byPub);
    String byLine = message(() -> SshSigner.signWithAgent(MESSAGE, line(alice), env(null)));
    assertTrue(byLine.startsWith("SSH_AUTH_SOCK is not set"), byLine);

    String dead =
        message(
            () ->
                SshSigner.sign(
                    MESSAGE, keys.resolve("alice.pub"), env(tmp.resolveSibling("no-agent.sock"))));
    assertTrue(dead.startsWith("no ssh-agent answers at SSH_AUTH_SOCK="), dead);
  }

  @Test
  void fileProblemsSayWhatToDo() throws Exception {
    Path missing = keys.resolve("id_nope");
    assertEquals(
        "the key file "
            + missing
            + " does not exist: pass your private key (e.g. ~/.ssh/id_ed25519), or its .pub file"
            + " when the key is in ssh-agent",
        message(() -> SshSigner.sign(MESSAGE, missing, env(null))));

    Path open = Files.copy(alice, keys.resolve("alice-open-" + System.nanoTime()));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    String perms = message(() -> SshSigner.sign(MESSAGE, open, env(null)));
    assertTrue(perms.endsWith("because others may read it: chmod 600 " + open), perms);

    Path text = Files.writeString(keys.resolve("notes-" + System.nanoTime()), "not a key\n");
    Files.setPosixFilePermissions(text, PosixFilePermissions.fromString("rw-------"));
    String notAKey = message(() -> SshSigner.sign(MESSAGE, text, env(null)));
    assertTrue(notAKey.startsWith(text + " is not a private key ssh-keygen can read"), notAKey);

    Path badPub =
        Files.writeString(keys.resolve("bad-" + System.nanoTime() + ".pub"), "ssh-ed25519 AAAA\n");
    String bad = message(() -> SshSigner.sign(MESSAGE, badPub, env(tmp.resolveSibling("x.sock"))));
    assertTrue(bad.startsWith(badPub + " cannot sign gate decisions: "), bad);

    String badLine = message(() -> SshSigner.signWithAgent(MESSAGE, "alice", env(null)));
    assertTrue(badLine.startsWith("the approver's key cannot sign: "), badLine);
  }

  @Test
  void aMissingSshKeygenIsNamed() throws Exception {
    Path empty = Files.createDirectories(keys.resolve("empty-bin"));
    Map<String, String> env = env(null);
    env.put("PATH", empty.toString());
    assertEquals(
        "ssh-keygen was not found on PATH ("
            + empty
            + "): install OpenSSH's client (Debian: apt-get install openssh-client)",
        message(() -> SshSigner.sign(MESSAGE, alice, env)));
    env.remove("PATH");
    assertTrue(message(() -> SshSigner.sign(MESSAGE, alice, env)).startsWith("PATH is not set"));
  }

  @Test
  void aHangingSshKeygenIsStoppedAtTheDeadline() throws Exception {
    // An ssh-keygen that never answers, as one waiting on a prompt or an agent's confirmation.
    Path bin = Files.createDirectories(keys.resolve("hanging-bin"));
    Path pidFile = keys.resolve("hanging.pid");
    Path fake = bin.resolve("ssh-keygen");
    // Its PATH is only this directory, so sleep is named by its full path.
    Path sleep =
        Stream.of("/usr/bin/sleep", "/bin/sleep")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow();
    Files.writeString(fake, "#!/bin/sh\necho $$ > '" + pidFile + "'\nexec " + sleep + " 60\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    Map<String, String> env = env(null);
    env.put("PATH", bin.toString());

    long start = System.nanoTime();
    String reason = message(() -> SshSigner.sign(MESSAGE, alice, env, Duration.ofSeconds(1)));
    assertTrue(reason.startsWith("ssh-keygen did not finish within 1 s"), reason);
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "stopped in time");
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "killed");
  }

  /**
   * With a terminal, ssh-keygen asks for a passphrase on /dev/tty even when its standard input is
   * closed, and waits. The CLI is run here under a pseudo-terminal (util-linux's script) with a key
   * that needs its passphrase: it must answer at once with advice, not prompt.
   */
  @Test
  void aKeyWithAPassphraseDoesNotPromptOnATerminal() throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String command =
        String.join(
            " ",
            quote(java),
            "-cp",
            quote(System.getProperty("java.class.path")),
            quote(OnATerminal.class.getName()),
            quote(carol.toString()));
    Path out = tmp.resolveSibling("terminal-" + System.nanoTime() + ".txt");
    Map<String, String> env = env(null);
    ProcessBuilder builder = new ProcessBuilder("script", "-qec", command, "/dev/null");
    builder.environment().clear();
    builder.environment().putAll(env);
    Process p = builder.redirectErrorStream(true).redirectOutput(out.toFile()).start();
    boolean finished = p.waitFor(25, TimeUnit.SECONDS);
    if (!finished) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    String shown = Files.readString(out);
    Files.delete(out);
    assertTrue(finished, "answered without waiting for a passphrase: " + shown);
    assertFalse(shown.contains("Enter passphrase"), shown);
    assertTrue(shown.contains("REFUSED: the key " + carol + " needs its passphrase"), shown);
  }

  /** What the CLI does, run by the test above on a terminal. */
  static final class OnATerminal {
    public static void main(String[] args) {
      Map<String, String> env = new HashMap<>(System.getenv());
      env.remove("SSH_AUTH_SOCK");
      try {
        SshSigner.sign(MESSAGE, Path.of(args[0]), env);
        System.out.println("SIGNED");
      } catch (IllegalArgumentException e) {
        System.out.println("REFUSED: " + e.getMessage());
      }
    }
  }

  // --- helpers ---

  private Map<String, String> env(Path agentSocket) {
    Map<String, String> env = new HashMap<>(System.getenv());
    // The developer's own agent must not take part.
    env.remove("SSH_AUTH_SOCK");
    if (agentSocket != null) {
      env.put("SSH_AUTH_SOCK", agentSocket.toString());
    }
    env.put("TMPDIR", tmp.toString());
    return env;
  }

  private void assertNoTemporaryFiles() throws IOException {
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList(), "temporary files are removed");
    }
  }

  private static String message(Executable call) {
    return assertThrows(IllegalArgumentException.class, call).getMessage();
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static String line(Path privateKey) throws IOException {
    return Files.readString(privateKey.resolveSibling(privateKey.getFileName() + ".pub")).strip();
  }

  private static Path keygen(String name, String type, String passphrase) throws Exception {
    Path key = keys.resolve(name);
    run(
        Map.of(),
        "ssh-keygen",
        "-q",
        "-t",
        type,
        "-N",
        passphrase,
        "-C",
        name + "@laptop",
        "-f",
        key.toString());
    return key;
  }

  private static void run(Map<String, String> extraEnv, String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(extraEnv);
    Process p = builder.start();
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
    assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + output);
  }

  private Agent agent() throws Exception {
    Agent agent = new Agent(Files.createTempDirectory(keys, "agent"));
    agents.add(agent);
    return agent;
  }

  /** A real ssh-agent on its own socket, in the foreground (-D) so that it is this test's child. */
  private static final class Agent implements AutoCloseable {
    final Path socket;
    private final Process process;

    Agent(Path dir) throws Exception {
      socket = dir.resolve("agent.sock");
      process =
          new ProcessBuilder("ssh-agent", "-a", socket.toString(), "-D")
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Files.exists(socket)) {
        assertTrue(process.isAlive() && System.nanoTime() < deadline, "ssh-agent started");
        Thread.sleep(20);
      }
    }

    /** ssh-add, with the passphrase (if any) given by an askpass script instead of a terminal. */
    void add(Path key, String passphrase) throws Exception {
      Map<String, String> env = new HashMap<>(Map.of("SSH_AUTH_SOCK", socket.toString()));
      if (passphrase != null) {
        Path askpass = socket.resolveSibling("askpass.sh");
        Files.writeString(askpass, "#!/bin/sh\necho '" + passphrase + "'\n");
        Files.setPosixFilePermissions(askpass, PosixFilePermissions.fromString("rwx------"));
        env.put("SSH_ASKPASS", askpass.toString());
        env.put("SSH_ASKPASS_REQUIRE", "force");
      }
      run(env, "ssh-add", key.toString());
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
