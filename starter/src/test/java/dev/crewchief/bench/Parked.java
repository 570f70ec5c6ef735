package dev.crewchief.bench;

import dev.crewchief.release.DecisionReply;
import dev.crewchief.release.GateDecision;
import dev.crewchief.release.ReleaseControl;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark 3, parked releases: many releases (each holding its lane, as real ones do) wait at a
 * gate on one worker process, the production worker with its default tuning. Measured there: the
 * process's RSS and threads from /proc, its heap after a full GC (jcmd). Then the worker is killed
 * with SIGKILL, a new one started, every gate approved (the decideGate update the CLI sends), and
 * the time from the new worker's start to the last release's completion measured; none may be lost.
 */
public final class Parked {
  private Parked() {}

  public static void main(String[] args) throws Exception {
    Bench bench = new Bench("parked");
    int n = bench.quick ? 200 : 1000;
    Bench.WorkerProcess worker = bench.startWorker("parked-worker-1", Map.of());
    WorkflowClient client = bench.client();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<String> ids = new ArrayList<>();
    try {
      long t0 = System.nanoTime();
      List<Future<?>> starts = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String id = String.format("bench-parked-%s-%04d", bench.run, i);
        String env = String.format("parked-%s-%04d", bench.run, i);
        ids.add(id);
        starts.add(
            pool.submit(
                () -> {
                  BenchRelease wf = client.newWorkflowStub(BenchRelease.class, bench.options(id));
                  WorkflowClient.start(
                      wf::run, new BenchPlan(bench.context(env, bench.run), 2, 1, true, true));
                }));
      }
      for (Future<?> f : starts) {
        f.get();
      }
      String parkedQuery =
          "CrewChiefVersion = '"
              + bench.run
              + "' AND CrewChiefStep = 'gate: "
              + BenchRelease.gateName(1)
              + "' AND ExecutionStatus = 'Running'";
      long parked = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(bench.quick ? 60 : 240);
      while (parked < n && System.nanoTime() < deadline) {
        parked = client.countWorkflows(parkedQuery).getCount();
        if (parked < n) {
          Thread.sleep(200);
        }
      }
      Bench.log(
          "%d of %d releases parked at their gate after %.1f s",
          parked, n, (System.nanoTime() - t0) / 1e9);
      if (parked < n) {
        throw new IllegalStateException("only " + parked + " of " + n + " releases parked");
      }
      long rss = worker.status("VmRSS");
      long threads = worker.status("Threads");
      long heapAfterGc = heapAfterGc(worker.pid());
      long rssAfterGc = worker.status("VmRSS");
      String note = n + " parked releases (+ " + n + " lane holds)";
      bench.figure(
          "worker RSS, parked",
          rss / 1024.0,
          "MB",
          "<= 256",
          rss / 1024.0 <= 256,
          note + "; " + Bench.workerSettings());
      bench.figure(
          "worker RSS after full GC",
          rssAfterGc / 1024.0,
          "MB",
          "<= 256",
          rssAfterGc / 1024.0 <= 256,
          note);
      bench.figure("worker heap used after full GC", heapAfterGc / 1024.0, "MB", "", null, note);
      bench.figure(
          "heap per parked release",
          heapAfterGc / (double) n,
          "KB",
          "",
          null,
          "heap after GC / releases (lane holds included; the worker's fixed heap too)");
      bench.figure("worker threads, parked", threads, "threads", "", null, note);

      worker.kill9();
      long restart = System.nanoTime();
      worker = bench.startWorker("parked-worker-2", Map.of());
      double ready = (System.nanoTime() - restart) / 1e9;
      AtomicInteger refused = new AtomicInteger();
      // Each update waits for the release's answer: many at once, as many approvers would send.
      ExecutorService deciders = Executors.newFixedThreadPool(64);
      List<CompletableFuture<?>> done = new ArrayList<>();
      for (String id : ids) {
        done.add(
            CompletableFuture.runAsync(
                () -> {
                  // The update `crewchief approve` sends (see DecideCmd), a fresh decision each
                  // try.
                  ReleaseControl stub = client.newWorkflowStub(ReleaseControl.class, id);
                  for (int attempt = 0; attempt < 5; attempt++) {
                    DecisionReply r =
                        stub.decideGate(
                            GateDecision.now(
                                BenchRelease.gateName(1),
                                GateDecision.Decision.APPROVE,
                                BenchRelease.APPROVER,
                                "bench",
                                Instant.now()));
                    if (r.accepted()) {
                      return;
                    }
                    refused.incrementAndGet();
                  }
                },
                deciders));
      }
      int completed = 0;
      int lost = 0;
      List<CompletableFuture<Object>> results = new ArrayList<>();
      for (String id : ids) {
        results.add(client.newUntypedWorkflowStub(id).getResultAsync(Object.class));
      }
      for (int i = 0; i < ids.size(); i++) {
        try {
          done.get(i).get(180, TimeUnit.SECONDS);
          results.get(i).get(180, TimeUnit.SECONDS);
          completed++;
        } catch (Exception e) {
          lost++;
          Bench.log("%s: %s", ids.get(i), e);
        }
      }
      double all = (System.nanoTime() - restart) / 1e9;
      deciders.shutdownNow();
      String note2 =
          n
              + " decided after kill -9 and restart (worker polling after "
              + String.format("%.1f", ready)
              + " s); "
              + refused.get()
              + " decisions refused and resent";
      bench.figure("restart to all completed", all, "s", "<= 60", all <= 60 && lost == 0, note2);
      bench.figure("releases lost", lost, "releases", "0", lost == 0, completed + " completed");
      bench.figure(
          "worker peak RSS after restart",
          worker.status("VmHWM") / 1024.0,
          "MB",
          "",
          null,
          "replaying and finishing " + n + " releases");
    } finally {
      pool.shutdownNow();
      worker.stop();
    }
  }

  /** A full GC in the worker, then its heap's used size in kB, both through jcmd. */
  static long heapAfterGc(long pid) throws IOException, InterruptedException {
    run("jcmd", Long.toString(pid), "GC.run");
    String info = run("jcmd", Long.toString(pid), "GC.heap_info");
    // G1 prints one "garbage-first heap total ..K, used ..K" line, Serial and Parallel one per
    // generation: the heap's use is their sum.
    Matcher m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(info);
    long used = 0;
    boolean found = false;
    while (m.find()) {
      used += Long.parseLong(m.group(2));
      found = true;
    }
    if (!found) {
      throw new IllegalStateException("unexpected GC.heap_info: " + info);
    }
    return used;
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
    }
    return out;
  }
}
