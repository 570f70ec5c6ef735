package dev.crewchief.bench;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.SearchAttributes;
import dev.crewchief.worker.TemporalConnection;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the benchmarks share: the environment they get from deploy/bench.sh, and their output. */
final class Bench {
  static final String TASK_QUEUE = "crewchief-bench";

  /** Where the figures go: stdout is reserved for them, everything else is sent to stderr. */
  static final PrintStream FIGURES = System.out;

  static {
    // Anything printed by code under measurement (the CLI's own output) goes to stderr.
    System.setOut(System.err);
  }

  final boolean quick = "1".equals(System.getenv("BENCH_QUICK"));
  final String temporal = require("BENCH_TEMPORAL");
  final Path out = Path.of(System.getenv().getOrDefault("BENCH_OUT", "target/bench"));
  final String benchmark;
  final String run = Long.toString(System.currentTimeMillis(), 36);
  private WorkflowServiceStubs stubs;
  private WorkflowClient client;

  Bench(String benchmark) {
    this.benchmark = benchmark;
  }

  /** The environment a Crew Chief client (the CLI's code, the worker) gets. */
  Map<String, String> env() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("TEMPORAL_ADDRESS", temporal);
    env.put("TEMPORAL_NAMESPACE", "default");
    return env;
  }

  synchronized WorkflowClient client() {
    if (client == null) {
      TemporalConnection c = TemporalConnection.fromEnvironment(env());
      stubs = c.open();
      client = c.client(stubs);
    }
    return client;
  }

  WorkflowServiceStubs stubs() {
    client();
    return stubs;
  }

  /** A release context with the bench's approver and every Crew Chief search attribute. */
  ReleaseContext context(String environment, String version) {
    return new ReleaseContext(
        BenchRelease.RUNBOOK,
        environment,
        version,
        false,
        "bench",
        Map.of(BenchRelease.ROLE, List.of(BenchRelease.APPROVER)),
        Map.of(),
        SearchAttributes.ALL.stream().map(k -> k.getName()).toList());
  }

  WorkflowOptions options(String workflowId) {
    return WorkflowOptions.newBuilder()
        .setWorkflowId(workflowId)
        .setTaskQueue(TASK_QUEUE)
        .setTypedSearchAttributes(
            SearchAttributes.identity(
                BenchRelease.RUNBOOK,
                workflowId,
                run,
                SearchAttributes.ALL.stream().map(k -> k.getName()).toList()))
        .build();
  }

  void figure(String figure, double value, String unit, String target, Boolean met, String note) {
    StringBuilder b = new StringBuilder("{");
    b.append("\"benchmark\":").append(json(benchmark));
    b.append(",\"figure\":").append(json(figure));
    b.append(",\"value\":")
        .append(
            Double.isNaN(value) || Double.isInfinite(value)
                ? "null"
                : String.format(Locale.ROOT, "%.4g", value));
    b.append(",\"unit\":").append(json(unit));
    b.append(",\"target\":").append(json(target == null ? "" : target));
    b.append(",\"met\":").append(met == null ? "null" : met.toString());
    b.append(",\"note\":").append(json(note == null ? "" : note));
    b.append("}");
    FIGURES.println(b);
    FIGURES.flush();
  }

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  static void log(String format, Object... args) {
    System.err.println(String.format(Locale.ROOT, format, args));
  }

  static double percentile(List<Double> values, double p) {
    List<Double> v = new ArrayList<>(values);
    Collections.sort(v);
    if (v.isEmpty()) {
      return Double.NaN;
    }
    // Nearest rank: the smallest value with at least p of the sample at or below it.
    int rank = (int) Math.ceil(p / 100.0 * v.size());
    return v.get(Math.max(0, Math.min(v.size() - 1, rank - 1)));
  }

  static double median(List<Double> values) {
    List<Double> v = new ArrayList<>(values);
    Collections.sort(v);
    int n = v.size();
    return n == 0 ? Double.NaN : n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
  }

  /**
   * The JVM options the README's performance section recommends for the worker on a small host: the
   * serial collector and a bounded heap (the worker's live heap is some 25 MB with a thousand
   * parked releases; G1 with its default maximum, a quarter of the RAM, lets the RSS grow to
   * several times that), the C1 compiler only (C2's compiler threads and code cache cost some 50 MB
   * of RSS and, on two shared cores, CPU the workflow tasks need), smaller thread stacks.
   */
  static final String WORKER_JAVA_OPTS =
      "-XX:+UseSerialGC -Xms32m -Xmx192m -Xss512k -XX:ReservedCodeCacheSize=64m"
          + " -XX:TieredStopAtLevel=1";

  /** glibc's default is one malloc arena per thread, up to 8 per core: two are plenty. */
  static final String WORKER_MALLOC_ARENAS = "2";

  /** The worker's JVM options: $CREWCHIEF_JAVA_OPTS (as deploy/bin/crewchief-worker), else ours. */
  static String workerJavaOpts() {
    String opts = System.getenv("CREWCHIEF_JAVA_OPTS");
    return opts == null || opts.isBlank() ? WORKER_JAVA_OPTS : opts;
  }

  /** What the worker runs with, for the figures' notes. */
  static String workerSettings() {
    return dev.crewchief.worker.WorkerTuning.fromEnvironment(System.getenv())
        + ", JVM "
        + workerJavaOpts()
        + ", MALLOC_ARENA_MAX="
        + System.getenv().getOrDefault("MALLOC_ARENA_MAX", WORKER_MALLOC_ARENAS);
  }

  /** Starts the benchmarks' worker as its own process and waits until it polls. */
  WorkerProcess startWorker(String name, Map<String, String> extraEnv) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String o : workerJavaOpts().trim().split("\\s+")) {
      if (!o.isEmpty()) {
        cmd.add(o);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchWorker.class.getName());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env());
    pb.environment().putIfAbsent("MALLOC_ARENA_MAX", WORKER_MALLOC_ARENAS);
    pb.environment().putAll(extraEnv);
    Files.createDirectories(out);
    File log = out.resolve(name + ".log").toFile();
    pb.redirectError(ProcessBuilder.Redirect.appendTo(log));
    Process p = pb.start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null && !line.equals(BenchWorker.READY)) {
      // the worker prints nothing else on stdout
    }
    if (line == null) {
      throw new IllegalStateException("the bench worker exited before polling: see " + log);
    }
    Thread drain =
        new Thread(
            () -> {
              try {
                while (r.readLine() != null) {
                  // keep its stdout from filling up
                }
              } catch (IOException e) {
                // the worker is gone
              }
            });
    drain.setDaemon(true);
    drain.start();
    return new WorkerProcess(p);
  }

  /** The worker process: its pid, its memory and threads as the kernel sees them. */
  record WorkerProcess(Process process) {
    long pid() {
      return process.pid();
    }

    /** A field of /proc/PID/status in kB (VmRSS, VmHWM) or as a count (Threads). */
    long status(String field) throws IOException {
      for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
        if (l.startsWith(field + ":")) {
          return Long.parseLong(l.substring(field.length() + 1).trim().split("\\s+")[0]);
        }
      }
      return -1;
    }

    void kill9() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }

    void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
        kill9();
      }
    }
  }

  private static String require(String name) {
    String v = System.getenv(name);
    if (v == null || v.isBlank()) {
      throw new IllegalStateException(name + " is not set: run this through deploy/bench.sh");
    }
    return v;
  }
}
