package dev.crewchief.adapters.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.HealthStatus;
import co.elastic.clients.elasticsearch.cat.shards.ShardsRecord;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.ElasticsearchActivities.Cluster;
import dev.crewchief.activities.ElasticsearchActivities.Health;
import dev.crewchief.activities.ElasticsearchActivities.HealthRequest;
import dev.crewchief.activities.ElasticsearchActivities.ReplicasRequest;
import dev.crewchief.activities.ElasticsearchActivities.WaitHealthRequest;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.http.HttpHost;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code health}, {@code waitForHealth} and {@code setReplicas} on {@code _all} against a real
 * cluster of three Elasticsearch 7.17 nodes ({@link EsCluster}): a node lost, a replacement of
 * another name joined, the replicas set again as the runbook does. Read back with a client of the
 * test's own, on node-1 (which stays up throughout).
 */
class ElasticsearchClusterAdapterTest {
  static final List<String> FIRST = List.of("node-1", "node-2", "node-3");
  static final List<String> REPLACED = List.of("node-1", "node-2", "node-4");
  static final Duration POLL = Duration.ofMillis(200);

  static EsCluster nodes;
  static RestClientTransport transport;
  static ElasticsearchClient es;
  static ElasticsearchActivitiesImpl adapter;
  static Cluster cluster;

  @BeforeAll
  static void start() {
    nodes = EsCluster.get();
    String url = nodes.url("node-1");
    transport =
        new RestClientTransport(
            RestClient.builder(HttpHost.create(url)).build(), new JacksonJsonpMapper());
    es = new ElasticsearchClient(transport);
    adapter = new ElasticsearchActivitiesImpl(new SecretResolver(Map.of()));
    cluster = new Cluster("three", url, null);
  }

  @AfterAll
  static void stop() throws IOException {
    try {
      adapter.close();
      transport.close();
    } finally {
      // The other tests of this JVM do not carry three nodes.
      nodes.close();
    }
  }

  @Test
  void aLostNodeShowsAsMissingAndTheReplacementMakesTheClusterGreenAgain() throws IOException {
    // One shard and a replica: green on three nodes, with a node to spare.
    create("cl-a", 1, 1);
    create("cl-b", 2, 0);
    es.cluster().health(h -> h.waitForStatus(HealthStatus.Green).timeout(t -> t.time("30s")));

    Health first = adapter.health(new HealthRequest("health", cluster, FIRST));
    assertEquals("green", first.status());
    assertEquals(nodes.name(), first.cluster());
    assertEquals(3, first.nodes());
    assertEquals(3, first.dataNodes());
    assertEquals(FIRST, first.nodeNames());
    assertEquals(List.of(), first.missing());
    assertTrue(first.complete());

    // The runbook's PUT _all/_settings {"index":{"number_of_replicas":2}}.
    ActionResult set =
        adapter.setReplicas(new ReplicasRequest("replicas", cluster, "_all", 2, false));
    assertFalse(set.rehearsed());
    assertTrue(set.action().startsWith("PUT " + cluster.url() + "/_all/_settings"), set.action());
    assertTrue(set.output().contains("{cl-a=1, cl-b=0} -> 2 (2 indices)"), set.output());
    assertEquals("2", replicasOf("cl-a"));
    assertEquals("2", replicasOf("cl-b"));

    List<Progress> beats = new CopyOnWriteArrayList<>();
    Health green = withHeartbeats(beats, a -> a.waitForHealth(wait(FIRST, "green", 60)));
    assertEquals("green", green.status());
    assertEquals(FIRST, green.nodeNames());
    assertEquals(0, green.unassignedShards());
    // Each shard in three copies, one per node.
    assertEquals(FIRST, startedOn("cl-a"));
    assertEquals(9, started().size());

    // node-3 is lost: two nodes cannot hold three copies of a shard.
    nodes.stop("node-3");
    beats.clear();
    Health lost = withHeartbeats(beats, a -> a.waitForHealth(wait(FIRST, "green", 2)));
    assertEquals("yellow", lost.status(), lost.toString());
    assertEquals(List.of("node-3"), lost.missing());
    assertFalse(lost.complete());
    assertEquals(List.of("node-1", "node-2"), lost.nodeNames());
    assertEquals(2, lost.nodes());
    assertEquals(3, lost.unassignedShards()); // a copy of cl-a and of each of cl-b's shards
    assertFalse(beats.isEmpty());
    Progress beat = beats.get(beats.size() - 1);
    assertEquals(2, beat.done());
    assertEquals(3, beat.total());
    assertEquals("nodes", beat.unit());
    assertTrue(beat.message().contains("missing [node-3]"), beat.message());
    assertTrue(beat.message().contains("want green"), beat.message());
    // Yellow is what a wait for yellow asks for: over at once.
    Health yellow = adapter.waitForHealth(wait(List.of("node-1", "node-2"), "yellow", 60));
    assertEquals("yellow", yellow.status());
    assertTrue(yellow.complete());

    // The replacement: another name, the same cluster name; then the runbook sets the replicas.
    nodes.start("node-4");
    ActionResult again =
        adapter.setReplicas(new ReplicasRequest("replicas", cluster, "_all", 2, false));
    assertTrue(again.output().contains(": 2 -> 2 (2 indices), unchanged"), again.output());
    assertEquals("2", replicasOf("cl-a"));

    beats.clear();
    Health back = withHeartbeats(beats, a -> a.waitForHealth(wait(REPLACED, "green", 60)));
    assertEquals("green", back.status(), back.toString());
    assertEquals(List.of(), back.missing());
    assertTrue(back.complete());
    assertEquals(REPLACED, back.nodeNames());
    assertEquals(0, back.unassignedShards());
    assertEquals(REPLACED, startedOn("cl-a"));
    assertEquals(9, started().size());
    Progress done = beats.get(beats.size() - 1);
    assertEquals(3, done.done());
    assertEquals(3, done.total());
    // Green is more than yellow: a wait for yellow accepts it.
    assertEquals("green", adapter.waitForHealth(wait(REPLACED, "yellow", 60)).status());
  }

  @Test
  void aDryRunReadsTheHealthOnceAndChangesNothing() throws IOException {
    create("dry-a", 1, 0);
    List<Progress> beats = new CopyOnWriteArrayList<>();
    WaitHealthRequest never =
        new WaitHealthRequest(
            "wait", cluster, List.of("node-9"), "green", POLL, Duration.ofMinutes(5), true);
    Health now = withHeartbeats(beats, a -> a.waitForHealth(never));
    assertEquals(List.of("node-9"), now.missing());
    assertEquals(nodes.nodeNames().stream().sorted().toList(), now.nodeNames());
    assertTrue(beats.isEmpty(), "a dry run does not wait: " + beats);

    ActionResult dry =
        adapter.setReplicas(new ReplicasRequest("replicas", cluster, "_all", 2, true));
    assertTrue(dry.rehearsed());
    assertEquals(
        "PUT " + cluster.url() + "/_all/_settings {\"index\":{\"number_of_replicas\":2}}",
        dry.action());
    assertEquals("0", replicasOf("dry-a"));
    es.indices().delete(d -> d.index("dry-a"));
  }

  @Test
  void badInputsAreRefusedWithWhatToChange() {
    assertInvalid(() -> adapter.waitForHealth(wait(FIRST, "blue", 1)));
    assertInvalid(
        () ->
            adapter.waitForHealth(
                new WaitHealthRequest(
                    "wait", cluster, FIRST, "green", POLL, Duration.ofSeconds(-1), false)));
    assertInvalid(
        () ->
            adapter.health(
                new HealthRequest("health", cluster, java.util.Arrays.asList("node-1", " "))));
    assertInvalid(
        () -> adapter.setReplicas(new ReplicasRequest("replicas", cluster, "_al*", 2, false)));
  }

  static WaitHealthRequest wait(List<String> expected, String want, int limitSeconds) {
    return new WaitHealthRequest(
        "wait", cluster, expected, want, POLL, Duration.ofSeconds(limitSeconds), false);
  }

  /** Runs {@code call} as an activity (heartbeats recorded in {@code beats}). */
  static <T> T withHeartbeats(List<Progress> beats, Function<ElasticsearchActivities, T> call) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(adapter);
      env.setActivityHeartbeatListener(Progress.class, beats::add);
      return call.apply(
          env.newActivityStub(
              ElasticsearchActivities.class,
              ActivityOptions.newBuilder()
                  .setStartToCloseTimeout(Duration.ofMinutes(2))
                  .setHeartbeatTimeout(Duration.ofSeconds(10))
                  .build()));
    } finally {
      env.close();
    }
  }

  static void create(String index, int shards, int replicas) throws IOException {
    es.indices()
        .create(
            c ->
                c.index(index)
                    .withJson(
                        new StringReader(
                            "{\"settings\":{\"number_of_shards\":"
                                + shards
                                + ",\"number_of_replicas\":"
                                + replicas
                                // A lost node's copies are placed again as soon as a node can
                                // take them, not after the default minute this test would wait.
                                + ",\"unassigned.node_left.delayed_timeout\":\"0s\"}}")));
  }

  static String replicasOf(String index) throws IOException {
    var s = es.indices().getSettings(g -> g.index(index)).get(index).settings();
    return s.index() != null && s.index().numberOfReplicas() != null
        ? s.index().numberOfReplicas()
        : s.numberOfReplicas();
  }

  /** The shard copies of the cl- indices that are started. */
  static List<ShardsRecord> started() throws IOException {
    return es.cat().shards(s -> s.index("cl-*")).valueBody().stream()
        .filter(r -> "STARTED".equals(r.state()))
        .toList();
  }

  /** The nodes that hold a started copy of {@code index}'s shard, sorted. */
  static List<String> startedOn(String index) throws IOException {
    return List.copyOf(
        new TreeSet<>(
            started().stream()
                .filter(r -> index.equals(r.index()))
                .map(ShardsRecord::node)
                .toList()));
  }

  static void assertInvalid(org.junit.jupiter.api.function.Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals("InvalidInput", f.getType(), f.getOriginalMessage());
    assertTrue(f.isNonRetryable());
  }
}
