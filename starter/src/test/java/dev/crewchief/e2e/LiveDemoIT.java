package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.adapters.Sandbox;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's second command, {@code deploy/demo.sh --live} (without its build), run as a process
 * the way a newcomer runs it: it starts the sandbox host, the Temporal dev server and a worker,
 * deploys RandoPony to staging and promotes it, and stops at the gate with instructions. The test
 * passes the gate with the printed Web UI payload, sent as the Web UI sends it (a gateDecision
 * signal, here from the Temporal CLI to the printed address), then checks the report and the app at
 * the printed URL, and that nothing the demo started runs or listens after it ends: on Enter, and
 * on SIGINT in the middle of the staging deploy.
 */
class LiveDemoIT {
  static final Duration LIMIT = Duration.ofMinutes(4);

  @Test
  void liveReleaseThroughTheGateWithTheWebUiPayload() throws Exception {
    try (Demo demo = Demo.start("cclivedemo")) {
      Started s = demo.started();

      // The gate's instructions: the workflow's URL in the Web UI and the JSON payload.
      int web = demo.await(l -> l.equals("From the Web UI: open"));
      String url = demo.line(web + 1).trim();
      String prefix = s.uiUrl + "/namespaces/default/workflows/";
      assertTrue(url.startsWith(prefix), url);
      String release = url.substring(prefix.length());
      assertEquals("release-randopony-promote-demo-2014r1", release);
      int payloadAt = demo.await(l -> l.endsWith("and this JSON payload:"));
      String payload = demo.line(payloadAt + 1).trim();
      assertTrue(payload.startsWith("{") && payload.contains("\"approver\": \"alice\""), payload);
      String cliLine = demo.line(demo.await(l -> l.contains(" approve " + release + " ")));
      assertTrue(cliLine.contains("confirm-release --as alice"), cliLine);

      // As the Web UI sends it: a gateDecision signal whose input is the JSON payload.
      Process signal =
          new ProcessBuilder(
                  TemporalDevServer.binary().toString(),
                  "workflow",
                  "signal",
                  "--address",
                  s.address,
                  "--workflow-id",
                  release,
                  "--name",
                  "gateDecision",
                  "--input",
                  payload)
              .redirectErrorStream(true)
              .start();
      String signalled = new String(signal.getInputStream().readAllBytes());
      assertTrue(signal.waitFor(60, TimeUnit.SECONDS) && signal.exitValue() == 0, signalled);

      demo.await(l -> l.startsWith("Press Enter or Ctrl-C"));
      String out = demo.output();
      assertTrue(out.contains("release " + release + " COMPLETED"), out);
      assertTrue(out.contains("Outcome: COMPLETED - randopony2014r1 is production"), out);
      assertTrue(
          out.contains("| confirm-release | APPROVED | alice |")
              && out.contains("| signal | tested on staging |"),
          out);
      assertTrue(out.contains("| attach production domain to 2014r1 |"), out);

      // The app answers where the demo says it does, with the curl command it prints.
      String curlLine =
          demo.line(
              demo.await(l -> l.trim().startsWith("curl -H 'Host: randopony.production.test'")));
      Matcher m =
          Pattern.compile("curl -H 'Host: ([^']+)' (http://127\\.0\\.0\\.1:(\\d+)/)")
              .matcher(curlLine);
      assertTrue(m.find(), curlLine);
      String page = Packaged.curl("-H", "Host: " + m.group(1), m.group(2));
      assertTrue(page.contains("RandoPony randopony2014r1"), page);
      s.ports.add(Integer.parseInt(m.group(3)));

      // Enter: the demo stops everything and ends well.
      Set<ProcessHandle> started = demo.descendants();
      demo.enter();
      assertEquals(0, demo.exit(), demo.output());
      demo.assertNothingLeft(s, started);
    }
  }

  @Test
  void ctrlCInTheMiddleOfTheStagingDeployStopsEverything() throws Exception {
    try (Demo demo = Demo.start("cclivedemo2")) {
      Started s = demo.started();
      // Interrupted while the worker has a step in hand on the sandbox host.
      demo.await(l -> l.contains("RUNNING     create virtualenv"));
      Set<ProcessHandle> started = demo.descendants();
      demo.interrupt();
      assertEquals(130, demo.exit(), demo.output());
      assertTrue(demo.output().contains("stopped; nothing of the demo runs any more"));
      demo.assertNothingLeft(s, started);
    }
  }

  @Test
  void refusesWhenAToolIsMissingAndHasHelp(@TempDir Path emptyTools) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("bash", "deploy/demo.sh", "--live")
            .directory(Sandbox.repoRoot().toFile())
            .redirectErrorStream(true);
    pb.environment().put("CREWCHIEF_TOOLS", emptyTools.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue(), out);
    assertTrue(out.contains("missing: " + emptyTools + "/bin/temporal (the Temporal CLI)"), out);
    assertTrue(out.contains("Run deploy/test.sh first"), out);

    Process help =
        new ProcessBuilder("bash", "deploy/demo.sh", "--help")
            .directory(Sandbox.repoRoot().toFile())
            .redirectErrorStream(true)
            .start();
    String usage = new String(help.getInputStream().readAllBytes());
    assertTrue(help.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, help.exitValue(), usage);
    assertTrue(usage.contains("--live") && usage.contains("Ctrl-C stops everything"), usage);
  }

  /** What the demo said it started: the addresses, ports, its work dir and the sandbox user. */
  static final class Started {
    String address;
    String uiUrl;
    Path workDir;
    String user;
    int uid;
    final Set<Integer> ports = new HashSet<>();
  }

  /** The demo script as a process, its output read line by line as it comes. */
  static final class Demo implements AutoCloseable {
    private final Process process;
    private final String user;
    private final List<String> lines = new ArrayList<>();
    private boolean ended;

    private Demo(Process process, String user) {
      this.process = process;
      this.user = user;
      Thread reader = new Thread(this::read, "demo-output");
      reader.setDaemon(true);
      reader.start();
    }

    static Demo start(String user) throws IOException {
      // env --default-signal=INT: as from a terminal, whatever started this JVM (a background
      // job ignores SIGINT, and bash cannot trap a signal ignored when it starts).
      ProcessBuilder pb =
          new ProcessBuilder("env", "--default-signal=INT", "bash", "deploy/demo.sh", "--live")
              .directory(Sandbox.repoRoot().toFile())
              .redirectErrorStream(true);
      pb.environment().remove("TEMPORAL_ADDRESS");
      pb.environment().remove("CREWCHIEF_CONFIG");
      // The build is the test run's own.
      pb.environment().put("CREWCHIEF_DEMO_SKIP_BUILD", "1");
      pb.environment().put("CREWCHIEF_JAVA_OPTS", "");
      pb.environment().put("CREWCHIEF_DEMO_USER", user);
      Path temporal = TemporalDevServer.binary();
      pb.environment().put("CREWCHIEF_TOOLS", temporal.getParent().getParent().toString());
      return new Demo(pb.start(), user);
    }

    private void read() {
      try (BufferedReader r =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          System.out.println("demo| " + l);
          synchronized (this) {
            lines.add(l);
            notifyAll();
          }
        }
      } catch (IOException e) {
        // The process ended; what it said is in lines.
      } finally {
        synchronized (this) {
          ended = true;
          notifyAll();
        }
      }
    }

    /** The index of the first line that matches, waiting for it as long as the demo runs. */
    synchronized int await(Predicate<String> wanted) throws InterruptedException {
      long deadline = System.nanoTime() + LIMIT.toNanos();
      for (int seen = 0; ; ) {
        for (; seen < lines.size(); seen++) {
          if (wanted.test(lines.get(seen))) {
            return seen;
          }
        }
        long left = deadline - System.nanoTime();
        if (ended || left <= 0) {
          throw new AssertionError(
              (ended ? "the demo ended" : "the demo timed out")
                  + " without the line waited for:\n"
                  + String.join("\n", lines));
        }
        wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
      }
    }

    synchronized String line(int i) throws InterruptedException {
      while (lines.size() <= i && !ended) {
        wait();
      }
      return i < lines.size() ? lines.get(i) : "";
    }

    synchronized String output() {
      return String.join("\n", lines);
    }

    /** The addresses the demo printed once its Temporal server and worker are up. */
    Started started() throws Exception {
      Started s = new Started();
      s.workDir = Path.of(after("work dir: ", " (removed at the end)"));
      Matcher ssh =
          Pattern.compile("ssh (\\S+)@127\\.0\\.0\\.1 -p (\\d+) .* nginx on 127\\.0\\.0\\.1:(\\d+)")
              .matcher(line(await(l -> l.startsWith("sandbox host: "))));
      assertTrue(ssh.find());
      s.user = ssh.group(1);
      assertEquals(user, s.user);
      s.ports.add(Integer.parseInt(ssh.group(2)));
      s.ports.add(Integer.parseInt(ssh.group(3)));
      s.uid = Integer.parseInt(run("id", "-u", s.user).trim());
      s.address = after("Temporal dev server: ", "");
      s.ports.add(Integer.parseInt(s.address.substring(s.address.lastIndexOf(':') + 1)));
      s.uiUrl = after("Web UI: ", "");
      s.ports.add(Integer.parseInt(s.uiUrl.substring(s.uiUrl.lastIndexOf(':') + 1)));
      await(l -> l.startsWith("worker: polls task queue"));
      return s;
    }

    private String after(String prefix, String suffix) throws Exception {
      String l = line(await(x -> x.startsWith(prefix)));
      String v = l.substring(prefix.length());
      return suffix.isEmpty() ? v.trim() : v.substring(0, v.indexOf(suffix)).trim();
    }

    /** The demo's processes now: its children and theirs. */
    Set<ProcessHandle> descendants() {
      Set<ProcessHandle> s = new HashSet<>();
      process.descendants().forEach(s::add);
      assertFalse(s.isEmpty(), "the demo runs the worker and the Temporal server");
      return s;
    }

    void enter() throws IOException {
      OutputStream in = process.getOutputStream();
      in.write('\n');
      in.flush();
      in.close();
    }

    /** SIGINT to the script alone, as Ctrl-C does (which also reaches its foreground command). */
    void interrupt() throws Exception {
      run("kill", "-INT", String.valueOf(process.pid()));
    }

    int exit() throws InterruptedException {
      assertTrue(process.waitFor(2, TimeUnit.MINUTES), "the demo did not end:\n" + output());
      return process.exitValue();
    }

    /** Nothing the demo started runs, listens, or is left on disk; its sandbox user is gone. */
    void assertNothingLeft(Started s, Set<ProcessHandle> started) throws Exception {
      for (ProcessHandle h : started) {
        assertFalse(h.isAlive(), "still running: " + h.pid() + " " + h.info().commandLine());
      }
      String dir = s.workDir.toString();
      List<String> left =
          ProcessHandle.allProcesses()
              .filter(h -> h.info().commandLine().map(c -> c.contains(dir)).orElse(false))
              .map(h -> h.pid() + " " + h.info().commandLine().orElse(""))
              .toList();
      assertTrue(left.isEmpty(), "processes of the demo's work dir still run: " + left);
      String byUser = run("sh", "-c", "pgrep -a -U " + s.uid + " || true");
      assertTrue(byUser.isBlank(), "processes of the sandbox user still run: " + byUser);
      assertFalse(
          Files.readString(Path.of("/etc/passwd")).contains("\n" + s.user + ":"),
          "the sandbox user is removed");
      for (int port : s.ports) {
        try (Socket socket = new Socket()) {
          socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
          throw new AssertionError("127.0.0.1:" + port + " still listens");
        } catch (IOException refused) {
          // Nothing listens there any more.
        }
      }
      assertFalse(Files.exists(s.workDir), "the work dir is removed: " + s.workDir);
    }

    private static String run(String... cmd) throws Exception {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd));
      return out;
    }

    /** Should a test fail midway: stop the demo, which stops what it started. */
    @Override
    public void close() throws Exception {
      if (process.isAlive()) {
        interrupt();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
          process.destroyForcibly();
        }
      }
    }
  }
}
