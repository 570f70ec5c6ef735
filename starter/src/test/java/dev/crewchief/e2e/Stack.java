package dev.crewchief.e2e;

import dev.crewchief.adapters.Sandbox;
import java.util.HashMap;
import java.util.Map;

/**
 * What an end-to-end test runs against: the shared Temporal dev server, a worker process with the
 * sandbox's config, the CLI with the same config, and a history reader.
 */
final class Stack implements AutoCloseable {
  final TemporalDevServer temporal;
  final WorkerProcess worker;
  final Crewchief cc;
  final Histories histories;

  private Stack(
      TemporalDevServer temporal, WorkerProcess worker, Crewchief cc, Histories histories) {
    this.temporal = temporal;
    this.worker = worker;
    this.cc = cc;
    this.histories = histories;
  }

  static Stack start(Sandbox sandbox) throws Exception {
    return start(sandbox.dir.resolve("crewchief.yaml").toString());
  }

  static Stack start(String config) throws Exception {
    return start(config, Map.of());
  }

  /** With more variables in the worker's environment (what its config's env: references read). */
  static Stack start(String config, Map<String, String> workerEnv) throws Exception {
    TemporalDevServer temporal = TemporalDevServer.get();
    Map<String, String> env = new HashMap<>(workerEnv);
    env.put("TEMPORAL_ADDRESS", temporal.address());
    WorkerProcess worker = new WorkerProcess(config, env);
    worker.start();
    return new Stack(
        temporal,
        worker,
        new Crewchief(config, temporal.address()),
        new Histories(temporal.address()));
  }

  @Override
  public void close() throws Exception {
    worker.close();
    histories.close();
  }
}
