package dev.crewchief.adapters.redmine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.crewchief.activities.Progress;
import dev.crewchief.activities.RedmineActivities;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RedmineActivities} through Redmine's REST API (JSON) with the JDK's {@link HttpClient}.
 *
 * <p>The key is checked first with {@code GET /users/current.json}: Redmine treats a request with
 * an unknown key as anonymous, so a public project would otherwise be readable and the failure
 * would only show at the first update. Status names are looked up in {@code /issue_statuses.json}
 * before anything changes, because Redmine answers 204 to an update with an unknown or
 * workflow-forbidden status and silently keeps the old one; for the same reason every update is
 * read back ({@code GET /issues/{id}.json?include=journals}) and a status that did not change is a
 * non-retryable {@code RedmineConfig} naming the workflow to fix.
 *
 * <p>Idempotent by construction: only issues still in {@code fromStatus} are listed, so a retry
 * does not touch the ones a failed attempt already closed ({@code closed} then lists the ones this
 * attempt closed). Answers are never put in messages whole: {@code /users/current.json} carries the
 * API key.
 */
public final class RedmineRestActivities implements RedmineActivities {
  private static final Logger log = LoggerFactory.getLogger(RedmineRestActivities.class);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final int PAGE = 100;
  private static final Pattern HEADER_VALUE = Pattern.compile("[\\x21-\\x7e]+");

  private final SecretResolver secrets;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();

  public RedmineRestActivities(SecretResolver secrets, HttpClient http) {
    this.secrets = secrets;
    this.http = http;
  }

  /** A client with a 30 s connect timeout that does not follow redirects (the key would go too). */
  public static HttpClient newClient() {
    return HttpClient.newBuilder()
        .connectTimeout(REQUEST_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  @Override
  public Closed closeTickets(CloseRequest r) {
    URI base = validate(r);
    if (r.dryRun()) {
      // Listing the tickets needs the key, which a dry run does not read.
      return new Closed(List.of(), List.of(), true);
    }
    String key = secrets.resolve(r.apiKeyRef(), "the Redmine API key of step " + r.step()).strip();
    if (!HEADER_VALUE.matcher(key).matches()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "secret "
              + r.apiKeyRef()
              + " for the Redmine API key of step "
              + r.step()
              + " is empty or not a single word of visible ASCII",
          "SecretUnresolved");
    }
    Api api = new Api(base, key, r.apiKeyRef());
    return ActivityIo.whileHeartbeating("closing tickets: " + r.step(), () -> close(api, r));
  }

  private Closed close(Api api, CloseRequest r) {
    api.get("/users/current.json");
    Map<String, Integer> statuses = new LinkedHashMap<>();
    for (JsonNode s : api.get("/issue_statuses.json").path("issue_statuses")) {
      statuses.put(s.path("name").asText(), s.path("id").asInt());
    }
    int from = status(statuses, r.fromStatus(), api);
    int to = status(statuses, r.toStatus(), api);
    String project = api.project(r.project());

    List<Integer> found = new ArrayList<>();
    for (int offset = 0; ; offset += PAGE) {
      JsonNode page =
          api.get(
              "/issues.json?project_id="
                  + enc(project)
                  + "&status_id="
                  + from
                  + "&sort=id&limit="
                  + PAGE
                  + "&offset="
                  + offset);
      JsonNode issues = page.path("issues");
      issues.forEach(i -> found.add(i.path("id").asInt()));
      if (issues.size() < PAGE || offset + PAGE >= page.path("total_count").asInt()) {
        break;
      }
    }
    log.info(
        "step '{}': {} issue(s) of {} in '{}': {}",
        r.step(),
        found.size(),
        r.project(),
        r.fromStatus(),
        found);

    List<Integer> closed = new ArrayList<>();
    for (int id : found) {
      ObjectNode issue = json.createObjectNode();
      issue.put("status_id", to);
      if (r.note() != null && !r.note().isBlank()) {
        issue.put("notes", r.note());
      }
      ObjectNode body = json.createObjectNode();
      body.set("issue", issue);
      int code = api.put("/issues/" + id + ".json", body.toString());
      if (code == 404) {
        log.warn("step '{}': issue #{} disappeared before it was closed", r.step(), id);
        continue;
      }
      verify(api, r, id, to);
      closed.add(id);
      ActivityIo.heartbeat(
          new Progress(closed.size(), found.size(), "issues", "closed #" + id + " in " + project));
    }
    return new Closed(List.copyOf(closed), List.copyOf(found), false);
  }

  private void verify(Api api, CloseRequest r, int id, int to) {
    JsonNode issue = api.get("/issues/" + id + ".json?include=journals").path("issue");
    if (issue.path("status").path("id").asInt() != to) {
      throw ApplicationFailure.newNonRetryableFailure(
          "Redmine kept issue #"
              + id
              + " in status '"
              + issue.path("status").path("name").asText()
              + "' instead of '"
              + r.toStatus()
              + "': allow the transition '"
              + r.fromStatus()
              + "' -> '"
              + r.toStatus()
              + "' for the API user's role and the issue's tracker in Administration > Workflow",
          "RedmineConfig");
    }
    if (r.note() != null && !r.note().isBlank()) {
      boolean noted = false;
      for (JsonNode j : issue.path("journals")) {
        noted |= r.note().strip().equals(j.path("notes").asText().strip());
      }
      if (!noted) {
        throw ApplicationFailure.newFailure(
            "issue #" + id + " was closed but its journal lacks the note", "RedmineUnreachable");
      }
    }
  }

  private static int status(Map<String, Integer> statuses, String name, Api api) {
    Integer id = statuses.get(name);
    if (id == null) {
      id =
          statuses.entrySet().stream()
              .filter(e -> e.getKey().equalsIgnoreCase(name))
              .map(Map.Entry::getValue)
              .findFirst()
              .orElse(null);
    }
    if (id == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "Redmine at "
              + api.base
              + " has no issue status '"
              + name
              + "'; it has: "
              + String.join(", ", statuses.keySet())
              + ". Configure one of these",
          "RedmineConfig");
    }
    return id;
  }

  private static URI validate(CloseRequest r) {
    URI uri;
    try {
      uri = new URI(r.url() == null ? "" : r.url().replaceAll("/+$", ""));
    } catch (URISyntaxException e) {
      throw invalid("Redmine URL of step " + r.step() + " is not a URL: " + e.getReason());
    }
    if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())
        || uri.getHost() == null
        || uri.getRawUserInfo() != null
        || uri.getRawQuery() != null) {
      throw invalid(
          "Redmine URL of step "
              + r.step()
              + " must be an absolute http(s) URL without credentials or query, such as"
              + " https://redmine.example.org");
    }
    if (!SecretResolver.wellFormed(r.apiKeyRef())) {
      throw invalid(
          "the Redmine API key reference of step "
              + r.step()
              + " is not of the form file:/path or env:NAME: configure a reference, never the key");
    }
    for (String[] field :
        new String[][] {
          {"project", r.project()}, {"fromStatus", r.fromStatus()}, {"toStatus", r.toStatus()}
        }) {
      if (field[1] == null || field[1].isBlank()) {
        throw invalid(field[0] + " of step " + r.step() + " is empty");
      }
    }
    return uri;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  /** One Redmine with one key; every message names the reference, never the key. */
  private final class Api {
    final URI base;
    final String key;
    final String ref;

    Api(URI base, String key, String ref) {
      this.base = base;
      this.key = key;
      this.ref = ref;
    }

    /** The project's identifier, or RedmineConfig listing the ones the key can see. */
    String project(String project) {
      HttpResponse<String> res = send(request("/projects/" + enc(project) + ".json").GET());
      if (res.statusCode() == 404 || res.statusCode() == 403) {
        List<String> names = new ArrayList<>();
        for (JsonNode p : get("/projects.json?limit=100").path("projects")) {
          names.add(p.path("identifier").asText() + " (" + p.path("name").asText() + ")");
        }
        throw ApplicationFailure.newNonRetryableFailure(
            "Redmine at "
                + base
                + " has no project '"
                + project
                + "' that the key from "
                + ref
                + " may see; it has: "
                + String.join(", ", names),
            "RedmineConfig");
      }
      check(res, "/projects/" + project + ".json");
      return parse(res.body(), "/projects/" + project + ".json")
          .path("project")
          .path("identifier")
          .asText(project);
    }

    JsonNode get(String path) {
      HttpResponse<String> res = send(request(path).GET());
      check(res, path);
      return parse(res.body(), path);
    }

    JsonNode parse(String body, String path) {
      try {
        return json.readTree(body);
      } catch (IOException e) {
        throw ApplicationFailure.newNonRetryableFailure(
            base + path + " did not answer JSON: check that the URL is Redmine's", "RedmineConfig");
      }
    }

    /** The answer's status: 2xx, or 404 for the caller to handle; anything else throws. */
    int put(String path, String body) {
      HttpResponse<String> res =
          send(
              request(path)
                  .header("Content-Type", "application/json")
                  .PUT(HttpRequest.BodyPublishers.ofString(body)));
      if (res.statusCode() == 404) {
        return 404;
      }
      if (res.statusCode() == 422) {
        throw ApplicationFailure.newNonRetryableFailure(
            "Redmine refused the update of "
                + path
                + ": "
                + scrub(errors(res.body()))
                + " (check the status names and the issue's required fields)",
            "RedmineConfig");
      }
      check(res, path);
      return res.statusCode();
    }

    private String errors(String body) {
      try {
        List<String> list = new ArrayList<>();
        json.readTree(body).path("errors").forEach(e -> list.add(e.asText()));
        return list.isEmpty() ? "422" : String.join("; ", list);
      } catch (IOException e) {
        return "422";
      }
    }

    private void check(HttpResponse<String> res, String path) {
      int code = res.statusCode();
      if (code >= 200 && code < 300) {
        return;
      }
      if (code == 401 || code == 403) {
        throw ApplicationFailure.newNonRetryableFailure(
            "Redmine at "
                + base
                + " refused the API key from "
                + ref
                + " ("
                + code
                + " for "
                + path
                + "): put a valid key of a user allowed to edit the issues there, and check that"
                + " the REST API is enabled (Administration > Settings > API)",
            "RedmineAuth");
      }
      if (code == 408 || code == 429 || code >= 500) {
        throw ApplicationFailure.newFailure(
            "Redmine at " + base + " answered " + code + " for " + path + ", try again later",
            "RedmineUnreachable");
      }
      throw ApplicationFailure.newNonRetryableFailure(
          "Redmine at " + base + " answered " + code + " for " + path + ": check the URL",
          "RedmineConfig");
    }

    private HttpRequest.Builder request(String path) {
      return HttpRequest.newBuilder(URI.create(base + path))
          .timeout(REQUEST_TIMEOUT)
          .header("Accept", "application/json")
          .header("X-Redmine-API-Key", key);
    }

    private HttpResponse<String> send(HttpRequest.Builder b) {
      HttpRequest request = b.build();
      try {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw ApplicationFailure.newFailure(
            "cannot reach Redmine at "
                + base
                + " ("
                + request.method()
                + " "
                + request.uri().getPath()
                + "): "
                + scrub(String.valueOf(e)),
            "RedmineUnreachable");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
    }

    private String scrub(String text) {
      return text.replace(key, "***");
    }
  }
}
