package dev.crewchief.bench;

import io.temporal.client.WorkflowClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Benchmark 1, orchestration overhead: a release of 40 no-op steps through {@link
 * dev.crewchief.release.Release} (A) against the same 40 no-op activities in a bare workflow (B),
 * on the same worker process and server, alternating A B A B; the figure is the median of the
 * pairs' A/B ratios of wall time, from the start request to the result.
 */
public final class Overhead {
  private Overhead() {}

  public static void main(String[] args) throws Exception {
    Bench bench = new Bench("overhead");
    int steps = 40;
    int pairs = bench.quick ? 5 : 20;
    int warmup = bench.quick ? 1 : 3;
    Bench.WorkerProcess worker = bench.startWorker("overhead-worker", Map.of());
    try {
      WorkflowClient client = bench.client();
      List<Double> ratios = new ArrayList<>();
      List<Double> a = new ArrayList<>();
      List<Double> b = new ArrayList<>();
      for (int i = -warmup; i < pairs; i++) {
        double ta = crewChief(bench, client, steps, i);
        double tb = bare(bench, client, steps, i);
        Bench.log("pair %d: crew chief %.0f ms, bare %.0f ms", i, ta, tb);
        if (i >= 0) {
          a.add(ta);
          b.add(tb);
          ratios.add(ta / tb);
        }
      }
      double ratio = Bench.median(ratios);
      String note =
          pairs + " pairs A B A B after " + warmup + " warm-up pairs, " + steps + " steps";
      bench.figure("median wall-time ratio", ratio, "x", "<= 1.1", ratio <= 1.1, note);
      bench.figure(
          "crew chief release, median", Bench.median(a), "ms", "", null, steps + " no-op steps");
      bench.figure(
          "bare workflow, median", Bench.median(b), "ms", "", null, steps + " no-op steps");
    } finally {
      worker.stop();
    }
  }

  private static double crewChief(Bench bench, WorkflowClient client, int steps, int i) {
    String id = "bench-overhead-a-" + bench.run + "-" + i;
    BenchRelease wf = client.newWorkflowStub(BenchRelease.class, bench.options(id));
    BenchPlan plan =
        new BenchPlan(bench.context("overhead-" + i, bench.run), steps, 10, false, false);
    long t0 = System.nanoTime();
    WorkflowClient.start(wf::run, plan);
    client.newUntypedWorkflowStub(id).getResult(Object.class);
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double bare(Bench bench, WorkflowClient client, int steps, int i) {
    String id = "bench-overhead-b-" + bench.run + "-" + i;
    BareRelease wf = client.newWorkflowStub(BareRelease.class, bench.options(id));
    long t0 = System.nanoTime();
    WorkflowClient.start(wf::run, steps);
    client.newUntypedWorkflowStub(id).getResult(String.class);
    return (System.nanoTime() - t0) / 1e6;
  }
}
