package dev.crewchief.adapters.redmine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.crewchief.activities.RedmineActivities.CloseRequest;
import dev.crewchief.activities.RedmineActivities.Closed;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Closing tickets in Debian's Redmine ({@link RedmineServer}); what Redmine did is read back
 * through its REST API with the admin's key.
 */
class RedmineAdapterTest {
  static final String NOTE = "Released in ENCODE v142.0";
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static RedmineServer redmine;

  @BeforeAll
  static void up() throws Exception {
    redmine = RedmineServer.get();
  }

  static RedmineRestActivities adapter(String key) {
    return new RedmineRestActivities(
        new SecretResolver(Map.of("REDMINE_KEY", key)), RedmineRestActivities.newClient());
  }

  static CloseRequest request(String toStatus, boolean dryRun) {
    return new CloseRequest(
        "close-tickets",
        redmine.url,
        "env:REDMINE_KEY",
        "encode",
        "Release Ready",
        toStatus,
        NOTE,
        dryRun);
  }

  @Test
  void closesTheReleaseReadyTicketsOnceAndReadsThemBack() throws Exception {
    int ready1 = newIssue("portal: facet counts", "Release Ready");
    int ready2 = newIssue("portal: cart download", "Release Ready");
    int other = newIssue("portal: still in progress", "New");

    Closed rehearsal = adapter(redmine.apiKey).closeTickets(request("Closed", true));
    assertTrue(rehearsal.rehearsed());
    assertEquals("Release Ready", issue(ready1).path("status").path("name").asText());

    Closed done = adapter(redmine.apiKey).closeTickets(request("Closed", false));
    assertEquals(List.of(ready1, ready2), done.found());
    assertEquals(List.of(ready1, ready2), done.closed());
    for (int id : List.of(ready1, ready2)) {
      JsonNode issue = issue(id);
      assertEquals("Closed", issue.path("status").path("name").asText());
      assertTrue(
          notes(issue).contains(NOTE), "journal of #" + id + " has the note: " + notes(issue));
    }
    assertEquals("New", issue(other).path("status").path("name").asText());
    assertFalse(notes(issue(other)).contains(NOTE));

    Closed again = adapter(redmine.apiKey).closeTickets(request("Closed", false));
    assertEquals(List.of(), again.found());
    assertEquals(List.of(), again.closed());
    assertEquals(1, notes(issue(ready1)).stream().filter(NOTE::equals).count());
  }

  @Test
  void aWrongKeyIsRedmineAuthWithoutTheKey() {
    String wrong = "0123456789abcdef0123456789abcdef01234567";
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class, () -> adapter(wrong).closeTickets(request("Closed", false)));
    assertEquals("RedmineAuth", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("env:REDMINE_KEY"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(wrong));
    assertFalse(f.getOriginalMessage().contains(redmine.apiKey));
  }

  @Test
  void anUnknownStatusNameIsRedmineConfigListingTheNames() {
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> adapter(redmine.apiKey).closeTickets(request("Shipped", false)));
    assertEquals("RedmineConfig", f.getType());
    assertTrue(f.isNonRetryable());
    for (String name : List.of("Shipped", "New", "Release Ready", "Closed", "Rejected")) {
      assertTrue(f.getOriginalMessage().contains(name), f.getOriginalMessage());
    }
    assertFalse(f.getOriginalMessage().contains(redmine.apiKey));
  }

  @Test
  void anUnknownProjectIsRedmineConfigListingTheProjects() {
    CloseRequest r = request("Closed", false);
    CloseRequest wrong =
        new CloseRequest(
            r.step(), r.url(), r.apiKeyRef(), "encoded", r.fromStatus(), r.toStatus(), NOTE, false);
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> adapter(redmine.apiKey).closeTickets(wrong));
    assertEquals("RedmineConfig", f.getType());
    assertTrue(f.getOriginalMessage().contains("encode (ENCODE portal)"), f.getOriginalMessage());
  }

  @Test
  void aTransitionTheWorkflowForbidsIsCaughtByTheReadBack() throws Exception {
    // Redmine answers 204 and keeps the status when its workflow has no such transition (the seed
    // allows Release Ready -> Closed only).
    int ready = newIssue("portal: rejected by workflow", "Release Ready");
    try {
      ApplicationFailure f =
          assertThrows(
              ApplicationFailure.class,
              () -> adapter(redmine.apiKey).closeTickets(request("Rejected", false)));
      assertEquals("RedmineConfig", f.getType());
      assertTrue(f.isNonRetryable());
      assertTrue(f.getOriginalMessage().contains("#" + ready), f.getOriginalMessage());
      assertTrue(f.getOriginalMessage().contains("Workflow"), f.getOriginalMessage());
      assertEquals("Release Ready", issue(ready).path("status").path("name").asText());
    } finally {
      // Out of the way of the other tests, which count the Release Ready issues.
      String close = JSON.writeValueAsString(Map.of("issue", Map.of("status_id", closedId())));
      assertEquals(204, send("PUT", "/issues/" + ready + ".json", close).statusCode());
    }
  }

  static int closedId() throws Exception {
    for (JsonNode s : get("/issue_statuses.json").path("issue_statuses")) {
      if (s.path("name").asText().equals("Closed")) {
        return s.path("id").asInt();
      }
    }
    throw new AssertionError("no Closed status");
  }

  // --- Redmine's REST API, with the admin's key, to set up and read back ---

  static int newIssue(String subject, String status) throws Exception {
    String body =
        JSON.writeValueAsString(
            Map.of("issue", Map.of("project_id", "encode", "subject", subject)));
    HttpResponse<String> created = send("POST", "/issues.json", body);
    assertEquals(201, created.statusCode(), created.body());
    int id = JSON.readTree(created.body()).path("issue").path("id").asInt();
    if (!"New".equals(status)) {
      int statusId = -1;
      for (JsonNode s : get("/issue_statuses.json").path("issue_statuses")) {
        if (s.path("name").asText().equals(status)) {
          statusId = s.path("id").asInt();
        }
      }
      String update = JSON.writeValueAsString(Map.of("issue", Map.of("status_id", statusId)));
      assertEquals(204, send("PUT", "/issues/" + id + ".json", update).statusCode());
      assertEquals(status, issue(id).path("status").path("name").asText());
    }
    return id;
  }

  static JsonNode issue(int id) throws Exception {
    return get("/issues/" + id + ".json?include=journals").path("issue");
  }

  static List<String> notes(JsonNode issue) {
    List<String> notes = new java.util.ArrayList<>();
    issue.path("journals").forEach(j -> notes.add(j.path("notes").asText()));
    return notes;
  }

  static JsonNode get(String path) throws Exception {
    HttpResponse<String> r = send("GET", path, null);
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return JSON.readTree(r.body());
  }

  static HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(redmine.url + path))
            .header("X-Redmine-API-Key", redmine.apiKey)
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
