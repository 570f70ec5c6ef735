package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.Containers.health;
import static dev.crewchief.adapters.docker.Containers.name;
import static dev.crewchief.adapters.docker.Containers.running;
import static dev.crewchief.adapters.docker.Containers.tail;
import static dev.crewchief.adapters.docker.DockerFailures.invalid;
import static dev.crewchief.adapters.docker.DockerFailures.message;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Frame;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a container is ready to take traffic: healthy when it has a healthcheck, else answering
 * the step's probe URL with a 2xx, else simply running. A container that is not is reported with
 * what the engine knows about it (state, exit code, last healthcheck, last log lines), because that
 * is what the person on call needs to see in the failure.
 */
final class ContainerReadiness {
  private static final Logger log = LoggerFactory.getLogger(ContainerReadiness.class);

  private static final Duration DEFAULT_READY = Duration.ofMinutes(10);
  private static final Duration POLL = Duration.ofSeconds(1);

  private final HttpClient probes;

  /**
   * @param probes the client for probe URLs; one that does not follow redirects makes a redirect
   *     count as not ready, so the probe URL itself must answer 2xx
   */
  ContainerReadiness(HttpClient probes) {
    this.probes = probes;
  }

  /** Probes with a 5 s connect timeout and no redirects. */
  ContainerReadiness() {
    this(
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build());
  }

  /** The step's ready timeout, ten minutes when it has none. */
  static Duration readyWithin(Duration ready) {
    if (ready == null) {
      return DEFAULT_READY;
    }
    if (ready.isNegative() || ready.isZero()) {
      throw invalid("ready timeout " + ready + " must be positive, e.g. PT10M");
    }
    return ready;
  }

  /** Checks a probe URL without contacting it (dry runs use this too); blank means none. */
  static void requireProbe(String url) {
    if (url == null || url.isBlank()) {
      return;
    }
    try {
      URI u = URI.create(url);
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
        throw invalid("probe URL '" + url + "' is not an http(s) URL");
      }
    } catch (IllegalArgumentException e) {
      throw invalid("probe URL '" + url + "' is not a URL: " + e.getMessage());
    }
  }

  /**
   * Waits until the container is ready: healthy when it has a healthcheck, else answering the probe
   * URL with 2xx when one is given, else running. Heartbeats each second; gives up with a
   * non-retryable {@code ContainerUnhealthy} (what a retry would do is wait again for the same
   * container) when the container exits or {@code within} elapses.
   */
  InspectContainerResponse awaitReady(
      DockerClient c, String id, String probeUrl, Duration within, String step) {
    long deadline = System.nanoTime() + within.toNanos();
    String last = "";
    while (true) {
      InspectContainerResponse x = c.inspectContainerCmd(id).exec();
      String health = health(x);
      if (!running(x) && !Boolean.TRUE.equals(x.getState().getRestarting())) {
        throw unhealthy(c, x, "stopped while Crew Chief waited for it to be ready");
      }
      if (running(x)) {
        if (!"none".equals(health)) {
          if ("healthy".equals(health)) {
            return x;
          }
          last = "health " + health + lastHealthLog(x);
        } else if (probeUrl != null && !probeUrl.isBlank()) {
          last = probe(probeUrl);
          if (last.isEmpty()) {
            return x;
          }
        } else {
          return x;
        }
      }
      if (System.nanoTime() > deadline) {
        throw unhealthy(c, x, "not ready within " + within + " (" + last + ")");
      }
      ActivityIo.heartbeat("waiting for " + name(x) + " to be ready: " + last);
      log.debug("step '{}': {} not ready yet: {}", step, name(x), last);
      sleep(POLL);
    }
  }

  /** Empty when the URL answers 2xx, else what it did. */
  private String probe(String url) {
    try {
      HttpResponse<Void> resp =
          probes.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
              HttpResponse.BodyHandlers.discarding());
      return resp.statusCode() / 100 == 2 ? "" : url + " answered " + resp.statusCode();
    } catch (IOException e) {
      return url + ": " + e.getClass().getSimpleName() + " " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while probing " + url, "DockerEngineError");
    }
  }

  /** A non-retryable {@code ContainerUnhealthy} with what the engine knows of the container. */
  static ApplicationFailure unhealthy(DockerClient c, InspectContainerResponse x, String what) {
    var st = x.getState();
    return ApplicationFailure.newNonRetryableFailure(
        "container "
            + name(x)
            + " "
            + what
            + ": state "
            + st.getStatus()
            + (running(x) ? "" : ", exit code " + st.getExitCodeLong())
            + (st.getError() == null || st.getError().isBlank() ? "" : ", error " + st.getError())
            + lastHealthLog(x)
            + "; last log lines: "
            + tail(logs(c, x.getId()), 1500),
        "ContainerUnhealthy");
  }

  private static String lastHealthLog(InspectContainerResponse x) {
    var h = x.getState().getHealth();
    if (h == null || h.getLog() == null || h.getLog().isEmpty()) {
      return "";
    }
    var l = h.getLog().get(h.getLog().size() - 1);
    return ", last healthcheck exit "
        + l.getExitCodeLong()
        + (l.getOutput() == null || l.getOutput().isBlank() ? "" : ": " + tail(l.getOutput(), 300));
  }

  /** The container's last output lines, for failure messages; best effort. */
  private static String logs(DockerClient c, String id) {
    StringBuilder sb = new StringBuilder();
    try {
      c.logContainerCmd(id)
          .withStdOut(true)
          .withStdErr(true)
          .withTail(20)
          .exec(
              new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame f) {
                  synchronized (sb) {
                    sb.append(new String(f.getPayload(), StandardCharsets.UTF_8));
                  }
                }
              })
          .awaitCompletion(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      return "(logs unavailable: " + message(e) + ")";
    }
    synchronized (sb) {
      return sb.toString();
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while waiting", "DockerEngineError");
    }
  }
}
