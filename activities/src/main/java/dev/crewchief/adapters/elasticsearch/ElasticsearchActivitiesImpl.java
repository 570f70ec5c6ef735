package dev.crewchief.adapters.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ElasticsearchException;
import co.elastic.clients.elasticsearch._types.ExpandWildcard;
import co.elastic.clients.elasticsearch._types.HealthStatus;
import co.elastic.clients.elasticsearch._types.mapping.TypeMapping;
import co.elastic.clients.elasticsearch._types.query_dsl.Query;
import co.elastic.clients.elasticsearch.cat.indices.IndicesRecord;
import co.elastic.clients.elasticsearch.cat.nodes.NodesRecord;
import co.elastic.clients.elasticsearch.cluster.HealthResponse;
import co.elastic.clients.elasticsearch.indices.get_mapping.IndexMappingRecord;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ElasticsearchActivities} with elasticsearch-java 7.17, which speaks to 7.17 servers and,
 * in compatibility mode (its requests carry {@code compatible-with=7}), to 8.x servers.
 *
 * <p>Clients are kept per cluster URL and Authorization value (see {@link EsClients}) until {@link
 * #close()}. The Authorization value is resolved from {@code Cluster.authRef} for each real call,
 * never for a dry run, and appears in no result, message or heartbeat.
 *
 * <p>A reindex runs as an Elasticsearch task ({@code wait_for_completion=false}) which this
 * activity follows through the tasks API, heartbeating a {@link ReindexHeartbeat}: the task id and
 * the {@link Progress}. A retried attempt follows the task named in the last heartbeat; without one
 * (the attempt died before its first heartbeat reached the server) it follows a reindex task into
 * the same destination that is running on the cluster; only when there is none does it start one. A
 * cancelled attempt stops following and leaves the task running: a cancellation is what a worker
 * shutting down or a timed-out attempt also looks like, and the next attempt picks the task up (a
 * release that is given up drops the destination index in its rollback).
 *
 * <p>Dry runs send no request at all (so they neither change anything nor read the secret): they
 * check the inputs and say what the real call would send. The exception is {@code waitForHealth},
 * whose rehearsal is one read of the health (as {@code health}, which changes nothing) without the
 * wait: a dry run of a node replacement shows where the cluster stands.
 *
 * <p>{@code waitForHealth} polls {@code _cluster/health} and {@code _cat/nodes} every {@code
 * pollEvery}, heartbeating a {@link Progress} of expected nodes joined, and ends at the limit with
 * the last health seen; answers of an unreachable cluster or of one electing a master (503) are
 * waited out like a status short of the one wanted. A retried attempt counts its limit from when
 * the activity was first scheduled.
 */
public final class ElasticsearchActivitiesImpl implements ElasticsearchActivities, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ElasticsearchActivitiesImpl.class);
  private static final Duration DEFAULT_POLL = Duration.ofSeconds(2);
  // Server-side wait per cluster health request; each answer (or 408) is followed by a heartbeat.
  private static final String HEALTH_WAIT = "10s";
  private static final int FAILURES_SHOWN = 3;
  private static final String ALL = "_all";
  private static final ObjectMapper JSON = new ObjectMapper();
  // What Elasticsearch accepts as an index or alias name (lowercase, none of \/*?"<>|,# and
  // space, not starting with -_+), without date math; patterns (status) may also hold * and ,.
  private static final Pattern NAME = Pattern.compile("[a-z0-9.][^\\\\/*?\"<>|,# :A-Z]*");
  private static final Pattern PATTERN = Pattern.compile("[a-z0-9.*][^\\\\/?\"<>|# :A-Z]*");

  private final EsClients clients;

  /**
   * @param secrets resolves {@code Cluster.authRef} to the whole {@code Authorization} value
   */
  public ElasticsearchActivitiesImpl(SecretResolver secrets) {
    this.clients = new EsClients(secrets);
  }

  /** Closes every client this adapter opened (their connection pools and I/O threads). */
  @Override
  public void close() {
    clients.close();
  }

  // ---------------------------------------------------------------------------------------------
  // status

  @Override
  public IndexState status(StatusRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    String pattern = r.pattern() == null || r.pattern().isBlank() ? "*" : r.pattern().strip();
    if (!PATTERN.matcher(pattern).matches() || pattern.equals("_all")) {
      throw invalid("index pattern '" + pattern + "' of step " + r.step() + " is not valid");
    }
    if (r.alias() != null) {
      name(r.alias(), "alias", r.step());
    }
    ElasticsearchClient es = clients.client(c, r.step());
    List<String> serving = r.alias() == null ? List.of() : aliasIndices(es, c, r.alias());
    List<IndicesRecord> records =
        call(
            c,
            "list the indices " + pattern,
            () -> {
              try {
                return es.cat()
                    .indices(
                        i ->
                            i.index(List.of(pattern.split(",")))
                                .expandWildcards(ExpandWildcard.Open, ExpandWildcard.Closed))
                    .valueBody();
              } catch (ElasticsearchException e) {
                if (EsFailures.is(e, 404, "index_not_found_exception")) {
                  return List.of();
                }
                throw e;
              }
            });
    List<IndexInfo> infos = new ArrayList<>();
    for (IndicesRecord rec :
        records.stream().sorted((a, b) -> a.index().compareTo(b.index())).toList()) {
      long docs =
          "open".equals(rec.status())
              ? call(c, "count " + rec.index(), () -> es.count(n -> n.index(rec.index())).count())
              : parseLong(rec.docsCount());
      infos.add(
          new IndexInfo(
              rec.index(), docs, (int) parseLong(rec.rep()), Objects.toString(rec.health(), "")));
    }
    return new ElasticsearchActivities.IndexState(r.alias(), serving, infos);
  }

  // ---------------------------------------------------------------------------------------------
  // createIndex

  @Override
  public ActionResult createIndex(CreateIndexRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    String index = name(r.index(), "index", r.step());
    if (r.definitionJson() == null || r.definitionJson().isBlank()) {
      throw invalid(
          "step " + r.step() + " gives no definition for index " + index + ": settings, mappings");
    }
    co.elastic.clients.elasticsearch.indices.CreateIndexRequest create;
    try {
      create =
          co.elastic.clients.elasticsearch.indices.CreateIndexRequest.of(
              b -> b.index(index).withJson(new StringReader(r.definitionJson())));
    } catch (RuntimeException e) {
      throw invalid(
          "the definition of index "
              + index
              + " (step "
              + r.step()
              + ") is not the JSON body of a create-index request (settings, mappings): "
              + e.getMessage());
    }
    String action = "PUT " + c.url() + "/" + index + "\n" + compact(r.definitionJson());
    if (r.dryRun()) {
      return new ActionResult(
          action,
          true,
          "would create index "
              + index
              + " on "
              + c.describe()
              + ", or leave it alone if it exists with these mappings");
    }
    ElasticsearchClient es = clients.client(c, r.step());
    String what = "create index " + index;
    boolean exists = call(c, what, () -> es.indices().exists(e -> e.index(index)).value());
    if (!exists) {
      boolean created =
          call(
              c,
              what,
              () -> {
                try {
                  es.indices().create(create);
                  return true;
                } catch (ElasticsearchException e) {
                  // Another attempt or client created it meanwhile: compared below as if it had
                  // been there.
                  if (EsFailures.is(e, 400, "resource_already_exists_exception")) {
                    return false;
                  }
                  throw e;
                }
              });
      if (created) {
        TypeMapping actual = mappings(es, c, index);
        if (!Mappings.same(create.mappings(), actual, es._jsonpMapper())) {
          log.warn(
              "step '{}': index {} reads back mappings {} for {}",
              r.step(),
              index,
              Mappings.describe(actual, es._jsonpMapper()),
              Mappings.describe(create.mappings(), es._jsonpMapper()));
        }
        log.info("step '{}': created index {} on {}", r.step(), index, c.describe());
        return new ActionResult(action, false, "created index " + index + " on " + c.describe());
      }
    }
    TypeMapping actual = mappings(es, c, index);
    if (!Mappings.same(create.mappings(), actual, es._jsonpMapper())) {
      throw ApplicationFailure.newNonRetryableFailure(
          "index "
              + index
              + " already exists on "
              + c.describe()
              + " with other mappings ("
              + shorten(Mappings.describe(actual, es._jsonpMapper()))
              + "): give the new index another name, or delete this one first",
          EsFailures.INDEX_EXISTS);
    }
    log.info("step '{}': index {} exists with the same mappings, left alone", r.step(), index);
    return new ActionResult(
        action,
        false,
        "index "
            + index
            + " already exists on "
            + c.describe()
            + " with these mappings, unchanged");
  }

  private TypeMapping mappings(ElasticsearchClient es, Cluster c, String index) {
    return call(
        c,
        "read the mappings of " + index,
        () -> {
          IndexMappingRecord m = es.indices().getMapping(g -> g.index(index)).get(index);
          return m == null ? null : m.mappings();
        });
  }

  // ---------------------------------------------------------------------------------------------
  // reindex

  @Override
  public ReindexResult reindex(ReindexRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    String source = name(r.source(), "reindex source", r.step());
    String dest = name(r.dest(), "reindex destination", r.step());
    if (source.equals(dest)) {
      throw invalid("step " + r.step() + " reindexes " + source + " into itself");
    }
    Long rps = null;
    if (r.requestsPerSecond() != null) {
      if (!(r.requestsPerSecond() >= 1)) {
        throw invalid(
            "requestsPerSecond of step "
                + r.step()
                + " is "
                + r.requestsPerSecond()
                + ": give at least 1, or none for an unthrottled reindex");
      }
      // The client takes a whole number; fractions of a request per second make no difference
      // worth a second code path.
      rps = (long) Math.round(r.requestsPerSecond());
    }
    Duration poll = r.pollEvery() == null ? DEFAULT_POLL : r.pollEvery();
    if (poll.isNegative() || poll.isZero()) {
      throw invalid("pollEvery of step " + r.step() + " must be positive");
    }
    Query query = null;
    if (r.queryJson() != null && !r.queryJson().isBlank()) {
      try {
        query = Query.of(q -> q.withJson(new StringReader(r.queryJson())));
      } catch (RuntimeException e) {
        throw invalid(
            "the query of step "
                + r.step()
                + " is not an Elasticsearch query object (such as {\"range\": {...}}): "
                + e.getMessage());
      }
    }
    String describe = "reindex " + source + " -> " + dest;
    if (r.dryRun()) {
      log.info("step '{}': dry run, would {} on {}", r.step(), describe, c.describe());
      return new ReindexResult(null, 0, 0, 0, 0, 0, false, true);
    }

    ElasticsearchClient es = clients.client(c, r.step());
    String taskId = null;
    boolean resumed = false;
    Optional<ReindexHeartbeat> last = lastHeartbeat();
    if (last.isPresent() && last.get().taskId() != null) {
      String id = last.get().taskId();
      if (call(c, "read task " + id, () -> ReindexTasks.get(es, id)).isPresent()) {
        taskId = id;
        resumed = true;
        log.info("step '{}': following task {} of an earlier attempt ({})", r.step(), id, describe);
      } else {
        log.warn(
            "step '{}': the cluster no longer knows task {} of an earlier attempt", r.step(), id);
      }
    }
    if (taskId == null) {
      List<String> running =
          call(c, "list reindex tasks", () -> ReindexTasks.runningInto(es, dest));
      if (!running.isEmpty()) {
        taskId = running.get(0);
        resumed = true;
        log.info(
            "step '{}': a reindex task into {} runs already ({}), following it",
            r.step(),
            dest,
            taskId);
      }
    }
    if (taskId == null) {
      // Checked before the task starts, since a started task reports them only as its failure:
      // a missing source, and a missing destination, which would fail every bulk request (or, on
      // a cluster that creates indices on first write, get dynamic mappings).
      if (!call(c, describe, () -> es.indices().exists(e -> e.index(source)).value())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "reindex source " + source + " (an index or alias) does not exist on " + c.describe(),
            EsFailures.INDEX_MISSING);
      }
      if (!call(c, describe, () -> es.indices().exists(e -> e.index(dest)).value())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "reindex destination "
                + dest
                + " does not exist on "
                + c.describe()
                + ": create it (with its mappings) first",
            EsFailures.INDEX_MISSING);
      }
      Long throttle = rps;
      Query q = query;
      taskId =
          call(
              c,
              describe,
              () ->
                  es.reindex(
                          b -> {
                            b.source(
                                    s -> {
                                      s.index(source);
                                      if (q != null) {
                                        s.query(q);
                                      }
                                      return s;
                                    })
                                .dest(d -> d.index(dest))
                                .waitForCompletion(false);
                            if (throttle != null) {
                              b.requestsPerSecond(throttle);
                            }
                            return b;
                          })
                      .task());
      log.info("step '{}': started {} as task {} on {}", r.step(), describe, taskId, c.describe());
    }
    return follow(es, c, r.step(), describe, dest, taskId, resumed, poll);
  }

  private ReindexResult follow(
      ElasticsearchClient es,
      Cluster c,
      String step,
      String describe,
      String dest,
      String taskId,
      boolean resumed,
      Duration poll) {
    String message = describe + ", task " + taskId;
    ReindexTasks.Task t;
    while (true) {
      t =
          call(c, "read task " + taskId, () -> ReindexTasks.get(es, taskId))
              .orElseThrow(
                  () ->
                      ApplicationFailure.newFailure(
                          "task "
                              + taskId
                              + " ("
                              + describe
                              + ") is gone from "
                              + c.describe()
                              + " (its node restarted?): the next attempt starts it anew",
                          EsFailures.UNREACHABLE));
      // Throws when the activity is cancelled or timed out: the task keeps running for the next.
      ActivityIo.heartbeat(
          new ReindexHeartbeat(taskId, new Progress(t.done(), t.total(), "documents", message)));
      if (t.completed()) {
        break;
      }
      try {
        Thread.sleep(poll.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
    ReindexTasks.Task done = t;
    if (done.error() != null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "task "
              + taskId
              + " ("
              + describe
              + ") failed: "
              + done.error().type()
              + ": "
              + done.error().reason(),
          EsFailures.REINDEX_FAILED);
    }
    JsonNode response = done.response();
    List<String> failures = ReindexTasks.failures(response, FAILURES_SHOWN);
    long failureCount = response.path("failures").size();
    if (failureCount > 0
        || response.path("timed_out").asBoolean(false)
        || response.hasNonNull("canceled")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "task "
              + taskId
              + " ("
              + describe
              + ") ended "
              + (response.hasNonNull("canceled")
                  ? "cancelled (" + response.path("canceled").asText() + ")"
                  : response.path("timed_out").asBoolean(false)
                      ? "timed out"
                      : "with " + failureCount + " failures, first: " + String.join("; ", failures))
              + ": fix the cause, then run the step again (documents copied so far are kept)",
          EsFailures.REINDEX_FAILED);
    }
    // Act, then verify: refreshed, the destination holds at least the documents created.
    long count =
        call(
            c,
            "refresh and count " + dest,
            () -> {
              es.indices().refresh(f -> f.index(dest));
              return es.count(n -> n.index(dest)).count();
            });
    if (count < done.created()) {
      throw ApplicationFailure.newNonRetryableFailure(
          dest
              + " holds "
              + count
              + " documents after task "
              + taskId
              + " reported "
              + done.created()
              + " created: something deletes from it",
          EsFailures.REINDEX_FAILED);
    }
    log.info(
        "step '{}': {} done: {} of {} documents created, {} updated; {} now holds {}",
        step,
        message,
        done.created(),
        done.total(),
        done.updated(),
        dest,
        count);
    return new ReindexResult(
        taskId,
        done.total(),
        done.created(),
        done.updated(),
        0,
        response.path("took").asLong(0),
        resumed,
        false);
  }

  private static Optional<ReindexHeartbeat> lastHeartbeat() {
    try {
      return Activity.getExecutionContext().getHeartbeatDetails(ReindexHeartbeat.class);
    } catch (IllegalStateException notInActivity) {
      return Optional.empty();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // swapAlias

  @Override
  public SwapResult swapAlias(SwapRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    String alias = name(r.alias(), "alias", r.step());
    String to = name(r.to(), "index to point the alias at", r.step());
    String from = r.from() == null ? null : name(r.from(), "index the alias points at", r.step());
    if (to.equals(from) || to.equals(alias) || alias.equals(from)) {
      throw invalid(
          "step "
              + r.step()
              + " swaps alias "
              + alias
              + " from "
              + from
              + " to "
              + to
              + ": give"
              + " three different names");
    }
    String action =
        "POST "
            + c.url()
            + "/_aliases {\"actions\":["
            + (from == null
                ? ""
                : "{\"remove\":{\"index\":\"" + from + "\",\"alias\":\"" + alias + "\"}},")
            + "{\"add\":{\"index\":\""
            + to
            + "\",\"alias\":\""
            + alias
            + "\"}}]}";
    if (r.dryRun()) {
      log.info("step '{}': dry run, would {}", r.step(), action);
      return new SwapResult(
          alias, from == null ? List.of() : List.of(from), List.of(to), true, true);
    }
    ElasticsearchClient es = clients.client(c, r.step());
    List<String> before = aliasIndices(es, c, alias);
    if (before.contains(to) && (from == null ? before.size() == 1 : !before.contains(from))) {
      log.info("step '{}': alias {} points at {} already, unchanged", r.step(), alias, before);
      return new SwapResult(alias, before, before, false, false);
    }
    if (from == null && !before.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "alias "
              + alias
              + " on "
              + c.describe()
              + " points at "
              + before
              + ", not nowhere as the step assumes: give the index it points at as 'from'",
          EsFailures.ALIAS_CONFLICT);
    }
    if (from != null && !before.contains(from)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "alias "
              + alias
              + " on "
              + c.describe()
              + " points at "
              + (before.isEmpty() ? "no index" : before.toString())
              + ", neither at "
              + from
              + " nor at "
              + to
              + ": check where it should point and swap it by hand",
          EsFailures.ALIAS_CONFLICT);
    }
    // One request with both actions: Elasticsearch applies them in one cluster-state update, so
    // that a search through the alias finds the one index or the other, never none.
    call(
        c,
        "swap alias " + alias + " to " + to,
        () ->
            es.indices()
                .updateAliases(
                    u -> {
                      if (from != null) {
                        u.actions(a -> a.remove(x -> x.index(from).alias(alias)));
                      }
                      return u.actions(a -> a.add(x -> x.index(to).alias(alias)));
                    }));
    List<String> after = aliasIndices(es, c, alias);
    if (!after.contains(to) || from != null && after.contains(from)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "alias "
              + alias
              + " points at "
              + after
              + " right after it was moved from "
              + from
              + " to "
              + to
              + ": something else changes it",
          EsFailures.ALIAS_CONFLICT);
    }
    log.info("step '{}': alias {} moved: {} -> {}", r.step(), alias, before, after);
    return new SwapResult(alias, before, after, true, false);
  }

  /** The indices {@code alias} points at, sorted; empty when it does not exist. */
  private static List<String> aliasIndices(ElasticsearchClient es, Cluster c, String alias) {
    return call(
        c,
        "read alias " + alias,
        () -> {
          if (!es.indices().existsAlias(a -> a.name(alias)).value()) {
            return List.of();
          }
          try {
            return List.copyOf(
                new TreeSet<>(es.indices().getAlias(a -> a.name(alias)).result().keySet()));
          } catch (ElasticsearchException e) {
            if (e.status() == 404) {
              return List.of(); // removed between the two requests
            }
            throw e;
          }
        });
  }

  // ---------------------------------------------------------------------------------------------
  // setReplicas

  @Override
  public ActionResult setReplicas(ReplicasRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    // _all as in the runbook's "PUT _all/_settings": every open or closed index, none hidden.
    String index =
        r.index() != null && r.index().strip().equals(ALL)
            ? ALL
            : name(r.index(), "index", r.step());
    if (r.replicas() < 0) {
      throw invalid("step " + r.step() + " asks for " + r.replicas() + " replicas: give 0 or more");
    }
    String n = Integer.toString(r.replicas());
    String what = index.equals(ALL) ? "all indices" : index;
    String action =
        "PUT "
            + c.url()
            + "/"
            + index
            + "/_settings {\"index\":{\"number_of_replicas\":"
            + n
            + "}}";
    if (r.dryRun()) {
      return new ActionResult(
          action,
          true,
          "would set the replicas of " + what + " to " + n + ", then wait for health yellow");
    }
    ElasticsearchClient es = clients.client(c, r.step());
    Map<String, String> before = replicas(es, c, index);
    boolean change = before.values().stream().anyMatch(v -> !n.equals(v));
    if (change) {
      call(
          c,
          "set the replicas of " + what,
          () ->
              es.indices()
                  .putSettings(
                      p ->
                          p.index(index)
                              .expandWildcards(ExpandWildcard.Open, ExpandWildcard.Closed)
                              .settings(s -> s.numberOfReplicas(n))));
    }
    String health = waitForYellow(es, c, index);
    Map<String, String> after = replicas(es, c, index);
    Map<String, String> wrong = new TreeMap<>(after);
    wrong.values().removeIf(n::equals);
    if (!wrong.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "replicas read back right after they were set to " + n + " for " + what + ": " + wrong,
          EsFailures.INVALID_INPUT);
    }
    log.info(
        "step '{}': replicas of {}: {} -> {}, health {}",
        r.step(),
        what,
        describe(before),
        n,
        health);
    return new ActionResult(
        action,
        false,
        "replicas of "
            + what
            + ": "
            + describe(before)
            + " -> "
            + n
            + (index.equals(ALL) ? " (" + after.size() + " indices)" : "")
            + (change ? "" : ", unchanged")
            + ", health "
            + health);
  }

  /**
   * The replicas of each index {@code target} (a name, an alias or {@code _all}) stands for, by
   * concrete index name; {@code _all} on a cluster without indices is empty.
   */
  private static Map<String, String> replicas(ElasticsearchClient es, Cluster c, String target) {
    return call(
        c,
        "read the settings of " + target,
        () -> {
          Map<String, String> out = new TreeMap<>();
          es.indices()
              .getSettings(
                  g -> g.index(target).expandWildcards(ExpandWildcard.Open, ExpandWildcard.Closed))
              .result()
              .forEach(
                  (name, s) -> {
                    var settings = s.settings();
                    String value =
                        settings == null
                            ? null
                            : settings.index() != null
                                    && settings.index().numberOfReplicas() != null
                                ? settings.index().numberOfReplicas()
                                : settings.numberOfReplicas();
                    out.put(name, value);
                  });
          return out;
        });
  }

  /** One number when all indices agree ("1"), else each index with its own ("{a=1, b=2}"). */
  private static String describe(Map<String, String> replicas) {
    var distinct = new TreeSet<>(replicas.values().stream().map(String::valueOf).toList());
    return distinct.isEmpty()
        ? "no index"
        : distinct.size() == 1 ? distinct.first() : replicas.toString();
  }

  /** Waits (no deadline of its own: the activity's timeout is the limit) for yellow or green. */
  private static String waitForYellow(ElasticsearchClient es, Cluster c, String index) {
    while (true) {
      HealthResponse h =
          call(
              c,
              "read the health of " + index,
              () -> {
                try {
                  return es.cluster()
                      .health(
                          q ->
                              q.index(index)
                                  .waitForStatus(HealthStatus.Yellow)
                                  .timeout(t -> t.time(HEALTH_WAIT)));
                } catch (IOException e) {
                  if (EsFailures.status(e) == 408) {
                    return null; // not yellow within the wait: heartbeat and ask again
                  }
                  throw e;
                }
              });
      if (h != null && !h.timedOut() && h.status() != HealthStatus.Red) {
        return h.status().jsonValue();
      }
      ActivityIo.heartbeat(
          new Progress(0, 0, "", "waiting for index " + index + " to be at least yellow"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // health, waitForHealth

  @Override
  public Health health(HealthRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    List<String> expected = expectedNodes(r.expectedNodes(), r.step());
    Health h = readHealth(clients.client(c, r.step()), c, expected);
    log.info("step '{}': {}: {}", r.step(), c.describe(), describe(h, expected));
    return h;
  }

  @Override
  public Health waitForHealth(WaitHealthRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    List<String> expected = expectedNodes(r.expectedNodes(), r.step());
    String want = wantStatus(r.wantStatus(), r.step());
    Duration limit = r.limit();
    if (limit == null || limit.isNegative()) {
      throw invalid(
          "step " + r.step() + " gives limit " + limit + ": give how long to wait, such as PT10M");
    }
    Duration poll =
        r.pollEvery() == null || r.pollEvery().isZero() || r.pollEvery().isNegative()
            ? DEFAULT_POLL
            : r.pollEvery();
    ElasticsearchClient es = clients.client(c, r.step());
    if (r.dryRun()) {
      // A read changes nothing: the rehearsal shows where the cluster stands, without waiting.
      Health h = readHealth(es, c, expected);
      log.info("step '{}': dry run, {} now: {}", r.step(), c.describe(), describe(h, expected));
      return h;
    }
    Instant deadline = deadline(limit);
    Health last = null;
    ApplicationFailure unreachable = null;
    while (true) {
      try {
        last = readHealth(es, c, expected);
        unreachable = null;
      } catch (ApplicationFailure f) {
        // While nodes come and go, a master election answers 503 for a few seconds: that is
        // the state being waited out, not a reason to give up.
        if (!EsFailures.UNREACHABLE.equals(f.getType())) {
          throw f;
        }
        unreachable = f;
        log.info("step '{}': health of {} not read: {}", r.step(), c.describe(), f.getMessage());
      }
      boolean done = unreachable == null && last.complete() && rank(last.status()) >= rank(want);
      String message =
          unreachable != null
              ? "health not read (" + shorten(unreachable.getOriginalMessage()) + ")"
              : describe(last, expected) + (done ? "" : ", want " + want);
      int joined = last == null ? 0 : expected.size() - last.missing().size();
      ActivityIo.heartbeat(
          expected.isEmpty()
              ? new Progress(last == null ? 0 : last.nodes(), 0, "nodes", message)
              : new Progress(joined, expected.size(), "nodes", message));
      if (done) {
        log.info("step '{}': {}: {}", r.step(), c.describe(), message);
        return last;
      }
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative() || left.isZero()) {
        if (last == null) {
          throw unreachable; // not one answer within the limit: retried like any unreachable call
        }
        log.warn(
            "step '{}': {} not {} within {}: {}{}",
            r.step(),
            c.describe(),
            want,
            limit,
            describe(last, expected),
            unreachable == null ? "" : " (last answer; now unreachable)");
        return last;
      }
      try {
        Thread.sleep(Math.max(1, Math.min(poll.toMillis(), left.toMillis())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }
  }

  /**
   * When the wait ends: {@code limit} from now, or, for a retried attempt, from when the workflow
   * scheduled the activity, so that retries do not stretch the wait the workflow asked for.
   */
  private static Instant deadline(Duration limit) {
    Instant from = Instant.now();
    try {
      var info = Activity.getExecutionContext().getInfo();
      if (info.getAttempt() > 1 && info.getScheduledTimestamp() > 0) {
        from = Instant.ofEpochMilli(info.getScheduledTimestamp());
      }
    } catch (IllegalStateException notInActivity) {
      // Called directly (tools, tests): the limit counts from now.
    }
    return from.plus(limit);
  }

  /** {@code _cluster/health} and {@code _cat/nodes}, both answered by the elected master. */
  private static Health readHealth(ElasticsearchClient es, Cluster c, List<String> expected) {
    HealthResponse h = call(c, "read the cluster health", () -> es.cluster().health());
    List<String> names =
        call(
            c,
            "list the nodes",
            () ->
                es.cat().nodes().valueBody().stream()
                    .map(NodesRecord::name)
                    .filter(Objects::nonNull)
                    .sorted()
                    .toList());
    List<String> missing = expected.stream().filter(e -> !names.contains(e)).toList();
    return new Health(
        h.clusterName(),
        h.status().jsonValue(),
        h.numberOfNodes(),
        h.numberOfDataNodes(),
        h.unassignedShards(),
        names,
        missing);
  }

  private static String describe(Health h, List<String> expected) {
    return "cluster "
        + h.cluster()
        + " "
        + h.status()
        + ", "
        + h.nodes()
        + " nodes "
        + h.nodeNames()
        + (expected.isEmpty()
            ? ""
            : ", "
                + (expected.size() - h.missing().size())
                + " of "
                + expected.size()
                + " expected joined"
                + (h.missing().isEmpty() ? "" : ", missing " + h.missing()))
        + (h.unassignedShards() == 0 ? "" : ", " + h.unassignedShards() + " unassigned shards");
  }

  private static List<String> expectedNodes(List<String> nodes, String step) {
    if (nodes == null) {
      return List.of();
    }
    TreeSet<String> seen = new TreeSet<>();
    List<String> out = new ArrayList<>();
    for (String n : nodes) {
      if (n == null || n.isBlank()) {
        throw invalid("step " + step + " expects a node without a name: give node names");
      }
      if (seen.add(n.strip())) {
        out.add(n.strip());
      }
    }
    return List.copyOf(out);
  }

  private static String wantStatus(String want, String step) {
    String w = want == null ? "green" : want.strip().toLowerCase(Locale.ROOT);
    if (!w.equals("green") && !w.equals("yellow")) {
      throw invalid("step " + step + " waits for status '" + want + "': give green or yellow");
    }
    return w;
  }

  /** red < yellow < green: a wait for yellow is also over at green. */
  private static int rank(String status) {
    return switch (status == null ? "" : status.toLowerCase(Locale.ROOT)) {
      case "green" -> 2;
      case "yellow" -> 1;
      default -> 0;
    };
  }

  // ---------------------------------------------------------------------------------------------
  // deleteIndex

  @Override
  public ActionResult deleteIndex(DeleteIndexRequest r) {
    Cluster c = cluster(r.cluster(), r.step());
    String index = name(r.index(), "index", r.step());
    if (r.alias() != null) {
      name(r.alias(), "alias", r.step());
    }
    String action = "DELETE " + c.url() + "/" + index;
    if (r.dryRun()) {
      return new ActionResult(
          action,
          true,
          "would delete index "
              + index
              + (r.alias() == null ? "" : " unless alias " + r.alias() + " points at it"));
    }
    ElasticsearchClient es = clients.client(c, r.step());
    String what = "delete index " + index;
    if (!call(c, what, () -> es.indices().exists(e -> e.index(index)).value())) {
      log.info("step '{}': index {} is gone already", r.step(), index);
      return new ActionResult(
          action, false, "index " + index + " is already gone from " + c.describe());
    }
    if (r.alias() != null) {
      List<String> serving = aliasIndices(es, c, r.alias());
      if (serving.contains(index)) {
        throw ApplicationFailure.newNonRetryableFailure(
            "index "
                + index
                + " serves alias "
                + r.alias()
                + " on "
                + c.describe()
                + ": swap the alias to another index first",
            EsFailures.INDEX_SERVING);
      }
    }
    // A reindex still writing into the index (a release that gave up on it, a worker gone) would
    // go on after the delete and, on a cluster that creates indices on write, make it again:
    // its tasks are cancelled first, and the delete waits until they are gone.
    List<String> cancelled = cancelReindexesInto(es, c, index, r.step());
    call(
        c,
        what,
        () -> {
          try {
            return es.indices().delete(d -> d.index(index));
          } catch (ElasticsearchException e) {
            if (EsFailures.is(e, 404, "index_not_found_exception")) {
              return null; // deleted meanwhile
            }
            throw e;
          }
        });
    if (call(c, what, () -> es.indices().exists(e -> e.index(index)).value())) {
      throw ApplicationFailure.newFailure(
          "index " + index + " still exists right after it was deleted", EsFailures.UNREACHABLE);
    }
    log.info("step '{}': deleted index {} on {}", r.step(), index, c.describe());
    return new ActionResult(
        action,
        false,
        (cancelled.isEmpty()
                ? ""
                : "cancelled the reindex task(s) into it: " + String.join(", ", cancelled) + "; ")
            + "deleted index "
            + index
            + " on "
            + c.describe());
  }

  /** Cancels the running reindex tasks into {@code index}; waits until none runs (2 min). */
  private static List<String> cancelReindexesInto(
      ElasticsearchClient es, Cluster c, String index, String step) {
    List<String> running =
        call(c, "list reindex tasks into " + index, () -> ReindexTasks.runningInto(es, index));
    for (String id : running) {
      log.info("step '{}': cancelling reindex task {} into {}", step, id, index);
      // Through the low-level client: this client's model of the cancel answer (grouped by nodes)
      // does not parse when a node has no attributes, as with the task list.
      call(
          c,
          "cancel task " + id,
          () -> {
            org.elasticsearch.client.Request cancel =
                new org.elasticsearch.client.Request("POST", "/_tasks/" + id + "/_cancel");
            cancel.addParameter("group_by", "none");
            return ((co.elastic.clients.transport.rest_client.RestClientTransport) es._transport())
                .restClient()
                .performRequest(cancel);
          });
    }
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (!running.isEmpty()) {
      List<String> left =
          call(c, "list reindex tasks into " + index, () -> ReindexTasks.runningInto(es, index));
      if (left.isEmpty()) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw ApplicationFailure.newFailure(
            "reindex task(s) " + left + " into " + index + " still run after being cancelled",
            EsFailures.UNREACHABLE);
      }
      ActivityIo.heartbeat(
          new Progress(0, 0, "", "waiting for the cancelled reindex into " + index + " to stop"));
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw ApplicationFailure.newFailure("interrupted", EsFailures.UNREACHABLE);
      }
    }
    return running;
  }

  // ---------------------------------------------------------------------------------------------

  @FunctionalInterface
  private interface EsCall<T> {
    T run() throws IOException;
  }

  /** Runs a request, turning the client's exceptions into this adapter's failure types. */
  private static <T> T call(Cluster c, String what, EsCall<T> body) {
    try {
      return body.run();
    } catch (ApplicationFailure f) {
      throw f;
    } catch (IOException | ElasticsearchException e) {
      throw EsFailures.of(e, what, c);
    } catch (IllegalStateException e) {
      throw EsFailures.of(e, what, c);
    }
  }

  private static Cluster cluster(Cluster c, String step) {
    EsClients.validate(c, step);
    return c;
  }

  private static String name(String value, String what, String step) {
    String v = value == null ? "" : value.strip();
    if (!NAME.matcher(v).matches() || v.equals(".") || v.equals("..") || v.startsWith("_")) {
      throw invalid(
          "the "
              + what
              + " of step "
              + step
              + " is '"
              + v
              + "': give a lowercase Elasticsearch name without wildcards, commas or spaces");
    }
    return v;
  }

  private static String compact(String json) {
    try {
      return JSON.readTree(json).toString();
    } catch (JsonProcessingException e) {
      return json.strip();
    }
  }

  private static String shorten(String s) {
    return s.length() <= 600 ? s : s.substring(0, 600) + "...";
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, EsFailures.INVALID_INPUT);
  }
}
