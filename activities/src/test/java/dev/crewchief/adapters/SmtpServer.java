package dev.crewchief.adapters;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real SMTP submission server from deploy/sandbox/smtp-server.py (aiosmtpd, in the tools venv
 * that deploy/test.sh makes): STARTTLS required, then a login, with a self-signed certificate for
 * 127.0.0.1 made here by openssl; recipients in example.invalid are refused with 550. Started once
 * per test JVM, stopped when it exits.
 */
public final class SmtpServer {
  public static final String REJECTED_DOMAIN = "example.invalid";
  private static SmtpServer instance;

  public final Path dir;
  public final int port;
  public final String user = "crewchief";
  public final String password = "smtp-" + UUID.randomUUID();

  private SmtpServer(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  public static synchronized SmtpServer get() {
    if (instance == null) {
      instance = start();
    }
    return instance;
  }

  /** The server's certificate, PEM: what a caFile names to trust it. */
  public Path certificate() {
    return dir.resolve("cert.pem");
  }

  public Path passwordFile() {
    return dir.resolve("password");
  }

  /** Every message the server took, oldest first (.eml, with its envelope in .env beside it). */
  public List<Path> messages() throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("mail"))) {
      return files.filter(p -> p.toString().endsWith(".eml")).sorted().toList();
    }
  }

  /** A self-signed certificate and its key, made by openssl, valid for two days. */
  public static void selfSigned(String subject, String altNames, Path key, Path cert) {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                subject,
                "-keyout",
                key.toString(),
                "-out",
                cert.toString()));
    if (altNames != null) {
      cmd.addAll(List.of("-addext", altNames));
    }
    Sandbox.run(cmd.toArray(String[]::new));
  }

  private static SmtpServer start() {
    try {
      Path tools =
          Path.of(System.getenv().getOrDefault("CREWCHIEF_TOOLS", "/opt/crewchief/tools"), "bin");
      String python = tools.resolve("python").toString();
      Process check = new ProcessBuilder(python, "-c", "import aiosmtpd").start();
      if (!check.waitFor(30, TimeUnit.SECONDS) || check.exitValue() != 0) {
        throw new IllegalStateException(
            "aiosmtpd is not installed in "
                + tools.getParent()
                + ": run deploy/test.sh (it installs it), or "
                + tools.resolve("pip")
                + " install aiosmtpd==1.4.6");
      }
      Path dir = Files.createTempDirectory("crewchief-smtp-");
      selfSigned(
          "/CN=localhost",
          "subjectAltName=DNS:localhost,IP:127.0.0.1",
          dir.resolve("key.pem"),
          dir.resolve("cert.pem"));
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      SmtpServer server = new SmtpServer(dir, port);
      Files.writeString(server.passwordFile(), server.password + "\n");
      Process p =
          new ProcessBuilder(
                  python,
                  Sandbox.repoRoot().resolve("deploy/sandbox/smtp-server.py").toString(),
                  "--port",
                  String.valueOf(port),
                  "--cert",
                  dir.resolve("cert.pem").toString(),
                  "--key",
                  dir.resolve("key.pem").toString(),
                  "--user",
                  server.user,
                  "--password-file",
                  server.passwordFile().toString(),
                  "--maildir",
                  dir.resolve("mail").toString(),
                  "--reject-domain",
                  REJECTED_DOMAIN)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("server.log").toFile())
              .start();
      Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
      for (int i = 0; i < 200 && !Files.exists(dir.resolve("mail/ready")); i++) {
        if (!p.isAlive()) {
          break;
        }
        Thread.sleep(50);
      }
      if (!Files.exists(dir.resolve("mail/ready"))) {
        throw new IllegalStateException(
            "the SMTP server did not start: " + Files.readString(dir.resolve("server.log")));
      }
      return server;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
