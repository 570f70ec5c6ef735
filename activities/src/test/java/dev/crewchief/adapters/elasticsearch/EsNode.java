package dev.crewchief.adapters.elasticsearch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.reindex.ReindexPlugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * A real Elasticsearch 7.17 node (the server's own jars from Maven Central) on 127.0.0.1 with an
 * ephemeral HTTP port: single node, no security, with the netty HTTP transport and the reindex
 * module (no painless, no analysis-common). Started once per test JVM by {@link #get()}, with its
 * home under {@code target/}, and closed when the JVM exits.
 *
 * <p>As a process, for tests of other modules (the activities test-jar and the ES server jars on
 * the class path): {@code java -cp CP dev.crewchief.adapters.elasticsearch.EsNode [HOME]} prints
 * {@code port=NNNN} on stdout once the node answers, and runs until it is killed.
 */
public final class EsNode implements AutoCloseable {
  private static EsNode instance;

  private final Node node;
  private final Path home;
  private final int port;

  private EsNode(Node node, Path home, int port) {
    this.node = node;
    this.home = home;
    this.port = port;
  }

  /** The node of this JVM, started on first use. */
  public static synchronized EsNode get() {
    if (instance == null) {
      Path home = Path.of("target", "es-node-" + ProcessHandle.current().pid()).toAbsolutePath();
      instance = start(home);
      EsNode started = instance;
      Runtime.getRuntime().addShutdownHook(new Thread(started::close, "es-node-close"));
    }
    return instance;
  }

  /** Starts a node whose data and logs live under {@code home} (emptied first). */
  public static EsNode start(Path home) {
    deleteTree(home);
    try {
      Files.createDirectories(home.resolve("config"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Settings settings =
        Settings.builder()
            .put("path.home", home.toString())
            .put("cluster.name", "crewchief-test")
            .put("node.name", "es-test")
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", "0")
            .put("transport.port", "0")
            // The test machine's disk may be fuller than the default watermarks allow.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // As production clusters are usually set: an index comes only from an explicit create.
            .put("action.auto_create_index", false)
            // Two cores: a small pool is enough and starts faster.
            .put("node.processors", 2)
            .build();
    Node node =
        new PluginNode(
            settings, List.of(Netty4Plugin.class, ReindexPlugin.class)); // reindex module
    try {
      node.start();
    } catch (Exception e) {
      throw new IllegalStateException("the Elasticsearch test node did not start", e);
    }
    int port =
        node.injector()
            .getInstance(HttpServerTransport.class)
            .boundAddress()
            .publishAddress()
            .getPort();
    return new EsNode(node, home, port);
  }

  public int port() {
    return port;
  }

  /** {@code http://127.0.0.1:PORT} */
  public String url() {
    return "http://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    try {
      node.close();
      node.awaitClose(20, TimeUnit.SECONDS);
    } catch (IOException e) {
      System.err.println("closing the Elasticsearch test node: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    deleteTree(home);
  }

  /** Runs a node until killed; prints {@code port=NNNN} once it answers. */
  public static void main(String[] args) throws InterruptedException {
    Path home =
        args.length > 0
            ? Path.of(args[0]).toAbsolutePath()
            : Path.of(
                System.getProperty("java.io.tmpdir"), "es-node-" + ProcessHandle.current().pid());
    EsNode es = start(home);
    Runtime.getRuntime().addShutdownHook(new Thread(es::close, "es-node-close"));
    System.out.println("port=" + es.port());
    System.out.flush();
    new CountDownLatch(1).await();
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Opens {@link Node}'s protected constructor that takes plugins from the class path. */
  private static final class PluginNode extends Node {
    PluginNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
      super(
          InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "es-test"),
          plugins,
          true);
    }
  }
}
