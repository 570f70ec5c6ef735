package dev.crewchief.adapters.ci;

import dev.crewchief.activities.CiActivities;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.failure.ApplicationFailure;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CiActivities} with the JDK's {@link HttpClient}: CircleCI's API v2 ({@link
 * CircleCiPipelines}) or GitHub's combined commit status ({@link GitHubStatuses}).
 *
 * <p>The wait is a loop in the activity, not in the workflow: it looks, and while a required build
 * still runs it heartbeats what runs and looks again every {@code pollEvery}, up to {@code
 * waitLimit}. The time the wait began travels in the heartbeat details ({@link CiWait}), so that
 * when the worker dies or the service is briefly unreachable (a retried {@code CiUnreachable}), the
 * next attempt goes on with the same limit instead of starting a new one. A failed required build
 * ends the wait at once: nothing that runs can make the commit green again.
 *
 * <p>The token is resolved only for a real check, sent in the service's header ({@code
 * Circle-Token}, or {@code Authorization: Bearer} for GitHub) and never logged, returned,
 * heartbeated or put in a message; redirects are followed only on the API's own host ({@link
 * CiHttp}).
 */
public final class HttpCiActivities implements CiActivities {
  private static final Logger log = LoggerFactory.getLogger(HttpCiActivities.class);
  // Heartbeats at least this often while waiting between looks, so that a long pollEvery does not
  // exceed the step's heartbeat timeout.
  private static final Duration BEAT = Duration.ofSeconds(5);
  private static final Pattern COMMIT = Pattern.compile("[0-9a-fA-F]{7,64}");
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_.-]+");
  private static final Pattern HEADER_VALUE =
      Pattern.compile("[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?");

  /**
   * The heartbeat of a wait: {@code done} of {@code total} seconds waited (what {@code crewchief
   * status} shows as progress), what still runs, and when the wait began (epoch milliseconds),
   * which a retried attempt reads to keep the first attempt's limit.
   */
  public record CiWait(long done, long total, String unit, String message, long waitBeganMillis) {}

  private final SecretResolver secrets;
  private final CiHttp http;
  private final Clock clock;

  /**
   * @param http a client that does not follow redirects ({@code HttpWebhookActivities.newClient()})
   */
  public HttpCiActivities(SecretResolver secrets, HttpClient http) {
    this(secrets, http, Clock.systemUTC());
  }

  public HttpCiActivities(SecretResolver secrets, HttpClient http, Clock clock) {
    this.secrets = secrets;
    this.http = new CiHttp(http);
    this.clock = clock;
  }

  @Override
  public CiResult awaitGreen(CiRequest r) {
    Target t = validate(r);
    String what = (t.required().isEmpty() ? "every build" : String.join(", ", t.required()));
    if (r.dryRun()) {
      String first = t.root() + t.firstPath();
      List<CiBuild> builds = new ArrayList<>();
      for (String name : t.required().isEmpty() ? List.of("(every build)") : t.required()) {
        builds.add(new CiBuild(name, "rehearsed", first));
      }
      log.info(
          "step '{}': would GET {} every {} for up to {} until {} of {} passed",
          r.step(),
          first,
          r.pollEvery(),
          r.waitLimit(),
          what,
          t.commit());
      return new CiResult(t.commit(), builds, 0, true);
    }

    String secret = token(r);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Accept", "application/json");
    if (r.provider() == Provider.GITHUB) {
      headers.put("Accept", "application/vnd.github+json");
      headers.put("X-GitHub-Api-Version", "2022-11-28");
      if (secret != null) {
        headers.put("Authorization", "Bearer " + secret);
      }
    } else if (secret != null) {
      headers.put("Circle-Token", secret);
    }
    CiService.Api api = new CiService.Api(http, t.root(), headers, r.tokenRef(), secret);
    CiService service =
        r.provider() == Provider.GITHUB
            ? new GitHubStatuses(api, r.project(), t.commit(), t.required())
            : new CircleCiPipelines(api, r.project(), r.branch(), t.commit(), t.required());

    long began = waitBegan();
    long deadline = began + r.waitLimit().toMillis();
    String subject =
        t.commit() + (r.branch() == null || r.branch().isBlank() ? "" : " on " + r.branch());
    while (true) {
      CiLook look = service.look();
      long now = clock.millis();
      long waited = Math.max(0, now - began);
      if (!look.failed().isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "CI is red for "
                + subject
                + ": "
                + String.join("; ", look.failed())
                + " (fix the build, or rerun it, then retry the step)",
            "CiRed");
      }
      if (look.green()) {
        log.info("step '{}': CI green for {}: {}", r.step(), subject, look.builds());
        return new CiResult(t.commit(), look.builds(), waited, false);
      }
      List<String> waiting = new ArrayList<>(look.running());
      look.missing().forEach(m -> waiting.add(m.startsWith("no ") ? m : m + " (no build yet)"));
      String message = "waiting for CI of " + subject + ": " + String.join(", ", waiting);
      ActivityIo.heartbeat(
          new CiWait(waited / 1000, r.waitLimit().toSeconds(), "s", message, began));
      if (now >= deadline) {
        String after = " after waiting " + Duration.ofMillis(waited).withNanos(0);
        if (!look.running().isEmpty()) {
          throw ApplicationFailure.newNonRetryableFailure(
              "CI of "
                  + subject
                  + " still not done"
                  + after
                  + " (the limit is "
                  + r.waitLimit()
                  + "): "
                  + String.join(", ", waiting)
                  + "; retry the step when it has finished, or raise the limit",
              "CiPending");
        }
        throw ApplicationFailure.newNonRetryableFailure(
            "no build of "
                + subject
                + after
                + ": "
                + String.join(", ", look.missing())
                + " (is CI set up for the branch, and are the required names right? they are "
                + what
                + ")",
            "CiBuildMissing");
      }
      log.debug("step '{}': {}", r.step(), message);
      pause(Math.min(r.pollEvery().toMillis(), deadline - now), message, began, r.waitLimit());
    }
  }

  /** When the wait began: an earlier attempt's, from its last heartbeat, else now. */
  private long waitBegan() {
    long now = clock.millis();
    ActivityExecutionContext ctx;
    try {
      ctx = Activity.getExecutionContext();
    } catch (IllegalStateException notInActivity) {
      return now;
    }
    try {
      Optional<CiWait> earlier = ctx.getHeartbeatDetails(CiWait.class);
      if (earlier.isPresent() && earlier.get().waitBeganMillis() > 0) {
        long began = Math.min(now, earlier.get().waitBeganMillis());
        log.info("resuming the CI wait begun {} ago", Duration.ofMillis(now - began).withNanos(0));
        return began;
      }
    } catch (RuntimeException e) {
      // Details of another shape (an older version of this class): a new wait is the safe side.
      log.warn("cannot read the earlier attempt's CI wait, starting a new one: {}", e.toString());
    }
    return now;
  }

  /** Sleeps between looks, heartbeating, so that a cancelled release stops the wait. */
  private void pause(long millis, String message, long began, Duration limit) {
    long end = clock.millis() + Math.max(0, millis);
    try {
      while (true) {
        long left = end - clock.millis();
        if (left <= 0) {
          return;
        }
        Thread.sleep(Math.min(left, BEAT.toMillis()));
        if (end - clock.millis() > 0) {
          long waited = Math.max(0, clock.millis() - began);
          ActivityIo.heartbeat(new CiWait(waited / 1000, limit.toSeconds(), "s", message, began));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  private String token(CiRequest r) {
    if (r.tokenRef() == null) {
      return null; // a public project
    }
    String value =
        secrets.resolve(r.tokenRef(), "the CI API token of " + r.step()).replaceAll("[\r\n]+$", "");
    if (!HEADER_VALUE.matcher(value).matches()) {
      // Not repeated: it is the secret.
      throw ApplicationFailure.newNonRetryableFailure(
          "secret "
              + r.tokenRef()
              + " for the CI API token of "
              + r.step()
              + " is empty or not a single line of visible ASCII",
          "SecretUnresolved");
    }
    return value;
  }

  private record Target(String root, String commit, List<String> required, String firstPath) {}

  private static Target validate(CiRequest r) {
    if (r == null || r.provider() == null) {
      throw invalid("no CI provider given: configure CIRCLECI or GITHUB");
    }
    URI uri;
    try {
      uri = new URI(r.apiUrl() == null ? "" : r.apiUrl().strip());
    } catch (URISyntaxException e) {
      throw invalid("the CI API URL of step " + r.step() + " is not a URL: " + e.getReason());
    }
    if (!("https".equalsIgnoreCase(uri.getScheme()) || "http".equalsIgnoreCase(uri.getScheme()))
        || uri.getHost() == null
        || uri.getRawUserInfo() != null
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw invalid(
          "the CI API URL of step "
              + r.step()
              + " must be an absolute http(s) URL with a host and no credentials, query or"
              + " fragment, such as "
              + (r.provider() == Provider.GITHUB
                  ? "https://api.github.com"
                  : "https://circleci.com/api/v2"));
    }
    String root = uri.toString().replaceAll("/+$", "");
    String project = r.project() == null ? "" : r.project();
    String[] parts = project.split("/", -1);
    int segments = r.provider() == Provider.GITHUB ? 2 : 3;
    boolean ok = parts.length == segments;
    for (String p : parts) {
      ok &= SEGMENT.matcher(p).matches() && !p.equals(".") && !p.equals("..");
    }
    if (!ok) {
      throw invalid(
          "CI project '"
              + project
              + "' of step "
              + r.step()
              + " must be "
              + (r.provider() == Provider.GITHUB
                  ? "GitHub's owner/repo"
                  : "a CircleCI project slug such as gh/metaspace2020/metaspace"));
    }
    if (r.commit() == null || !COMMIT.matcher(r.commit()).matches()) {
      throw invalid("'" + r.commit() + "' is not a commit id: pass the main branch's head commit");
    }
    if (r.provider() == Provider.CIRCLECI && (r.branch() == null || r.branch().isBlank())) {
      throw invalid("no branch given for the CircleCI check of step " + r.step());
    }
    if (r.waitLimit() == null || r.waitLimit().isNegative()) {
      throw invalid("the CI step " + r.step() + " needs a wait limit of zero or more");
    }
    if (r.pollEvery() == null || r.pollEvery().isNegative() || r.pollEvery().isZero()) {
      throw invalid("the CI step " + r.step() + " needs a poll interval above zero");
    }
    if (r.tokenRef() != null && !SecretResolver.wellFormed(r.tokenRef())) {
      throw invalid(
          "the CI token reference of step "
              + r.step()
              + " is not of the form file:/path or env:NAME: configure a reference, never the"
              + " token itself");
    }
    List<String> required = new ArrayList<>();
    for (String name : r.required() == null ? List.<String>of() : r.required()) {
      if (name != null && !name.isBlank() && !required.contains(name.strip())) {
        required.add(name.strip());
      }
    }
    String commit = r.commit().toLowerCase(Locale.ROOT);
    String first =
        r.provider() == Provider.GITHUB
            ? GitHubStatuses.firstPath(project, commit)
            : CircleCiPipelines.firstPath(project, r.branch());
    return new Target(root, commit, List.copyOf(required), first);
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
