package dev.crewchief.bench;

import dev.crewchief.config.CrewChiefConfig;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.worker.CrewChiefWorker;
import dev.crewchief.worker.TemporalConnection;
import dev.crewchief.worker.WorkerTuning;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The benchmarks' worker process: the production worker ({@link CrewChiefWorker}, with every
 * runbook, adapter and the tuning from the environment) plus the benchmark's workflow and activity
 * types, on the task queue {@link Bench#TASK_QUEUE}. Prints {@link #READY} on stdout once polling.
 */
public final class BenchWorker {
  static final String READY = "bench worker ready";

  private BenchWorker() {}

  public static void main(String[] args) throws InterruptedException {
    TemporalConnection.quietGrpcLogging();
    Map<String, String> env = System.getenv();
    TemporalConnection connection = TemporalConnection.fromEnvironment(env);
    WorkflowServiceStubs stubs = connection.open();
    LoadedConfig config =
        new LoadedConfig("(benchmark)", new CrewChiefConfig(Bench.TASK_QUEUE, Map.of()));
    CrewChiefWorker worker =
        CrewChiefWorker.start(
            connection.client(stubs),
            config,
            env,
            WorkerTuning.fromEnvironment(env),
            w -> {
              w.registerWorkflowImplementationTypes(
                  ReleaseWorkflow.implementationOptions(),
                  BenchReleaseImpl.class,
                  BareReleaseImpl.class);
              w.registerActivitiesImplementations(new BenchActivities.Impl());
            });
    System.out.println(READY);
    System.out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  worker.shutdown(java.time.Duration.ofSeconds(5));
                  stubs.shutdown();
                  stopped.countDown();
                }));
    stopped.await();
  }
}
