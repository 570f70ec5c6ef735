package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.WebhookRequest;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.webhook.HttpWebhookActivities;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The webhook adapter against a real HTTP server (the JDK's, in this JVM, on a free port). */
class WebhookAdapterTest {
  static final String TOKEN = "tok-" + System.nanoTime();
  static final String AUTH = "Bearer " + TOKEN;
  static final String JSON =
      "{\"title\":\"Atmosphere v36-1\",\"start\":\"2019-06-16T15:00:00Z\",\"message\":\"m\"}";

  record Received(String method, String path, Map<String, List<String>> headers, String body) {
    String header(String name) {
      List<String> v = headers.get(name);
      return v == null ? null : String.join(",", v);
    }
  }

  HttpServer server;
  String url;
  final List<Received> received = new CopyOnWriteArrayList<>();
  final AtomicInteger status = new AtomicInteger(201);
  final AtomicReference<String> answer = new AtomicReference<>("{\"id\":\"mnt-1\"}");
  final HttpWebhookActivities webhook =
      new HttpWebhookActivities(
          new SecretResolver(Map.of("STATUS_PAGE_AUTH", AUTH)), HttpWebhookActivities.newClient());

  @BeforeEach
  void up() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/api/maintenances",
        exchange -> {
          byte[] in = exchange.getRequestBody().readAllBytes();
          received.add(
              new Received(
                  exchange.getRequestMethod(),
                  exchange.getRequestURI().getPath(),
                  Map.copyOf(exchange.getRequestHeaders()),
                  new String(in, StandardCharsets.UTF_8)));
          byte[] out = answer.get().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "application/json");
          exchange.sendResponseHeaders(status.get(), out.length);
          exchange.getResponseBody().write(out);
          exchange.close();
        });
    server.start();
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/api/maintenances";
  }

  @AfterEach
  void down() {
    server.stop(0);
  }

  WebhookRequest request(String url, String authRef, boolean dryRun) {
    return new WebhookRequest(
        "status page", url, authRef, "release-atmosphere-prod-36-1-window", JSON, dryRun);
  }

  @Test
  void postsTheBodyWithItsHeaders() {
    ActionResult r = webhook.post(request(url, "env:STATUS_PAGE_AUTH", false));

    assertFalse(r.rehearsed());
    assertEquals("201 {\"id\":\"mnt-1\"}", r.output());
    assertEquals(1, received.size());
    Received got = received.get(0);
    assertEquals("POST", got.method());
    assertEquals("/api/maintenances", got.path());
    assertEquals(JSON, got.body());
    assertEquals("application/json", got.header("Content-type"));
    assertEquals("release-atmosphere-prod-36-1-window", got.header("Idempotency-key"));
    assertEquals(AUTH, got.header("Authorization"));
    assertFalse(r.toString().contains(TOKEN), r.toString());
    assertTrue(r.action().contains("Authorization: <env:STATUS_PAGE_AUTH>"), r.action());
  }

  @Test
  void withoutAReferenceNoAuthorizationIsSent() {
    webhook.post(request(url, null, false));
    assertEquals(1, received.size());
    assertEquals(null, received.get(0).header("Authorization"));
  }

  @Test
  void badRequestIsRejectedNonRetryableWithStatusAndBodyTail() {
    status.set(400);
    // A receiver that echoes the header back: the token must not reach the failure's message.
    answer.set("{\"error\":\"start must be in the future\",\"auth\":\"" + AUTH + "\"}");
    ApplicationFailure f =
        assertFailure(
            "WebhookRejected", () -> webhook.post(request(url, "env:STATUS_PAGE_AUTH", false)));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("400"), f.getOriginalMessage());
    assertTrue(
        f.getOriginalMessage().contains("start must be in the future"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(TOKEN), f.getOriginalMessage());
  }

  @Test
  void serviceUnavailableIsUnreachableAndRetryable() {
    status.set(503);
    answer.set("down for maintenance");
    ApplicationFailure f =
        assertFailure(
            "WebhookUnreachable", () -> webhook.post(request(url, "env:STATUS_PAGE_AUTH", false)));
    assertFalse(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("503"), f.getOriginalMessage());
  }

  @Test
  void closedPortIsUnreachableAndRetryable() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    ApplicationFailure f =
        assertFailure(
            "WebhookUnreachable",
            () ->
                webhook.post(
                    request("http://127.0.0.1:" + closed + "/api", "env:STATUS_PAGE_AUTH", false)));
    assertFalse(f.isNonRetryable());
  }

  @Test
  void dryRunSendsNothingAndShowsNoSecret() {
    ActionResult r = webhook.post(request(url, "env:STATUS_PAGE_AUTH", true));
    assertTrue(r.rehearsed());
    assertEquals(0, received.size());
    assertFalse(r.toString().contains(TOKEN), r.toString());
    assertTrue(r.action().startsWith("POST " + url + "\n"), r.action());
    assertTrue(r.action().contains("Idempotency-Key: release-atmosphere-prod-36-1-window"));
    assertTrue(r.action().endsWith("\n\n" + JSON), r.action());

    // A header the real post could not find fails the rehearsal, naming the reference.
    ApplicationFailure unset =
        assertFailure(
            "SecretUnresolved", () -> webhook.post(request(url, "env:UNSET_STATUS_TOKEN", true)));
    assertTrue(
        unset.getOriginalMessage().contains("env:UNSET_STATUS_TOKEN"), unset.getOriginalMessage());
    assertEquals(0, received.size());
  }

  @Test
  void invalidInputIsRefusedBeforeSending() {
    assertFailure("InvalidInput", () -> webhook.post(request("ftp://example.org/x", null, false)));
    ApplicationFailure f =
        assertFailure(
            "InvalidInput",
            () -> webhook.post(request(url.replace("//", "//user:hunter2-secret@"), null, false)));
    assertFalse(f.getOriginalMessage().contains("hunter2-secret"));
    ApplicationFailure pasted =
        assertFailure("InvalidInput", () -> webhook.post(request(url, AUTH, false)));
    assertFalse(pasted.getOriginalMessage().contains(TOKEN));
    assertFailure(
        "InvalidInput",
        () -> webhook.post(new WebhookRequest("s", url, null, "key\r\nX-Evil: 1", JSON, false)));
    assertFailure(
        "InvalidInput",
        () -> webhook.post(new WebhookRequest("s", url, null, "k", "not json", false)));
    assertEquals(0, received.size());
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }
}
