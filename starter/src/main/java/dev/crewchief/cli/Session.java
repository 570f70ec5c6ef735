package dev.crewchief.cli;

import dev.crewchief.config.ConfigException;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.worker.ConfigLoader;
import dev.crewchief.worker.EmbeddedRuntime;
import dev.crewchief.worker.TemporalConnection;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;

/** One CLI invocation's config and Temporal connection (remote, or the embedded default). */
final class Session implements AutoCloseable {
  final Map<String, String> env;
  private final Path configFlag;
  private LoadedConfig config;
  private WorkflowServiceStubs stubs;
  private WorkflowClient client;
  private EmbeddedRuntime.Handle embedded;
  private TemporalConnection connection;
  private final CliChannel channel = new CliChannel();

  Session(Map<String, String> env, Path configFlag) {
    this.env = env;
    this.configFlag = configFlag;
  }

  LoadedConfig config() {
    if (config == null) {
      ConfigLoader loader = new ConfigLoader(env);
      config = loader.load(loader.locate(configFlag));
    }
    return config;
  }

  /**
   * A person of the release's environment as configured, or null: the environment is read off the
   * release id.
   */
  dev.crewchief.config.PersonConfig person(String releaseId, String name) {
    String[] parts = dev.crewchief.runbook.Runbooks.all().parseReleaseId(releaseId);
    if (parts == null) {
      return null;
    }
    var e = config().config().environments().get(parts[1]);
    return e == null || e.people() == null ? null : e.people().get(name);
  }

  String taskQueue() {
    return config().config().taskQueueOrDefault();
  }

  boolean embedded() {
    return embedded != null;
  }

  /**
   * Connects to the configured server. With no address configured, uses an embedded server on
   * 127.0.0.1:7233 when one is up (another crewchief process runs it) or, when {@code
   * mayStartEmbedded}, starts one with a worker in this process.
   */
  WorkflowClient client(boolean mayStartEmbedded) {
    if (client != null) {
      return client;
    }
    connection = TemporalConnection.fromEnvironment(env);
    if (!connection.addressConfigured() && !listening(TemporalConnection.EMBEDDED_TARGET)) {
      if (!mayStartEmbedded) {
        throw new ConfigException(
            "no Temporal server: set TEMPORAL_ADDRESS (or a temporal.toml profile), or run"
                + " `crewchief start ...`, which runs an embedded server on "
                + TemporalConnection.EMBEDDED_TARGET
                + " while it lives");
      }
      try {
        embedded = EmbeddedRuntime.start(7233, connection.namespace(), config(), env);
      } catch (IOException e) {
        throw new ConfigException(
            "cannot start the embedded Temporal server: " + e.getMessage(), e);
      }
    }
    // Reaches the server and checks the namespace: a namespace that does not exist is named as
    // such, not answered with "no release" by every command.
    stubs = channel.open(connection);
    client = connection.client(stubs);
    return client;
  }

  WorkflowServiceStubs stubs() {
    return stubs;
  }

  String namespace() {
    return connection.namespace();
  }

  /** The connection's settings (for messages: the target and where it was configured). */
  TemporalConnection connection() {
    return connection;
  }

  private static boolean listening(String target) {
    int colon = target.lastIndexOf(':');
    try (Socket s = new Socket()) {
      s.connect(
          new InetSocketAddress(
              target.substring(0, colon), Integer.parseInt(target.substring(colon + 1))),
          500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    if (stubs != null) {
      channel.close(stubs);
    }
    if (embedded != null) {
      embedded.close();
    }
  }
}
