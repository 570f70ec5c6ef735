package dev.crewchief.adapters.ci;

import com.fasterxml.jackson.databind.JsonNode;
import dev.crewchief.activities.CiActivities.CiBuild;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * CircleCI's API v2: the branch's pipelines ({@code GET /project/{slug}/pipeline?branch=}, newest
 * first) whose {@code vcs.revision} is the commit, their workflows ({@code GET
 * /pipeline/{id}/workflow}) and, to name what failed or to find a required job, the workflows' jobs
 * ({@code GET /workflow/{id}/job}).
 *
 * <p>A commit may have several pipelines (a re-trigger) and a pipeline several runs of a workflow
 * (a rerun): for each name the newest run counts, as on CircleCI's own page.
 */
final class CircleCiPipelines implements CiService {
  // Pipelines of a branch come newest first; the commit's are within the first few pages unless
  // many later commits were built after it, in which case it is no longer the head to release.
  private static final int MAX_PAGES = 5;
  private static final Set<String> WORKFLOW_WAITING = Set.of("running", "on_hold");
  private static final Set<String> JOB_WAITING =
      Set.of("running", "queued", "not_running", "blocked", "on_hold");
  private static final Set<String> JOB_BROKEN =
      Set.of("failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized");

  private final Api api;
  private final String slug;
  private final String branch;
  private final String commit;
  private final List<String> required;

  CircleCiPipelines(Api api, String slug, String branch, String commit, List<String> required) {
    this.api = api;
    this.slug = slug;
    this.branch = branch;
    this.commit = commit.toLowerCase(Locale.ROOT);
    this.required = required;
  }

  /** The first request a look makes, for a rehearsal to show. */
  static String firstPath(String slug, String branch) {
    return "/project/" + slug + "/pipeline?branch=" + Api.encode(branch);
  }

  @Override
  public CiLook look() {
    List<JsonNode> pipelines = pipelines();
    List<String> failed = new ArrayList<>();
    List<String> running = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    List<CiBuild> builds = new ArrayList<>();
    if (pipelines.isEmpty()) {
      missing.add("no pipeline of " + commit + " on " + branch);
      return new CiLook(builds, failed, running, missing);
    }
    Map<String, JsonNode> workflows = new LinkedHashMap<>();
    List<String> unstarted = new ArrayList<>();
    List<String> errored = new ArrayList<>();
    for (JsonNode p : pipelines) {
      String id = p.path("id").asText();
      List<JsonNode> runs = items("/pipeline/" + id + "/workflow");
      for (JsonNode w : runs) {
        workflows.merge(w.path("name").asText(), w, (a, b) -> newer(a, b) ? a : b);
      }
      if (runs.isEmpty()) {
        String state = p.path("state").asText("?");
        String label = "pipeline #" + p.path("number").asText("?");
        if (state.equals("errored")) {
          List<String> why = new ArrayList<>();
          p.path("errors").forEach(e -> why.add(e.path("message").asText()));
          errored.add(label + " errored" + (why.isEmpty() ? "" : ": " + String.join("; ", why)));
        } else {
          unstarted.add(label + " (" + state + ", no workflow yet)");
        }
      }
    }
    Map<String, List<JsonNode>> jobs = new HashMap<>();
    if (required.isEmpty()) {
      for (JsonNode w : workflows.values()) {
        workflow(w, jobs, builds, failed, running);
      }
      failed.addAll(errored);
      if (workflows.isEmpty()) {
        running.addAll(unstarted);
      }
      return new CiLook(builds, failed, running, missing);
    }
    for (String name : required) {
      JsonNode w = workflows.get(name);
      if (w != null) {
        workflow(w, jobs, builds, failed, running);
        continue;
      }
      JsonNode job = job(name, workflows.values(), jobs);
      if (job != null) {
        String status = job.path("status").asText("?");
        builds.add(new CiBuild(name, status, jobUrl(job)));
        if (JOB_BROKEN.contains(status) || status.equals("canceled") || status.equals("not_run")) {
          failed.add("job " + name + " " + status);
        } else if (!status.equals("success")) {
          running.add("job " + name + " (" + status + ")");
        }
        continue;
      }
      missing.add(name);
    }
    if (!missing.isEmpty()) {
      // A required build that never appears because the pipeline broke will not come.
      failed.addAll(errored);
      running.addAll(unstarted);
    }
    return new CiLook(builds, failed, running, missing);
  }

  private void workflow(
      JsonNode w,
      Map<String, List<JsonNode>> jobs,
      List<CiBuild> builds,
      List<String> failed,
      List<String> running) {
    String name = w.path("name").asText();
    String status = w.path("status").asText("?");
    builds.add(new CiBuild(name, status, api.root() + "/workflow/" + w.path("id").asText()));
    if (status.equals("success")) {
      return;
    }
    if (WORKFLOW_WAITING.contains(status)) {
      running.add(name + " (" + status + ")");
      return;
    }
    // failed, error, failing (a job failed, others still run), canceled, not_run, unauthorized:
    // none of them becomes a success without someone rerunning it.
    List<String> bad = new ArrayList<>();
    List<String> canceled = new ArrayList<>();
    for (JsonNode j : jobsOf(w, jobs)) {
      String s = j.path("status").asText();
      String line = j.path("name").asText() + " (" + s + ")";
      if (JOB_BROKEN.contains(s)) {
        bad.add(line);
      } else if (s.equals("canceled")) {
        canceled.add(line);
      }
    }
    if (bad.isEmpty()) {
      bad = canceled;
    }
    failed.add(
        "workflow "
            + name
            + " "
            + status
            + (bad.isEmpty() ? "" : ", failing jobs: " + String.join(", ", bad)));
  }

  /**
   * The newest run of a job of that name in the commit's workflows; a retried run is superseded.
   */
  private JsonNode job(
      String name, Iterable<JsonNode> workflows, Map<String, List<JsonNode>> jobs) {
    JsonNode found = null;
    for (JsonNode w : workflows) {
      for (JsonNode j : jobsOf(w, jobs)) {
        if (name.equals(j.path("name").asText())
            && !j.path("status").asText().equals("retried")
            && (found == null || newer(j, found))) {
          found = j;
        }
      }
    }
    return found;
  }

  private List<JsonNode> jobsOf(JsonNode w, Map<String, List<JsonNode>> jobs) {
    return jobs.computeIfAbsent(w.path("id").asText(), id -> items("/workflow/" + id + "/job"));
  }

  private String jobUrl(JsonNode job) {
    // The job's details by number (GET /project/{slug}/job/{number}); an approval has no number.
    return job.hasNonNull("job_number")
        ? api.root() + "/project/" + slug + "/job/" + job.path("job_number").asText()
        : "";
  }

  private List<JsonNode> pipelines() {
    List<JsonNode> found = new ArrayList<>();
    String token = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      JsonNode n =
          api.get(
              firstPath(slug, branch) + (token == null ? "" : "&page-token=" + Api.encode(token)));
      for (JsonNode p : n.path("items")) {
        String rev = p.path("vcs").path("revision").asText("").toLowerCase(Locale.ROOT);
        if (!rev.isEmpty() && rev.startsWith(commit)) {
          found.add(p);
        }
      }
      token = n.path("next_page_token").asText(null);
      // A commit's pipelines are next to each other in the newest-first list.
      if (!found.isEmpty() || token == null || token.isBlank()) {
        break;
      }
    }
    return found;
  }

  /** All items of a listing, following its pages (a workflow with many jobs has several). */
  private List<JsonNode> items(String path) {
    List<JsonNode> out = new ArrayList<>();
    String token = null;
    for (int page = 0; page < MAX_PAGES; page++) {
      JsonNode n = api.get(path + (token == null ? "" : "?page-token=" + Api.encode(token)));
      n.path("items").forEach(out::add);
      token = n.path("next_page_token").asText(null);
      if (token == null || token.isBlank()) {
        break;
      }
    }
    return out;
  }

  /** Whether {@code a} was created (or started) after {@code b}. */
  private static boolean newer(JsonNode a, JsonNode b) {
    return time(a).isAfter(time(b));
  }

  private static Instant time(JsonNode n) {
    String t = n.path("created_at").asText(n.path("started_at").asText(""));
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }
}
