package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;
import java.util.List;

/**
 * An Elasticsearch cluster (elasticsearch-java over HTTP): indices, the alias that serves them,
 * reindexing and replicas. Failure types: {@code ElasticsearchUnreachable} (connection errors, 5xx,
 * 429; retried), {@code IndexMissing}, {@code IndexExists} (another definition under that name),
 * {@code IndexServing} (an index the alias points at may not be dropped), {@code AliasConflict}
 * (the alias is not where the request says it is), {@code ReindexFailed} (the task ended with
 * failures), {@code ElasticsearchAuthFailed}, {@code SecretUnresolved}, {@code InvalidInput} (not
 * retryable; the message says what to change).
 */
@ActivityInterface
public interface ElasticsearchActivities {

  /**
   * A cluster as activities receive it: {@code url} of one node or the load balancer ({@code
   * http://es:9200}); {@code authRef} a secret reference to the whole {@code Authorization} header
   * value ({@code ApiKey ...} or {@code Basic ...}), null for none.
   */
  record Cluster(String name, String url, String authRef) {
    public String describe() {
      return (name == null || name.isBlank() ? "elasticsearch" : name) + " at " + url;
    }
  }

  /** Which indices match {@code pattern} and where {@code alias} points. */
  record StatusRequest(String step, Cluster cluster, String alias, String pattern) {}

  /** An index: its documents, replicas and health. */
  record IndexInfo(String name, long docs, int replicas, String health) {}

  /** {@code serving}: the indices {@code alias} points at now (empty when it points nowhere). */
  record IndexState(String alias, List<String> serving, List<IndexInfo> indices) {}

  /**
   * Create {@code index} with {@code definitionJson} (the body of a create-index request: settings
   * and mappings). Idempotent: an index of that name with the same mappings is left alone; one with
   * other mappings is {@code IndexExists}.
   */
  record CreateIndexRequest(
      String step, Cluster cluster, String index, String definitionJson, boolean dryRun) {}

  /**
   * Copy documents of {@code source} (an index or alias) into {@code dest}, optionally only those
   * matching {@code queryJson} (an ES query object, e.g. a range on a creation date), as an ES
   * reindex task followed through the tasks API until it ends; {@code requestsPerSecond} throttles
   * it (null: unthrottled). The task id is kept in the heartbeat, so a retried attempt (the worker
   * killed mid-reindex) follows the same task instead of starting a second; a reindex task into
   * {@code dest} already running is followed too.
   */
  record ReindexRequest(
      String step,
      Cluster cluster,
      String source,
      String dest,
      String queryJson,
      Float requestsPerSecond,
      Duration pollEvery,
      boolean dryRun) {}

  /** The finished task: documents created and updated of {@code total}. */
  record ReindexResult(
      String taskId,
      long total,
      long created,
      long updated,
      long failures,
      long tookMillis,
      boolean resumed,
      boolean rehearsed) {}

  /**
   * Point {@code alias} at {@code to} instead of {@code from} in one atomic {@code _aliases}
   * request (readers see one or the other, never none), then verify. Idempotent: an alias already
   * on {@code to} alone is left alone; an alias on neither is {@code AliasConflict}. {@code from}
   * null: the alias is new.
   */
  record SwapRequest(
      String step, Cluster cluster, String alias, String from, String to, boolean dryRun) {}

  record SwapResult(
      String alias, List<String> before, List<String> after, boolean changed, boolean rehearsed) {}

  /** Set the number of replicas of an index, then wait until its health is at least yellow. */
  record ReplicasRequest(
      String step, Cluster cluster, String index, int replicas, boolean dryRun) {}

  /** An index to delete: refused ({@code IndexServing}) while {@code alias} points at it. */
  record DeleteIndexRequest(
      String step, Cluster cluster, String index, String alias, boolean dryRun) {}

  @ActivityMethod(name = "Elasticsearch.status")
  IndexState status(StatusRequest request);

  @ActivityMethod(name = "Elasticsearch.createIndex")
  ActionResult createIndex(CreateIndexRequest request);

  /** Heartbeats {@link Progress} (documents done of total) while the task runs. */
  @ActivityMethod(name = "Elasticsearch.reindex")
  ReindexResult reindex(ReindexRequest request);

  @ActivityMethod(name = "Elasticsearch.swapAlias")
  SwapResult swapAlias(SwapRequest request);

  @ActivityMethod(name = "Elasticsearch.setReplicas")
  ActionResult setReplicas(ReplicasRequest request);

  /** Idempotent: an index already gone is success. */
  @ActivityMethod(name = "Elasticsearch.deleteIndex")
  ActionResult deleteIndex(DeleteIndexRequest request);

  /**
   * The cluster as its master sees it ({@code _cluster/health} and {@code _cat/nodes}): status, the
   * nodes that joined, and which of {@code expectedNodes} (node names) are missing.
   */
  record HealthRequest(String step, Cluster cluster, List<String> expectedNodes) {}

  record Health(
      String cluster,
      String status,
      int nodes,
      int dataNodes,
      int unassignedShards,
      List<String> nodeNames,
      List<String> missing) {
    public boolean complete() {
      return missing == null || missing.isEmpty();
    }
  }

  @ActivityMethod(name = "Elasticsearch.health")
  Health health(HealthRequest request);

  /**
   * Heartbeats until every expected node has joined and the status is {@code wantStatus} (green, or
   * yellow), or {@code limit} passes: then it returns the last health seen (the workflow decides
   * what to replace), it does not fail.
   */
  record WaitHealthRequest(
      String step,
      Cluster cluster,
      List<String> expectedNodes,
      String wantStatus,
      Duration pollEvery,
      Duration limit,
      boolean dryRun) {}

  @ActivityMethod(name = "Elasticsearch.waitForHealth")
  Health waitForHealth(WaitHealthRequest request);
}
