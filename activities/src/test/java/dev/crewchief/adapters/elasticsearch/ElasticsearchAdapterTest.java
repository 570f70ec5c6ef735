package dev.crewchief.adapters.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch.core.BulkRequest;
import co.elastic.clients.elasticsearch.tasks.GroupBy;
import co.elastic.clients.elasticsearch.tasks.Info;
import co.elastic.clients.json.jackson.JacksonJsonpMapper;
import co.elastic.clients.transport.rest_client.RestClientTransport;
import com.sun.net.httpserver.HttpServer;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.ElasticsearchActivities.Cluster;
import dev.crewchief.activities.ElasticsearchActivities.CreateIndexRequest;
import dev.crewchief.activities.ElasticsearchActivities.DeleteIndexRequest;
import dev.crewchief.activities.ElasticsearchActivities.IndexInfo;
import dev.crewchief.activities.ElasticsearchActivities.IndexState;
import dev.crewchief.activities.ElasticsearchActivities.ReindexRequest;
import dev.crewchief.activities.ElasticsearchActivities.ReindexResult;
import dev.crewchief.activities.ElasticsearchActivities.ReplicasRequest;
import dev.crewchief.activities.ElasticsearchActivities.StatusRequest;
import dev.crewchief.activities.ElasticsearchActivities.SwapRequest;
import dev.crewchief.activities.ElasticsearchActivities.SwapResult;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.http.HttpHost;
import org.elasticsearch.client.RestClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ElasticsearchActivitiesImpl} against a real Elasticsearch 7.17 node ({@link EsNode}), read
 * back with a client of the test's own. Each test works on indices of its own names.
 */
class ElasticsearchAdapterTest {
  private static final Logger log = LoggerFactory.getLogger(ElasticsearchAdapterTest.class);
  static final String SECRET = "ApiKey c2VjcmV0LWtleS1mb3ItdGVzdHM=";
  static final String DEFINITION =
      """
      {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
       "mappings": {"dynamic": false, "properties": {
         "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}},
         "n": {"type": "integer", "index": true},
         "created": {"type": "date"},
         "owner": {"type": "object", "properties": {"name": {"type": "keyword"}}}}}}
      """;
  static final Duration POLL = Duration.ofMillis(200);

  static EsNode node;
  static ElasticsearchClient es;
  static RestClientTransport transport;
  static ElasticsearchActivitiesImpl adapter;
  static Cluster cluster;

  @BeforeAll
  static void start() {
    node = EsNode.get();
    transport =
        new RestClientTransport(
            RestClient.builder(HttpHost.create(node.url())).build(), new JacksonJsonpMapper());
    es = new ElasticsearchClient(transport);
    adapter = new ElasticsearchActivitiesImpl(new SecretResolver(Map.of("ES_AUTH", SECRET)));
    // The node has no security: the header from the secret is sent and ignored.
    cluster = new Cluster("test", node.url(), "env:ES_AUTH");
  }

  @AfterAll
  static void stop() throws IOException {
    adapter.close();
    transport.close();
  }

  @Test
  void createIndexIsIdempotentAndRefusesOtherMappings() throws IOException {
    ActionResult first =
        adapter.createIndex(new CreateIndexRequest("create", cluster, "ci-a", DEFINITION, false));
    assertFalse(first.rehearsed());
    assertTrue(first.output().startsWith("created index ci-a"), first.output());
    var mapping = es.indices().getMapping(g -> g.index("ci-a")).get("ci-a").mappings();
    assertTrue(mapping.properties().get("title").isText());
    assertTrue(mapping.properties().get("owner").isObject());

    // Same mappings, written differently (defaults left out, keys in another order): unchanged.
    String same =
        """
        {"mappings": {"properties": {
           "owner": {"properties": {"name": {"type": "keyword"}}},
           "created": {"type": "date"}, "n": {"type": "integer"},
           "title": {"fields": {"raw": {"ignore_above": "256", "type": "keyword"}}, "type": "text"}},
         "dynamic": "false"}}
        """;
    for (String def : List.of(DEFINITION, same)) {
      ActionResult again =
          adapter.createIndex(new CreateIndexRequest("create", cluster, "ci-a", def, false));
      assertTrue(again.output().contains("unchanged"), again.output());
    }

    String other =
        """
        {"mappings": {"properties": {"title": {"type": "keyword"}}}}
        """;
    assertFailure(
        "IndexExists",
        true,
        () -> adapter.createIndex(new CreateIndexRequest("create", cluster, "ci-a", other, false)));
    assertFailure(
        "InvalidInput",
        true,
        () ->
            adapter.createIndex(
                new CreateIndexRequest("create", cluster, "ci-b", "{\"mappings\": [", false)));
    assertFailure(
        "InvalidInput",
        true,
        () -> adapter.createIndex(new CreateIndexRequest("create", cluster, "Ci*", other, false)));
    assertFalse(es.indices().exists(e -> e.index("ci-b")).value());
  }

  @Test
  void reindexProgressAppearsInHeartbeats() throws IOException {
    int docs = 3000;
    bulk("rx-src", docs);
    create("rx-dest");
    List<ReindexHeartbeat> beats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(adapter);
      env.setActivityHeartbeatListener(ReindexHeartbeat.class, beats::add);
      // 500 documents a second in batches of 1000: about four seconds.
      ReindexResult r = stub(env, 2).reindex(reindex("rx-src", "rx-dest", 500f));
      assertNotNull(r.taskId());
      assertFalse(r.resumed());
      assertFalse(r.rehearsed());
      assertEquals(docs, r.total());
      assertEquals(docs, r.created());
      assertEquals(docs, count("rx-dest"));
      assertFalse(beats.isEmpty());
      assertTrue(beats.stream().allMatch(b -> r.taskId().equals(b.taskId())), beats.toString());
      assertTrue(
          beats.stream()
              .anyMatch(
                  b ->
                      b.progress().total() == docs
                          && b.progress().done() > 0
                          && b.progress().done() < docs),
          beats.toString());
      assertTrue(
          beats.stream().allMatch(b -> b.progress().unit().equals("documents")), beats.toString());
      assertTrue(beats.get(0).progress().message().contains("rx-src -> rx-dest"));
      assertFalse(beats.toString().contains(SECRET));
    } finally {
      env.close();
    }
  }

  @Test
  void aRetriedReindexResumesTheSameEsTask() throws Exception {
    int docs = 3000;
    bulk("rs-src", docs);
    create("rs-dest");
    ReindexRequest request = reindex("rs-src", "rs-dest", 500f);

    // The first attempt: killed once it has heartbeaten the task id.
    List<ReindexHeartbeat> beats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment first = TestActivityEnvironment.newInstance();
    String taskId;
    ReindexHeartbeat last;
    try {
      first.registerActivitiesImplementations(adapter);
      first.setActivityHeartbeatListener(ReindexHeartbeat.class, beats::add);
      ElasticsearchActivities stub = stub(first, 1);
      CompletableFuture<ReindexResult> attempt =
          CompletableFuture.supplyAsync(() -> stub.reindex(request));
      await("a heartbeat with the task id", () -> !beats.isEmpty() || attempt.isDone());
      assertFalse(attempt.isDone(), "the first attempt ended before it could be killed");
      last = beats.get(beats.size() - 1);
      taskId = last.taskId();
      assertNotNull(taskId);
      first.requestCancelActivity();
      assertThrows(ExecutionException.class, () -> attempt.get(30, TimeUnit.SECONDS));
    } finally {
      first.close();
    }
    // The attempt is gone, its task is not.
    assertEquals(List.of(taskId), reindexTasksInto("rs-dest"));

    // The retry, with the last heartbeat's details, while a watcher counts the tasks into dest.
    TaskWatch watch = TaskWatch.start("rs-dest");
    TestActivityEnvironment retry = TestActivityEnvironment.newInstance();
    ReindexResult r;
    try {
      retry.registerActivitiesImplementations(adapter);
      retry.setHeartbeatDetails(last);
      r = stub(retry, 1).reindex(request);
    } finally {
      retry.close();
      watch.stop();
    }
    assertEquals(taskId, r.taskId());
    assertTrue(r.resumed());
    // One task did all of it: it created every document (a second one would have updated them).
    assertEquals(docs, r.created());
    assertEquals(0, r.updated());
    assertEquals(docs, count("rs-dest"));
    assertTrue(watch.polls.get() > 0);
    assertEquals(1, watch.most.get(), "reindex tasks into rs-dest seen at once");
    assertEquals(List.of(taskId), watch.seen);
  }

  @Test
  void aReindexTaskIntoDestRunningIsFollowedWithoutHeartbeatDetails() throws Exception {
    int docs = 3000;
    bulk("rr-src", docs);
    create("rr-dest");
    // Started by someone else (or by an attempt that died before its first heartbeat).
    String taskId =
        es.reindex(
                b ->
                    b.source(s -> s.index("rr-src"))
                        .dest(d -> d.index("rr-dest"))
                        .waitForCompletion(false)
                        .requestsPerSecond(500L))
            .task();
    TaskWatch watch = TaskWatch.start("rr-dest");
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    ReindexResult r;
    try {
      env.registerActivitiesImplementations(adapter);
      r = stub(env, 2).reindex(reindex("rr-src", "rr-dest", 500f));
    } finally {
      env.close();
      watch.stop();
    }
    assertEquals(taskId, r.taskId());
    assertTrue(r.resumed());
    assertEquals(docs, r.created());
    assertEquals(docs, count("rr-dest"));
    assertEquals(1, watch.most.get());
    assertEquals(List.of(taskId), watch.seen);
  }

  @Test
  void aReindexWithFailedDocumentsOrMissingIndicesIsRefused() throws IOException {
    bulk("rf-src", 50);
    // "title" holds text, which an integer field refuses: every document fails.
    es.indices()
        .create(
            c ->
                c.index("rf-dest")
                    .withJson(
                        new StringReader(
                            "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},"
                                + "\"mappings\":{\"properties\":{\"title\":{\"type\":\"integer\"}}}}")));
    ApplicationFailure f =
        assertFailure(
            "ReindexFailed", true, () -> adapter.reindex(reindex("rf-src", "rf-dest", null)));
    assertTrue(f.getOriginalMessage().contains("document rf-dest/"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("mapper_parsing_exception"), f.getOriginalMessage());

    assertFailure(
        "IndexMissing", true, () -> adapter.reindex(reindex("rf-src", "rf-nothing", null)));
    assertFalse(es.indices().exists(e -> e.index("rf-nothing")).value());
    assertFailure(
        "IndexMissing", true, () -> adapter.reindex(reindex("rf-nothing", "rf-dest", null)));
    assertFailure("InvalidInput", true, () -> adapter.reindex(reindex("rf-src", "rf-dest", 0.5f)));
  }

  @Test
  void aReaderThroughTheAliasNeverFailsNorFindsNothingWhileTheSwapRuns() throws Exception {
    bulk("sw-a", 200);
    bulk("sw-b", 300);
    adapter.swapAlias(new SwapRequest("serve", cluster, "sw-live", null, "sw-a", false));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong searches = new AtomicLong();
    AtomicLong empty = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicReference<Exception> firstError = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              while (!stop.get()) {
                try {
                  long hits =
                      es.search(
                              s ->
                                  s.index("sw-live")
                                      .query(q -> q.matchAll(m -> m))
                                      .trackTotalHits(t -> t.enabled(true))
                                      .size(0),
                              Void.class)
                          .hits()
                          .total()
                          .value();
                  if (hits == 0) {
                    empty.incrementAndGet();
                  }
                } catch (Exception e) {
                  errors.incrementAndGet();
                  firstError.compareAndSet(null, e);
                }
                searches.incrementAndGet();
              }
            },
            "alias-reader");
    reader.start();
    int swaps = 20;
    try {
      await("the reader's first searches", () -> searches.get() >= 10);
      for (int i = 0; i < swaps; i++) {
        String from = i % 2 == 0 ? "sw-a" : "sw-b";
        String to = i % 2 == 0 ? "sw-b" : "sw-a";
        SwapResult r =
            adapter.swapAlias(new SwapRequest("swap", cluster, "sw-live", from, to, false));
        assertTrue(r.changed());
        assertEquals(List.of(from), r.before());
        assertEquals(List.of(to), r.after());
      }
      long after = searches.get();
      await("searches after the last swap", () -> searches.get() >= after + 10);
    } finally {
      stop.set(true);
      reader.join(10_000);
    }
    System.out.printf(
        "alias reader: %d searches during %d swaps, %d errors, %d empty results%n",
        searches.get(), swaps, errors.get(), empty.get());
    assertEquals(0, errors.get(), String.valueOf(firstError.get()));
    assertEquals(0, empty.get());
    assertEquals(List.of("sw-a"), aliasOn("sw-live"));
  }

  @Test
  void swapIsIdempotentAndRefusesAnAliasElsewhere() throws IOException {
    create("sa-a");
    create("sa-b");
    create("sa-c");
    SwapResult added =
        adapter.swapAlias(new SwapRequest("serve", cluster, "sa-live", null, "sa-a", false));
    assertTrue(added.changed());
    assertEquals(List.of(), added.before());
    assertEquals(List.of("sa-a"), aliasOn("sa-live"));
    SwapResult again =
        adapter.swapAlias(new SwapRequest("serve", cluster, "sa-live", null, "sa-a", false));
    assertFalse(again.changed());

    SwapResult swapped =
        adapter.swapAlias(new SwapRequest("swap", cluster, "sa-live", "sa-a", "sa-b", false));
    assertTrue(swapped.changed());
    assertEquals(List.of("sa-b"), aliasOn("sa-live"));
    SwapResult retried =
        adapter.swapAlias(new SwapRequest("swap", cluster, "sa-live", "sa-a", "sa-b", false));
    assertFalse(retried.changed());
    assertEquals(List.of("sa-b"), retried.after());

    // On neither index, or somewhere when the step thinks it is new: refused, left where it is.
    assertFailure(
        "AliasConflict",
        true,
        () ->
            adapter.swapAlias(new SwapRequest("swap", cluster, "sa-live", "sa-a", "sa-c", false)));
    assertFailure(
        "AliasConflict",
        true,
        () -> adapter.swapAlias(new SwapRequest("swap", cluster, "sa-live", null, "sa-c", false)));
    assertEquals(List.of("sa-b"), aliasOn("sa-live"));
    assertFailure(
        "IndexMissing",
        true,
        () ->
            adapter.swapAlias(
                new SwapRequest("swap", cluster, "sa-live", "sa-b", "sa-nothing", false)));
    assertEquals(List.of("sa-b"), aliasOn("sa-live"));
  }

  @Test
  void setReplicasWaitsForYellowAndReadsBack() throws IOException {
    create("rp-a");
    ActionResult r =
        adapter.setReplicas(new ReplicasRequest("replicas", cluster, "rp-a", 1, false));
    assertTrue(r.output().contains("0 -> 1"), r.output());
    // One node: the replica cannot be placed, yellow is as good as it gets.
    assertTrue(r.output().contains("health yellow"), r.output());
    assertEquals("1", replicasOf("rp-a"));
    ActionResult back =
        adapter.setReplicas(new ReplicasRequest("replicas", cluster, "rp-a", 0, false));
    assertTrue(back.output().contains("health green"), back.output());
    assertEquals("0", replicasOf("rp-a"));
    assertFailure(
        "IndexMissing",
        true,
        () -> adapter.setReplicas(new ReplicasRequest("replicas", cluster, "rp-none", 1, false)));
  }

  @Test
  void deletingAnIndexAReindexWritesIntoCancelsTheReindexFirst() throws Exception {
    bulk("dc-src", 3000);
    create("dc-dest");
    // A reindex the release gave up on: still running on the cluster, slowly.
    String taskId =
        es.reindex(
                b ->
                    b.source(s -> s.index("dc-src"))
                        .dest(d -> d.index("dc-dest"))
                        .waitForCompletion(false)
                        .requestsPerSecond(200L))
            .task();
    await(
        "the reindex runs",
        () -> {
          try {
            return reindexTasksInto("dc-dest").contains(taskId);
          } catch (IOException e) {
            return false;
          }
        });
    ActionResult dropped =
        adapter.deleteIndex(new DeleteIndexRequest("drop new", cluster, "dc-dest", null, false));
    assertTrue(
        dropped.output().startsWith("cancelled the reindex task(s) into it: " + taskId),
        dropped.output());
    assertEquals(List.of(), reindexTasksInto("dc-dest"));
    assertFalse(es.indices().exists(e -> e.index("dc-dest")).value());
  }

  @Test
  void deleteIsRefusedWhileTheIndexServesAndIdempotent() throws IOException {
    create("dl-a");
    create("dl-b");
    adapter.swapAlias(new SwapRequest("serve", cluster, "dl-live", null, "dl-a", false));
    assertFailure(
        "IndexServing",
        true,
        () ->
            adapter.deleteIndex(new DeleteIndexRequest("drop", cluster, "dl-a", "dl-live", false)));
    assertTrue(es.indices().exists(e -> e.index("dl-a")).value());

    adapter.swapAlias(new SwapRequest("swap", cluster, "dl-live", "dl-a", "dl-b", false));
    ActionResult deleted =
        adapter.deleteIndex(new DeleteIndexRequest("drop", cluster, "dl-a", "dl-live", false));
    assertTrue(deleted.output().startsWith("deleted index dl-a"), deleted.output());
    assertFalse(es.indices().exists(e -> e.index("dl-a")).value());
    ActionResult again =
        adapter.deleteIndex(new DeleteIndexRequest("drop", cluster, "dl-a", "dl-live", false));
    assertTrue(again.output().contains("already gone"), again.output());
    assertEquals(List.of("dl-b"), aliasOn("dl-live"));
  }

  @Test
  void statusListsDocumentsAndTheServingIndex() throws IOException {
    bulk("st-a", 120);
    bulk("st-b", 30);
    adapter.swapAlias(new SwapRequest("serve", cluster, "st-live", null, "st-b", false));
    IndexState s = adapter.status(new StatusRequest("status", cluster, "st-live", "st-*"));
    assertEquals("st-live", s.alias());
    assertEquals(List.of("st-b"), s.serving());
    assertEquals(
        List.of(new IndexInfo("st-a", 120, 0, "green"), new IndexInfo("st-b", 30, 0, "green")),
        s.indices());
    IndexState none = adapter.status(new StatusRequest("status", cluster, "st-nowhere", "st-x*"));
    assertEquals(List.of(), none.serving());
    assertEquals(List.of(), none.indices());
  }

  @Test
  void dryRunsChangeNothingAndReadNoSecret() throws IOException {
    bulk("dr-a", 10);
    create("dr-b");
    adapter.swapAlias(new SwapRequest("serve", cluster, "dr-live", null, "dr-a", false));
    // A reference that does not resolve: a rehearsal must not need it.
    Cluster unresolvable = new Cluster("test", node.url(), "env:CREWCHIEF_NO_SUCH_VARIABLE");

    ActionResult create =
        adapter.createIndex(
            new CreateIndexRequest("create", unresolvable, "dr-new", DEFINITION, true));
    assertTrue(create.rehearsed());
    assertTrue(create.action().startsWith("PUT " + node.url() + "/dr-new"), create.action());
    ReindexResult reindex =
        adapter.reindex(
            new ReindexRequest("reindex", unresolvable, "dr-a", "dr-b", null, 10f, POLL, true));
    assertTrue(reindex.rehearsed());
    assertNull(reindex.taskId());
    SwapResult swap =
        adapter.swapAlias(new SwapRequest("swap", unresolvable, "dr-live", "dr-a", "dr-b", true));
    assertTrue(swap.rehearsed());
    assertEquals(List.of("dr-b"), swap.after());
    ActionResult replicas =
        adapter.setReplicas(new ReplicasRequest("replicas", unresolvable, "dr-a", 2, true));
    assertTrue(replicas.rehearsed());
    ActionResult delete =
        adapter.deleteIndex(new DeleteIndexRequest("drop", unresolvable, "dr-a", null, true));
    assertTrue(delete.rehearsed());

    assertFalse(es.indices().exists(e -> e.index("dr-new")).value());
    assertEquals(List.of(), reindexTasksInto("dr-b"));
    assertEquals(0, count("dr-b"));
    assertEquals(List.of("dr-a"), aliasOn("dr-live"));
    assertEquals("0", replicasOf("dr-a"));
    assertEquals(10, count("dr-a"));
  }

  @Test
  void anUnreachableClusterIsRetryable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Cluster gone = new Cluster("gone", "http://127.0.0.1:" + port, null);
    ApplicationFailure f =
        assertFailure(
            "ElasticsearchUnreachable",
            false,
            () -> adapter.status(new StatusRequest("status", gone, null, null)));
    assertTrue(f.getOriginalMessage().contains("gone at http://127.0.0.1:" + port));
  }

  @Test
  void secretsAndAnswersOfAnotherServer() throws IOException {
    // A reference that does not resolve on this worker.
    assertFailure(
        "SecretUnresolved",
        true,
        () ->
            adapter.status(
                new StatusRequest(
                    "status",
                    new Cluster("t", node.url(), "env:CREWCHIEF_NO_SUCH_VARIABLE"),
                    null,
                    null)));
    // A secret pasted where the reference belongs: refused, not repeated.
    ApplicationFailure pasted =
        assertFailure(
            "InvalidInput",
            true,
            () ->
                adapter.status(
                    new StatusRequest("status", new Cluster("t", node.url(), SECRET), null, null)));
    assertFalse(pasted.getOriginalMessage().contains(SECRET));
    assertFailure(
        "InvalidInput",
        true,
        () ->
            adapter.status(
                new StatusRequest(
                    "status", new Cluster("t", "http://u:p@127.0.0.1:1", null), null, null)));

    // The node has no security, so refusals come from a server of the test's that answers as a
    // secured cluster or an overloaded one does; it also shows the header the secret became.
    List<String> authorizations = new CopyOnWriteArrayList<>();
    AtomicInteger answer = new AtomicInteger(401);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        x -> {
          authorizations.add(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
          int status = answer.get();
          String type = status == 401 ? "security_exception" : "es_rejected_execution_exception";
          byte[] body =
              ("{\"error\":{\"root_cause\":[],\"type\":\""
                      + type
                      + "\",\"reason\":\"refused by the test\"},\"status\":"
                      + status
                      + "}")
                  .getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", "application/json");
          x.getResponseHeaders().add("X-Elastic-Product", "Elasticsearch");
          x.sendResponseHeaders(status, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    try {
      Cluster secured =
          new Cluster(
              "secured", "http://127.0.0.1:" + server.getAddress().getPort(), "env:ES_AUTH");
      ApplicationFailure refused =
          assertFailure(
              "ElasticsearchAuthFailed",
              true,
              () -> adapter.status(new StatusRequest("status", secured, null, "x-*")));
      assertTrue(refused.getOriginalMessage().contains("env:ES_AUTH"));
      assertFalse(refused.getOriginalMessage().contains(SECRET));
      assertEquals(SECRET, authorizations.get(0));
      answer.set(429);
      assertFailure(
          "ElasticsearchUnreachable",
          false,
          () -> adapter.status(new StatusRequest("status", secured, null, "x-*")));
    } finally {
      server.stop(0);
    }
  }

  // ---------------------------------------------------------------------------------------------

  static ReindexRequest reindex(String source, String dest, Float rps) {
    return new ReindexRequest("reindex", cluster, source, dest, null, rps, POLL, false);
  }

  static ElasticsearchActivities stub(TestActivityEnvironment env, int heartbeatSeconds) {
    return env.newActivityStub(
        ElasticsearchActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(1))
            .setHeartbeatTimeout(Duration.ofSeconds(heartbeatSeconds))
            .build());
  }

  /** An index of one shard and no replicas, so that the single node makes it green. */
  static void create(String index) throws IOException {
    es.indices()
        .create(
            c ->
                c.index(index)
                    .withJson(
                        new StringReader(
                            "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0}}")));
  }

  /** {@code index} created with {@code docs} small documents, searchable. */
  static void bulk(String index, int docs) throws IOException {
    create(index);
    BulkRequest.Builder b = new BulkRequest.Builder().index(index);
    for (int i = 0; i < docs; i++) {
      Map<String, Object> doc = Map.of("n", i, "title", "document " + i);
      String id = Integer.toString(i);
      b.operations(o -> o.index(x -> x.id(id).document(doc)));
    }
    var r = es.bulk(b.refresh(co.elastic.clients.elasticsearch._types.Refresh.True).build());
    assertFalse(r.errors());
  }

  static long count(String index) throws IOException {
    es.indices().refresh(r -> r.index(index));
    return es.count(c -> c.index(index)).count();
  }

  static List<String> aliasOn(String alias) throws IOException {
    if (!es.indices().existsAlias(a -> a.name(alias)).value()) {
      return List.of();
    }
    return es.indices().getAlias(a -> a.name(alias)).result().keySet().stream().sorted().toList();
  }

  static String replicasOf(String index) throws IOException {
    return es.indices()
        .getSettings(g -> g.index(index))
        .get(index)
        .settings()
        .index()
        .numberOfReplicas();
  }

  /** Running reindex tasks into {@code dest}, as the tasks API lists them. */
  static List<String> reindexTasksInto(String dest) throws IOException {
    List<String> ids = new ArrayList<>();
    for (Map.Entry<String, Info> e :
        es.tasks()
            .list(t -> t.actions("*reindex").detailed(true).groupBy(GroupBy.Parents))
            .tasks()
            .entrySet()) {
      if (e.getValue().description().contains(" to [" + dest + "]")) {
        ids.add(e.getKey());
      }
    }
    return ids;
  }

  /** Polls the tasks API on a thread of its own: the most reindex tasks into dest seen at once. */
  static final class TaskWatch {
    final AtomicInteger most = new AtomicInteger();
    final AtomicInteger polls = new AtomicInteger();
    final List<String> seen = new CopyOnWriteArrayList<>();
    final AtomicBoolean stop = new AtomicBoolean();
    Thread thread;

    static TaskWatch start(String dest) {
      TaskWatch w = new TaskWatch();
      w.thread =
          new Thread(
              () -> {
                while (!w.stop.get()) {
                  try {
                    List<String> ids = reindexTasksInto(dest);
                    w.most.accumulateAndGet(ids.size(), Math::max);
                    ids.stream().filter(id -> !w.seen.contains(id)).forEach(w.seen::add);
                    w.polls.incrementAndGet();
                    Thread.sleep(50); // a polling interval, to leave the node some CPU
                  } catch (IOException e) {
                    log.warn("tasks API: {}", e.toString());
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "task-watch");
      w.thread.start();
      return w;
    }

    void stop() throws InterruptedException {
      stop.set(true);
      thread.join(10_000);
    }
  }

  static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static ApplicationFailure assertFailure(String type, boolean nonRetryable, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    assertEquals(nonRetryable, f.isNonRetryable(), f.getOriginalMessage());
    return f;
  }
}
