package dev.crewchief.adapters.ci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GETs JSON from a CI service's API with its token, and turns what can go wrong into the failure
 * types of {@link dev.crewchief.activities.CiActivities}: an unreachable service, a timeout, 408,
 * 429 and 5xx (and GitHub's exhausted rate limit, which it answers with 403) are {@code
 * CiUnreachable} and retried; 401 and 403 are {@code CiAuthFailed}; 404 is a project the token
 * cannot see; anything else is not retried, with the service's own message.
 *
 * <p>Redirects are followed by hand, and only on the API's own host: the token goes in a header,
 * and an {@link HttpClient} that follows redirects would send it to any host the answer names.
 */
final class CiHttp {
  private static final Logger log = LoggerFactory.getLogger(CiHttp.class);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final int MAX_REDIRECTS = 5;
  private static final int TAIL = 300;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;

  CiHttp(HttpClient http) {
    this.http = http;
  }

  /**
   * @param headers the request's headers, the token's among them (never logged or repeated)
   * @param tokenRef where the token came from, to name in a message about it
   */
  JsonNode get(URI uri, Map<String, String> headers, String tokenRef, String secret) {
    URI at = uri;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder b = HttpRequest.newBuilder(at).timeout(REQUEST_TIMEOUT).GET();
      headers.forEach(b::header);
      HttpResponse<String> res;
      try {
        log.debug("GET {}", at);
        res = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw ApplicationFailure.newFailure(
            "cannot reach the CI API at "
                + at
                + ": "
                + e.getClass().getSimpleName()
                + " "
                + scrub(String.valueOf(e.getMessage()), secret),
            "CiUnreachable");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
      int status = res.statusCode();
      if (status >= 300 && status < 400 && res.headers().firstValue("Location").isPresent()) {
        URI next = at.resolve(res.headers().firstValue("Location").get());
        if (!sameOrigin(uri, next)) {
          throw ApplicationFailure.newNonRetryableFailure(
              at
                  + " redirects to "
                  + next.getScheme()
                  + "://"
                  + next.getAuthority()
                  + ", another host: the token is not sent there; configure the API URL that"
                  + " answers itself",
              "InvalidInput");
        }
        at = next;
        continue;
      }
      return read(at, res, tokenRef, secret);
    }
    throw ApplicationFailure.newNonRetryableFailure(
        uri + " redirected more than " + MAX_REDIRECTS + " times: check the API URL",
        "InvalidInput");
  }

  private static JsonNode read(URI uri, HttpResponse<String> res, String tokenRef, String secret) {
    int status = res.statusCode();
    String tail = scrub(tail(res.body()), secret);
    if (status == 200) {
      try {
        return JSON.readTree(res.body() == null ? "" : res.body());
      } catch (IOException e) {
        // A proxy's or a maintenance page's HTML: the API itself is not answering.
        throw ApplicationFailure.newFailure(uri + " did not answer JSON: " + tail, "CiUnreachable");
      }
    }
    boolean rateLimited =
        (status == 403 || status == 429)
            && (res.headers().firstValue("Retry-After").isPresent()
                || "0".equals(res.headers().firstValue("X-RateLimit-Remaining").orElse(null)));
    if (status == 408 || status == 429 || status >= 500 || rateLimited) {
      throw ApplicationFailure.newFailure(
          uri
              + " answered "
              + status
              + (rateLimited ? " (rate limit reached)" : "")
              + ", try again later: "
              + tail,
          "CiUnreachable");
    }
    if (status == 401 || status == 403) {
      throw ApplicationFailure.newNonRetryableFailure(
          uri
              + " refused the token"
              + (tokenRef == null ? " (none was configured)" : " from " + tokenRef)
              + " with "
              + status
              + ": "
              + tail
              + " (give the step a valid API token that can read the project)",
          "CiAuthFailed");
    }
    if (status == 404) {
      throw ApplicationFailure.newNonRetryableFailure(
          uri
              + " answered 404: "
              + tail
              + " (check the project, or whether the token can see it: private projects answer"
              + " 404 to tokens without access)",
          "InvalidInput");
    }
    if (status == 422) {
      throw ApplicationFailure.newNonRetryableFailure(
          uri + " answered 422: " + tail + " (is the commit pushed to the repository?)",
          "CiBuildMissing");
    }
    throw ApplicationFailure.newNonRetryableFailure(
        uri + " answered " + status + ": " + tail, "InvalidInput");
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(Objects.toString(b.getScheme(), ""))
        && a.getHost().equalsIgnoreCase(Objects.toString(b.getHost(), ""))
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  private static String tail(String body) {
    String s = body == null ? "" : body.replaceAll("\\s+", " ").strip();
    return s.length() <= TAIL ? s : s.substring(0, TAIL) + "...";
  }

  static String scrub(String text, String secret) {
    return secret == null || secret.length() < 4 ? text : text.replace(secret, "***");
  }
}
