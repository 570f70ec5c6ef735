package dev.crewchief.adapters.webhook;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.WebhookActivities;
import dev.crewchief.activities.WebhookRequest;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link WebhookActivities} with the JDK's {@link HttpClient}.
 *
 * <p>One attempt is one POST. The {@code Idempotency-Key} header carries the request's key, the
 * same on every attempt, so that a receiver which honours it (Stripe-style APIs, most status-page
 * and incident tools) acts once even when a retry follows a lost answer. Redirects are not
 * followed: a redirected POST may arrive as a GET without its body, or carry the {@code
 * Authorization} header to another host; a 3xx is refused with the place to configure instead.
 *
 * <p>Answers are classified so that retries go where they can help: 2xx is success; 408, 429 and
 * 5xx, like connection errors and timeouts, are {@code WebhookUnreachable} and retried; any other
 * status is {@code WebhookRejected}, not retried, with the status and the end of the answer's body
 * (the receiver's reason). The {@code Authorization} value is resolved only for a real post and is
 * never logged, returned or put in a message.
 */
public final class HttpWebhookActivities implements WebhookActivities {
  private static final Logger log = LoggerFactory.getLogger(HttpWebhookActivities.class);
  // Long enough for a slow status page, short enough that a hung one fails the attempt (and is
  // retried) well within the step's start-to-close timeout.
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final int TAIL = 500;
  // Visible ASCII, as header values allow without folding; no CR or LF (header injection).
  private static final Pattern HEADER_VALUE =
      Pattern.compile("[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?");

  private final SecretResolver secrets;
  private final HttpClient http;

  /**
   * @param http the client to post with; {@link #newClient()} makes one as intended (connect
   *     timeout, no redirects)
   */
  public HttpWebhookActivities(SecretResolver secrets, HttpClient http) {
    this.secrets = secrets;
    this.http = http;
  }

  /** A client with a 30 s connect timeout that does not follow redirects. */
  public static HttpClient newClient() {
    return HttpClient.newBuilder()
        .connectTimeout(REQUEST_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  @Override
  public ActionResult post(WebhookRequest r) {
    // The send blocks on the network for up to its own timeouts; the heartbeats meanwhile let the
    // step's heartbeat timeout tell a lost worker from a slow server.
    return ActivityIo.whileHeartbeating("posting: " + r.step(), () -> postNow(r));
  }

  private ActionResult postNow(WebhookRequest r) {
    URI uri = validate(r);
    String action =
        "POST "
            + uri
            + "\nContent-Type: application/json\nIdempotency-Key: "
            + r.idempotencyKey()
            + (r.authHeaderRef() == null ? "" : "\nAuthorization: <" + r.authHeaderRef() + ">")
            + "\n\n"
            + r.jsonBody();
    if (r.dryRun()) {
      if (r.authHeaderRef() != null) {
        authorization(r); // the real post's header must resolve on this worker
      }
      return new ActionResult(action, true, "");
    }

    String auth = r.authHeaderRef() == null ? null : authorization(r);
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(REQUEST_TIMEOUT)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .header("Idempotency-Key", r.idempotencyKey())
            .POST(HttpRequest.BodyPublishers.ofString(r.jsonBody()));
    if (auth != null) {
      b.header("Authorization", auth);
    }
    log.info("step '{}': POST {} (Idempotency-Key {})", r.step(), uri, r.idempotencyKey());
    HttpResponse<String> response;
    try {
      response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot reach "
              + uri
              + ": "
              + e.getClass().getSimpleName()
              + " "
              + scrub(String.valueOf(e.getMessage()), auth),
          "WebhookUnreachable");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }

    int status = response.statusCode();
    String tail = scrub(tail(response.body()), auth);
    log.info("step '{}': POST {} answered {}", r.step(), uri, status);
    if (status >= 200 && status < 300) {
      return new ActionResult(action, false, status + " " + tail);
    }
    if (status == 408 || status == 429 || status >= 500) {
      throw ApplicationFailure.newFailure(
          uri + " answered " + status + ", try again later: " + tail, "WebhookUnreachable");
    }
    if (status >= 300 && status < 400) {
      throw ApplicationFailure.newNonRetryableFailure(
          uri
              + " answered "
              + status
              + " (redirect to "
              + response.headers().firstValue("Location").orElse("?")
              + "): configure the final URL, redirects are not followed",
          "WebhookRejected");
    }
    throw ApplicationFailure.newNonRetryableFailure(
        uri
            + " rejected the request with "
            + status
            + ": "
            + tail
            + (status == 401 || status == 403
                ? " (check the token in " + r.authHeaderRef() + ")"
                : " (check the URL and the JSON body)"),
        "WebhookRejected");
  }

  private static URI validate(WebhookRequest r) {
    URI uri;
    try {
      uri = new URI(r.url() == null ? "" : r.url());
    } catch (URISyntaxException e) {
      throw invalid("webhook URL of step " + r.step() + " is not a URL: " + e.getReason());
    }
    if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())
        || uri.getHost() == null) {
      throw invalid(
          "webhook URL of step "
              + r.step()
              + " must be an absolute http(s) URL with a host, such as"
              + " https://status.example.org/api");
    }
    if (uri.getRawUserInfo() != null) {
      // Not repeated: user info in a URL is a credential, and the URL is in the history already.
      throw invalid(
          "the webhook URL of step "
              + r.step()
              + " carries credentials: remove them from the URL and configure authHeaderRef");
    }
    if (uri.getRawFragment() != null) {
      throw invalid("webhook URL " + uri + " has a #fragment, which is never sent: remove it");
    }
    if (r.authHeaderRef() != null && !SecretResolver.wellFormed(r.authHeaderRef())) {
      throw invalid(
          "the Authorization reference of step "
              + r.step()
              + " is not of the form file:/path or env:NAME: configure a reference, never the"
              + " token itself");
    }
    if (r.idempotencyKey() == null
        || r.idempotencyKey().length() > 255
        || !HEADER_VALUE.matcher(r.idempotencyKey()).matches()) {
      throw invalid(
          "idempotency key '"
              + r.idempotencyKey()
              + "' of step "
              + r.step()
              + " must be 1-255 visible ASCII characters, derived from the release id");
    }
    String json = r.jsonBody() == null ? "" : r.jsonBody().strip();
    if (!(json.startsWith("{") && json.endsWith("}"))
        && !(json.startsWith("[") && json.endsWith("]"))) {
      throw invalid("the body of step " + r.step() + " is not a JSON object or array");
    }
    return uri;
  }

  private String authorization(WebhookRequest r) {
    String value =
        secrets
            .resolve(r.authHeaderRef(), "the Authorization header of " + r.step())
            .replaceAll("[\r\n]+$", "");
    if (!HEADER_VALUE.matcher(value).matches()) {
      // Not repeated: it is the secret.
      throw ApplicationFailure.newNonRetryableFailure(
          "secret "
              + r.authHeaderRef()
              + " for the Authorization header of "
              + r.step()
              + " is empty or not a single line of visible ASCII (such as 'Bearer <token>')",
          "SecretUnresolved");
    }
    return value;
  }

  private static String tail(String body) {
    String s = body == null ? "" : body.replaceAll("\\s+", " ").strip();
    return s.length() <= TAIL ? s : "..." + s.substring(s.length() - TAIL);
  }

  private static String scrub(String text, String secret) {
    if (secret == null) {
      return text;
    }
    String t = text.replace(secret, "***");
    // The token alone, without its scheme ("Bearer "), is secret too.
    int space = secret.indexOf(' ');
    String token = space > 0 ? secret.substring(space + 1).strip() : "";
    return token.length() >= 4 ? t.replace(token, "***") : t;
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
