package dev.crewchief.worker;

import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import io.grpc.StatusRuntimeException;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code crewchief-worker [--config FILE]}: runs the worker against the configured Temporal server
 * until SIGTERM, then finishes the tasks in hand. Exit 2 on a configuration error (the config file,
 * the Temporal settings, a server that cannot be reached or lacks the namespace), with the reason.
 */
public final class WorkerMain {
  private static final Logger log = LoggerFactory.getLogger(WorkerMain.class);

  private WorkerMain() {}

  public static void main(String[] args) {
    Path flag = null;
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("--config") || args[i].equals("-c")) && i + 1 < args.length) {
        flag = Path.of(args[++i]);
      } else if (args[i].equals("--help") || args[i].equals("-h")) {
        System.out.println(
            "usage: crewchief-worker [--config FILE]\n"
                + "  FILE defaults to $CREWCHIEF_CONFIG, then ./crewchief.yaml.\n"
                + "  Temporal: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,\n"
                + "  TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH,\n"
                + "  TEMPORAL_TLS_SERVER_CA_CERT_PATH (or a temporal.toml profile).");
        return;
      } else {
        System.err.println("crewchief-worker: unknown argument '" + args[i] + "' (try --help)");
        System.exit(2);
      }
    }
    TemporalConnection.quietGrpcLogging();
    Map<String, String> env = System.getenv();
    LoadedConfig config;
    TemporalConnection connection;
    WorkflowServiceStubs stubs;
    CrewChiefWorker worker;
    try {
      ConfigLoader loader = new ConfigLoader(env);
      config = loader.load(loader.locate(flag));
      // The settings are checked before anything connects; open() then reaches the server and
      // asks for the namespace, so a wrong one is named here rather than deep in the SDK's start.
      connection = TemporalConnection.fromEnvironment(env);
      stubs = connection.open();
      worker = CrewChiefWorker.start(connection.client(stubs), config, env);
    } catch (ConfigException e) {
      System.err.println("crewchief-worker: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    } catch (StatusRuntimeException e) {
      System.err.println(
          "crewchief-worker: Temporal refused to start the worker: "
              + TemporalConnection.describe(e));
      System.exit(1);
      return;
    }
    log.info(
        "worker polling task queue '{}' on {} namespace {} with config {}",
        config.config().taskQueueOrDefault(),
        connection.target(),
        connection.namespace(),
        config.source());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down: finishing tasks in hand");
                  worker.shutdown(Duration.ofSeconds(30));
                  stubs.shutdown();
                  stopped.countDown();
                }));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
