package dev.crewchief.adapters.elasticsearch;

import co.elastic.clients.elasticsearch.ElasticsearchClient;
import co.elastic.clients.elasticsearch._types.ErrorCause;
import co.elastic.clients.elasticsearch.tasks.GetTasksResponse;
import co.elastic.clients.elasticsearch.tasks.GroupBy;
import co.elastic.clients.elasticsearch.tasks.Info;
import co.elastic.clients.elasticsearch.tasks.ListResponse;
import co.elastic.clients.json.JsonData;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reindex tasks as the tasks API shows them: one task read by id, and the running reindex tasks
 * into an index found by their description ({@code reindex from [src] to [dest]}, with {@code
 * [_doc]} after it on 7.x), which is the only place the tasks API names a reindex's destination.
 */
final class ReindexTasks {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReindexTasks() {}

  /** A reindex task: its status counters and, once completed, its response or error. */
  record Task(String id, boolean completed, JsonNode status, JsonNode response, ErrorCause error) {
    long total() {
      return status.path("total").asLong(0);
    }

    long created() {
      return status.path("created").asLong(0);
    }

    long updated() {
      return status.path("updated").asLong(0);
    }

    /** Documents dealt with: created, updated, deleted or left as they were. */
    long done() {
      return created()
          + updated()
          + status.path("deleted").asLong(0)
          + status.path("noops").asLong(0);
    }
  }

  /** The task, or empty when the cluster knows no task of that id (neither running nor stored). */
  static Optional<Task> get(ElasticsearchClient es, String taskId) throws IOException {
    GetTasksResponse r;
    try {
      r = es.tasks().get(g -> g.taskId(taskId));
    } catch (co.elastic.clients.elasticsearch._types.ElasticsearchException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
    // A completed task's final counters are in its response; its status keeps the last ones.
    JsonNode response = tree(r.response());
    JsonNode status = tree(r.task() == null ? null : r.task().status());
    if (r.completed() && response.isObject()) {
      status = response;
    }
    return Optional.of(new Task(taskId, r.completed(), status, response, r.error()));
  }

  /**
   * Ids ({@code node:number}) of the running top-level reindex tasks into {@code dest}, oldest
   * first.
   */
  static List<String> runningInto(ElasticsearchClient es, String dest) throws IOException {
    Pattern into =
        Pattern.compile("^reindex from .* to \\[" + Pattern.quote(dest) + "\\](\\[[^\\]]*\\])?$");
    // Grouped by parents: the default grouping by nodes does not parse in this client when a
    // node has no attributes (its model requires them); the tasks themselves parse either way.
    ListResponse l =
        es.tasks().list(t -> t.actions("*reindex").detailed(true).groupBy(GroupBy.Parents));
    List<Map.Entry<String, Info>> found = new ArrayList<>();
    for (Map.Entry<String, Info> e : l.tasks().entrySet()) {
      Info s = e.getValue();
      // Slices of a sliced reindex are children of the one task that names the whole job.
      if (s.parentTaskId() == null
          && s.description() != null
          && into.matcher(s.description()).matches()) {
        found.add(e);
      }
    }
    found.sort(Comparator.comparingLong(e -> e.getValue().startTimeInMillis()));
    return found.stream().map(Map.Entry::getKey).toList();
  }

  /** Up to {@code max} failures of a completed task's response, one line each. */
  static List<String> failures(JsonNode response, int max) {
    List<String> lines = new ArrayList<>();
    for (JsonNode f : response.path("failures")) {
      if (lines.size() == max) {
        break;
      }
      JsonNode cause = f.has("cause") ? f.path("cause") : f.path("reason");
      String where =
          f.has("id")
              ? "document " + f.path("index").asText() + "/" + f.path("id").asText()
              : "shard " + f.path("index").asText() + "[" + f.path("shard").asText() + "]";
      lines.add(
          where
              + ": "
              + (cause.isObject()
                  ? cause.path("type").asText() + ": " + cause.path("reason").asText()
                  : cause.asText()));
    }
    return lines;
  }

  private static JsonNode tree(JsonData data) {
    if (data == null) {
      return MissingNode.getInstance();
    }
    try {
      return JSON.readTree(data.toJson().toString());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the tasks API answered JSON the client cannot read", e);
    }
  }
}
