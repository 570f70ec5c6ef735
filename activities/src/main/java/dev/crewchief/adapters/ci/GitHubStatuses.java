package dev.crewchief.adapters.ci;

import com.fasterxml.jackson.databind.JsonNode;
import dev.crewchief.activities.CiActivities.CiBuild;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GitHub's combined status of a commit ({@code GET /repos/{owner}/{repo}/commits/{ref}/status}):
 * the latest status of each context, {@code success}, {@code pending}, {@code failure} or {@code
 * error}. GitHub's combined {@code state} is "pending" both while a context runs and when there is
 * no status at all; the contexts themselves tell the two apart, and only the required ones count.
 */
final class GitHubStatuses implements CiService {
  private static final int PER_PAGE = 100;
  private static final int MAX_PAGES = 5;

  private final Api api;
  private final String project;
  private final String commit;
  private final List<String> required;

  GitHubStatuses(Api api, String project, String commit, List<String> required) {
    this.api = api;
    this.project = project;
    this.commit = commit;
    this.required = required;
  }

  static String firstPath(String project, String commit) {
    return "/repos/" + project + "/commits/" + commit + "/status?per_page=" + PER_PAGE;
  }

  @Override
  public CiLook look() {
    Map<String, JsonNode> contexts = new LinkedHashMap<>();
    for (int page = 1; page <= MAX_PAGES; page++) {
      JsonNode n = api.get(firstPath(project, commit) + "&page=" + page);
      int before = contexts.size();
      n.path("statuses").forEach(s -> contexts.putIfAbsent(s.path("context").asText(), s));
      if (contexts.size() == before || contexts.size() >= n.path("total_count").asInt(0)) {
        break;
      }
    }
    List<CiBuild> builds = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    List<String> running = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    List<JsonNode> counted = new ArrayList<>();
    if (required.isEmpty()) {
      counted.addAll(contexts.values());
      if (counted.isEmpty()) {
        missing.add("no status of " + commit);
      }
    } else {
      for (String name : required) {
        JsonNode s = contexts.get(name);
        if (s == null) {
          missing.add(name);
        } else {
          counted.add(s);
        }
      }
    }
    for (JsonNode s : counted) {
      String name = s.path("context").asText();
      String state = s.path("state").asText("?");
      String url = s.path("target_url").asText("");
      builds.add(new CiBuild(name, state, url));
      String description = s.path("description").asText("");
      String line =
          name
              + " "
              + state
              + (description.isBlank() ? "" : " (" + description + ")")
              + (url.isBlank() ? "" : " " + url);
      if (state.equals("failure") || state.equals("error")) {
        failed.add(line);
      } else if (!state.equals("success")) {
        running.add(line);
      }
    }
    return new CiLook(builds, failed, running, missing);
  }
}
