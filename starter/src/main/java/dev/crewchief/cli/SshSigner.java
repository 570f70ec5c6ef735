package dev.crewchief.cli;

import dev.crewchief.release.DecisionSignature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Signs gate decisions with the approver's SSH key by running OpenSSH's {@code ssh-keygen -Y sign
 * -n crewchief}, so that the key never passes through this process: a private key file is read by
 * ssh-keygen, and a key in ssh-agent never leaves the agent.
 *
 * <p>ssh-keygen asks for a passphrase on the terminal ({@code /dev/tty}) whenever it has to load an
 * encrypted private key, even with its standard input closed, and then waits forever. So it is
 * never allowed to get there: an encrypted key is first detected without a prompt ({@code -y -P
 * ''}), then signed only through the agent ({@code -U}), and askpass is off
 * (SSH_ASKPASS_REQUIRE=never).
 */
final class SshSigner {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private SshSigner() {}

  /**
   * The armored signature of {@code message} made by {@code ssh-keygen -Y sign -n crewchief -f
   * key}.
   *
   * @param key a private key file, or a public key file (*.pub) whose private key is in the
   *     ssh-agent at env's SSH_AUTH_SOCK
   * @param env the environment ssh-keygen runs in: PATH finds it, SSH_AUTH_SOCK names the agent,
   *     TMPDIR holds the message while it is signed
   * @throws IllegalArgumentException saying what is wrong and how to fix it
   */
  static String sign(byte[] message, Path key, Map<String, String> env) {
    return sign(message, key, env, TIMEOUT);
  }

  /**
   * The same through the ssh-agent, for a key given as its public key line (the approver's key from
   * the config).
   */
  static String signWithAgent(byte[] message, String publicKeyLine, Map<String, String> env) {
    return signWithAgent(message, publicKeyLine, env, TIMEOUT);
  }

  static String sign(byte[] message, Path key, Map<String, String> env, Duration timeout) {
    if (!Files.exists(key)) {
      throw new IllegalArgumentException(
          "the key file "
              + key
              + " does not exist: pass your private key (e.g. ~/.ssh/id_ed25519), or its .pub file"
              + " when the key is in ssh-agent");
    }
    if (!Files.isRegularFile(key)) {
      throw new IllegalArgumentException(key + " is not a key file");
    }
    Runner runner = new Runner(sshKeygen(env), env, timeout);
    if (key.getFileName().toString().endsWith(".pub")) {
      String line = firstLine(key);
      String problem = DecisionSignature.checkPublicKey(line);
      if (problem != null) {
        throw new IllegalArgumentException(key + " cannot sign gate decisions: " + problem);
      }
      return signInAgent(runner, message, key, "the key " + describe(line) + " of " + key);
    }

    // -y with an empty passphrase given never prompts: it prints the public key of an
    // unencrypted key, and says "incorrect passphrase" for an encrypted one.
    Run probe = runner.run(null, "-y", "-P", "", "-f", key.toString());
    if (probe.exit() == 0) {
      String problem = DecisionSignature.checkPublicKey(probe.out().strip());
      if (problem != null) {
        throw new IllegalArgumentException(key + " cannot sign gate decisions: " + problem);
      }
      return runner.sign(message, key, false, "the key " + key);
    }
    if (probe.err().contains("incorrect passphrase")) {
      String advice =
          "the key "
              + key
              + " needs its passphrase: add it to ssh-agent (ssh-add "
              + key
              + ") and pass "
              + key
              + ".pub";
      if (agentSocket(env) == null) {
        throw new IllegalArgumentException(advice + " (SSH_AUTH_SOCK is not set)");
      }
      Run run = runner.signRun(message, key, true);
      if (run.signature() != null) {
        return run.signature();
      }
      if (run.err().contains("Couldn't find key in agent")) {
        throw new IllegalArgumentException(advice + " (it is not in the agent now)");
      }
      throw runner.failure(run, "the key " + key);
    }
    throw privateKeyProblem(key, probe);
  }

  static String signWithAgent(
      byte[] message, String publicKeyLine, Map<String, String> env, Duration timeout) {
    String problem = DecisionSignature.checkPublicKey(publicKeyLine);
    if (problem != null) {
      throw new IllegalArgumentException("the approver's key cannot sign: " + problem);
    }
    Runner runner = new Runner(sshKeygen(env), env, timeout);
    return withTemporaryDirectory(
        env,
        dir -> {
          Path pub = dir.resolve("approver.pub");
          Files.writeString(pub, publicKeyLine.strip() + "\n");
          return signInAgent(runner, message, pub, "the approver's key " + describe(publicKeyLine));
        });
  }

  private static String signInAgent(Runner runner, byte[] message, Path pub, String what) {
    if (agentSocket(runner.env) == null) {
      throw new IllegalArgumentException(
          "SSH_AUTH_SOCK is not set, so no ssh-agent can sign with "
              + what
              + ": start one (eval \"$(ssh-agent)\"), ssh-add the private key, or pass the private"
              + " key file instead");
    }
    // -U: the key must be in the agent; without it ssh-keygen would look for a private key next
    // to the .pub file and might ask for its passphrase.
    return runner.sign(message, pub, true, what);
  }

  private static IllegalArgumentException privateKeyProblem(Path key, Run probe) {
    if (probe.err().contains("bad permissions")) {
      return new IllegalArgumentException(
          "ssh-keygen refuses the key " + key + " because others may read it: chmod 600 " + key);
    }
    return new IllegalArgumentException(
        key
            + " is not a private key ssh-keygen can read ("
            + lastLine(probe.err())
            + "): pass a private key file, or a .pub file whose key is in ssh-agent");
  }

  private static String describe(String publicKeyLine) {
    String[] parts = publicKeyLine.strip().split("\\s+", 3);
    String comment = parts.length == 3 ? " (" + parts[2] + ")" : "";
    return DecisionSignature.fingerprint(publicKeyLine) + comment;
  }

  private static String agentSocket(Map<String, String> env) {
    String socket = env.get("SSH_AUTH_SOCK");
    return socket == null || socket.isBlank() ? null : socket;
  }

  /**
   * ssh-keygen is found on env's PATH rather than this JVM's, because the JDK resolves a command
   * with its own PATH whatever environment the child is given.
   */
  private static Path sshKeygen(Map<String, String> env) {
    String path = env.get("PATH");
    if (path == null || path.isBlank()) {
      throw new IllegalArgumentException(
          "PATH is not set, so ssh-keygen cannot be found: set PATH to include OpenSSH's client");
    }
    for (String dir : path.split(":")) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "ssh-keygen");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new IllegalArgumentException(
        "ssh-keygen was not found on PATH ("
            + path
            + "): install OpenSSH's client (Debian: apt-get install openssh-client)");
  }

  private static String firstLine(Path file) {
    try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
      return lines.filter(l -> !l.isBlank()).findFirst().orElse("");
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalArgumentException(
          file + " cannot be read as a public key file (" + e.getMessage() + ")");
    }
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1].strip();
  }

  private interface InDirectory<T> {
    T apply(Path dir) throws IOException;
  }

  /** Runs {@code body} in a private temporary directory (mode 700) that is removed afterwards. */
  private static <T> T withTemporaryDirectory(Map<String, String> env, InDirectory<T> body) {
    Path dir;
    try {
      String tmp = env.get("TMPDIR");
      dir =
          tmp == null || tmp.isBlank()
              ? Files.createTempDirectory("crewchief-sign")
              : Files.createTempDirectory(Path.of(tmp), "crewchief-sign");
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot create a temporary directory to sign in (" + e.getMessage() + "): check TMPDIR");
    }
    try {
      return body.apply(dir);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot write in the temporary directory " + dir + " (" + e.getMessage() + ")");
    } finally {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
      } catch (IOException e) {
        // Nothing secret is left there (a message, a signature, a public key), so a failed
        // clean-up is not worth failing the decision for.
      }
    }
  }

  private record Run(int exit, String out, String err, String signature) {}

  /** Runs ssh-keygen in env, with no terminal input, no askpass and a deadline. */
  private static final class Runner {
    private final Path sshKeygen;
    private final Map<String, String> env;
    private final Duration timeout;

    Runner(Path sshKeygen, Map<String, String> env, Duration timeout) {
      this.sshKeygen = sshKeygen;
      this.env = env;
      this.timeout = timeout;
    }

    String sign(byte[] message, Path key, boolean agentOnly, String what) {
      Run run = signRun(message, key, agentOnly);
      if (run.signature() != null) {
        return run.signature();
      }
      throw failure(run, what);
    }

    /**
     * Signs a file rather than standard input, so that standard input stays empty: whatever
     * ssh-keygen might read from it, it reads an end of file, never the message.
     */
    Run signRun(byte[] message, Path key, boolean agentOnly) {
      return withTemporaryDirectory(
          env,
          dir -> {
            Path decision = dir.resolve("decision");
            Files.write(decision, message);
            List<String> args =
                new ArrayList<>(List.of("-Y", "sign", "-n", DecisionSignature.NAMESPACE));
            if (agentOnly) {
              args.add("-U");
            }
            args.addAll(List.of("-f", key.toString(), decision.toString()));
            Run run = run(dir, args.toArray(String[]::new));
            Path sig = dir.resolve("decision.sig");
            if (run.exit() != 0 || !Files.exists(sig)) {
              return run;
            }
            String armored = Files.readString(sig, StandardCharsets.US_ASCII);
            if (!armored.startsWith("-----BEGIN SSH SIGNATURE-----")) {
              return new Run(run.exit(), run.out(), "ssh-keygen wrote no SSH signature", null);
            }
            return new Run(run.exit(), run.out(), run.err(), armored);
          });
    }

    Run run(Path dir, String... args) {
      if (dir == null) {
        return withTemporaryDirectory(env, d -> run(d, args));
      }
      List<String> command = new ArrayList<>();
      command.add(sshKeygen.toString());
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command);
      Map<String, String> childEnv = builder.environment();
      childEnv.clear();
      Map<String, String> given = new HashMap<>(env);
      given.values().removeIf(v -> v == null);
      childEnv.putAll(given);
      if (agentSocket(env) == null) {
        childEnv.remove("SSH_AUTH_SOCK");
      }
      childEnv.put("SSH_ASKPASS_REQUIRE", "never");
      Path out = dir.resolve("stdout");
      Path err = dir.resolve("stderr");
      builder.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process process;
      try {
        process = builder.start();
        process.getOutputStream().close();
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "cannot run "
                + sshKeygen
                + " ("
                + e.getMessage()
                + "): is OpenSSH's client installed?");
      }
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          process.waitFor();
          throw new IllegalArgumentException(
              "ssh-keygen did not finish within "
                  + timeout.toSeconds()
                  + " s: if ssh-agent asks to confirm each use of the key (ssh-add -c), confirm"
                  + " it; otherwise check the agent at SSH_AUTH_SOCK");
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IllegalArgumentException("interrupted while ssh-keygen was signing");
      }
      try {
        return new Run(
            process.exitValue(),
            new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
            new String(Files.readAllBytes(err), StandardCharsets.UTF_8),
            null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    IllegalArgumentException failure(Run run, String what) {
      String err = run.err();
      String socket = agentSocket(env);
      if (err.contains("Couldn't find key in agent")) {
        return new IllegalArgumentException(
            what
                + " is not in the ssh-agent at SSH_AUTH_SOCK="
                + socket
                + ": add it with ssh-add and its private key file (ssh-add -l lists the agent's"
                + " keys)");
      }
      if (err.contains("Couldn't get agent socket")) {
        return new IllegalArgumentException(
            "no ssh-agent answers at SSH_AUTH_SOCK="
                + socket
                + ": start one (eval \"$(ssh-agent)\") and ssh-add the key");
      }
      if (err.contains("Couldn't load public key")) {
        return new IllegalArgumentException(
            what + " is not an OpenSSH key file ssh-keygen can read");
      }
      if (err.contains("bad permissions")) {
        return new IllegalArgumentException(
            "ssh-keygen refuses " + what + " because others may read it: chmod 600 the file");
      }
      return new IllegalArgumentException(
          "ssh-keygen -Y sign failed for "
              + what
              + " (exit "
              + run.exit()
              + "): "
              + (err.isBlank() ? "no message" : lastLine(err)));
    }
  }
}
