package dev.crewchief.adapters.elasticsearch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.elasticsearch.action.admin.cluster.health.ClusterHealthResponse;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.core.TimeValue;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.Netty4Plugin;
import org.elasticsearch.transport.TransportService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Elasticsearch 7.17 cluster of three master-eligible data nodes ({@code node-1} to {@code
 * node-3}) in the test JVM, apart from {@link EsNode}: its own cluster name, homes under {@code
 * target/}, every port ephemeral on 127.0.0.1. Each node finds the cluster through the transport
 * addresses of the nodes started before it ({@code discovery.seed_hosts}); the first three
 * bootstrap it ({@code cluster.initial_master_nodes}). A node can be stopped ({@link #stop}) and a
 * replacement of another name started ({@link #start}): it joins the running cluster as a new node
 * would in production, with an empty data path and the same cluster name.
 *
 * <p>Started once per JVM by {@link #get()}; a test class that uses it closes it at its end ({@link
 * #close()}), so that the other tests of the JVM do not carry its nodes.
 */
public final class EsCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EsCluster.class);
  private static final TimeValue WAIT = TimeValue.timeValueSeconds(60);
  private static EsCluster instance;

  private final String name;
  private final Path root;
  private final Map<String, Member> members = new LinkedHashMap<>();

  private record Member(Node node, Path home, int httpPort, String transport) {}

  private EsCluster(String name, Path root) {
    this.name = name;
    this.root = root;
  }

  /** The cluster of this JVM, started (three nodes, joined) on first use or after a close. */
  public static synchronized EsCluster get() {
    if (instance == null) {
      long pid = ProcessHandle.current().pid();
      Path root = Path.of("target", "es-cluster-" + pid).toAbsolutePath();
      deleteTree(root);
      EsCluster cluster = new EsCluster("crewchief-cluster-" + pid, root);
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::close, "es-cluster-close"));
      try {
        for (String n : List.of("node-1", "node-2", "node-3")) {
          cluster.startNode(n, true);
        }
        cluster.awaitNodes(3);
      } catch (RuntimeException e) {
        cluster.close();
        throw e;
      }
      instance = cluster;
    }
    return instance;
  }

  /** The cluster's name, as every node has it in {@code cluster.name}. */
  public String name() {
    return name;
  }

  /** The running nodes' names, in the order they started. */
  public synchronized List<String> nodeNames() {
    return List.copyOf(members.keySet());
  }

  /** {@code http://127.0.0.1:PORT} of a running node. */
  public synchronized String url(String node) {
    Member m = members.get(node);
    if (m == null) {
      throw new IllegalArgumentException("no running node " + node + " in " + members.keySet());
    }
    return "http://127.0.0.1:" + m.httpPort();
  }

  /**
   * Stops {@code node} (closes it: it leaves the cluster) and returns once the others see it gone,
   * with a master elected among them if it was the master.
   */
  public synchronized void stop(String node) {
    Member m = members.remove(node);
    if (m == null) {
      throw new IllegalArgumentException("no running node " + node + " in " + members.keySet());
    }
    closeNode(node, m);
    awaitNodes(members.size());
  }

  /**
   * Starts a new node {@code node} with an empty home and the cluster's name, seeded with the
   * running nodes, and returns once the cluster counts it.
   */
  public synchronized void start(String node) {
    if (members.containsKey(node)) {
      throw new IllegalArgumentException(node + " runs already");
    }
    startNode(node, false);
    awaitNodes(members.size());
  }

  /** Stops every node and deletes their homes; the next {@link #get()} starts a new cluster. */
  @Override
  public void close() {
    synchronized (EsCluster.class) {
      if (instance == this) {
        instance = null;
      }
    }
    synchronized (this) {
      List<Map.Entry<String, Member>> all = new ArrayList<>(members.entrySet());
      members.clear();
      // The elected master last: the others leave it one by one, instead of all of them
      // reconnecting to a master gone and electing one among themselves on the way out.
      all.sort(Comparator.comparing(e -> isMaster(e.getValue())));
      for (Map.Entry<String, Member> e : all) {
        closeNode(e.getKey(), e.getValue());
      }
      deleteTree(root);
    }
  }

  private void startNode(String node, boolean bootstrap) {
    Path home = root.resolve(node);
    try {
      Files.createDirectories(home.resolve("config"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> seeds = members.values().stream().map(Member::transport).toList();
    Settings.Builder s =
        Settings.builder()
            .put("path.home", home.toString())
            .put("cluster.name", name)
            .put("node.name", node)
            .put("network.host", "127.0.0.1")
            .put("http.port", "0")
            .put("transport.port", "0")
            // Only the nodes started before: no scan of the default ports, where other clusters
            // of this machine may listen.
            .putList("discovery.seed_hosts", seeds)
            // start() returns at once; the fixture waits for the cluster to count the node.
            .put("discovery.initial_state_timeout", "0s")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", false)
            // As EsNode: netty's processor count is set once per JVM and must agree.
            .put("node.processors", 2);
    if (bootstrap) {
      s.putList("cluster.initial_master_nodes", List.of("node-1", "node-2", "node-3"));
    }
    Node n = new ClusterNode(s.build(), node);
    try {
      n.start();
    } catch (Exception e) {
      try {
        n.close();
      } catch (IOException | RuntimeException ignored) {
        // Reporting the start failure matters more.
      }
      throw new IllegalStateException("Elasticsearch node " + node + " did not start", e);
    }
    int http =
        n.injector()
            .getInstance(HttpServerTransport.class)
            .boundAddress()
            .publishAddress()
            .getPort();
    String transport =
        n.injector().getInstance(TransportService.class).boundAddress().publishAddress().toString();
    members.put(node, new Member(n, home, http, transport));
  }

  /** Waits (on the server, through a running node) until the cluster counts {@code count} nodes. */
  private void awaitNodes(int count) {
    Member any = members.values().iterator().next();
    ClusterHealthResponse h =
        any.node()
            .client()
            .admin()
            .cluster()
            .prepareHealth()
            .setWaitForNodes(Integer.toString(count))
            .setWaitForEvents(org.elasticsearch.common.Priority.LANGUID)
            .setTimeout(WAIT)
            .setMasterNodeTimeout(WAIT)
            .get();
    if (h.isTimedOut() || h.getNumberOfNodes() != count) {
      throw new IllegalStateException(
          "cluster "
              + name
              + " counts "
              + h.getNumberOfNodes()
              + " nodes, not "
              + count
              + ", after "
              + WAIT);
    }
  }

  private static boolean isMaster(Member m) {
    try {
      return m.node()
          .injector()
          .getInstance(ClusterService.class)
          .state()
          .nodes()
          .isLocalNodeElectedMaster();
    } catch (RuntimeException e) {
      return false; // closing anyway
    }
  }

  private static void closeNode(String node, Member m) {
    try {
      m.node().close();
      if (!m.node().awaitClose(20, TimeUnit.SECONDS)) {
        log.warn("Elasticsearch node {} did not close within 20 s", node);
      }
    } catch (IOException e) {
      log.warn("closing Elasticsearch node {}: {}", node, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
  private static final class ClusterNode extends Node {
    ClusterNode(Settings settings, String name) {
      super(
          InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> name),
          plugins(),
          true);
    }

    /**
     * Nothing: the listener puts the node and cluster ids into a JVM-wide logging field that can be
     * set once, and with several nodes (and EsNode) in one JVM the second one fails on it.
     */
    @Override
    protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {}

    private static Collection<Class<? extends Plugin>> plugins() {
      return List.of(Netty4Plugin.class);
    }
  }
}
