package dev.crewchief.adapters.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.crewchief.activities.EngineRef;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One docker-java client per Docker engine, built on first use and kept for the life of the worker:
 * the Apache transport pools its connections, so activities share them instead of opening a new
 * socket per call. The worker closes this at shutdown.
 */
public final class DockerEngines implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DockerEngines.class);

  private final Duration connectTimeout;
  private final Duration responseTimeout;
  private final Map<Key, Engine> engines = new ConcurrentHashMap<>();

  /** A connected engine: the high-level client, and its transport for the few raw calls. */
  record Engine(EngineRef ref, DockerClient client, DockerHttpClient http) {}

  private record Key(String host, String tlsCertDir) {}

  /**
   * @param connectTimeout how long to wait for the engine's socket; an engine that does not answer
   *     within it is reported as {@code DockerUnreachable} and retried
   * @param responseTimeout how long a single response may stay silent; it bounds the longest quiet
   *     stretch of an exec's output or a pull's progress, so it is generous
   */
  public DockerEngines(Duration connectTimeout, Duration responseTimeout) {
    this.connectTimeout = connectTimeout;
    this.responseTimeout = responseTimeout;
  }

  /** Connect within 10 s; a response may stay silent for up to 10 minutes. */
  public DockerEngines() {
    this(Duration.ofSeconds(10), Duration.ofMinutes(10));
  }

  /** The client for this engine (built on first use), or a non-retryable InvalidInput. */
  Engine engine(EngineRef ref) {
    requireEngine(ref);
    return engines.computeIfAbsent(
        new Key(ref.host(), blankToNull(ref.tlsCertDir())), k -> build(ref, k));
  }

  /** Checks an engine reference without connecting (dry runs use this too). */
  static void requireEngine(EngineRef ref) {
    if (ref == null || ref.host() == null || ref.host().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no Docker engine given: configure the engine's host, e.g. unix:///var/run/docker.sock",
          "InvalidInput");
    }
    String scheme = URI.create(ref.host().strip()).getScheme();
    if (!"unix".equals(scheme) && !"tcp".equals(scheme)) {
      throw ApplicationFailure.newNonRetryableFailure(
          "Docker host '"
              + ref.host()
              + "' of engine "
              + ref.name()
              + " is not a unix:// or tcp:// URI",
          "InvalidInput");
    }
    if ("tcp".equals(scheme) && blankToNull(ref.tlsCertDir()) == null) {
      // An engine on TCP without TLS gives root on its host to anyone on the network; refuse it
      // rather than silently talk plain HTTP to it.
      throw ApplicationFailure.newNonRetryableFailure(
          "engine "
              + ref.name()
              + " at "
              + ref.host()
              + " is on TCP without a tlsCertDir: configure the directory holding ca.pem,"
              + " cert.pem and key.pem",
          "InvalidInput");
    }
    requireTlsFiles(ref);
  }

  /** The TLS files a TCP engine needs are readable on this worker (a rehearsal checks it too). */
  private static void requireTlsFiles(EngineRef ref) {
    if (blankToNull(ref.tlsCertDir()) == null) {
      return;
    }
    Path dir = Path.of(ref.tlsCertDir());
    for (String f : new String[] {"ca.pem", "cert.pem", "key.pem"}) {
      if (!Files.isReadable(dir.resolve(f))) {
        throw ApplicationFailure.newNonRetryableFailure(
            "TLS file "
                + dir.resolve(f)
                + " for engine "
                + ref.name()
                + " is missing on this worker (engines."
                + ref.name()
                + ".tlsCertDir)",
            "InvalidInput");
      }
    }
  }

  private Engine build(EngineRef ref, Key key) {
    DefaultDockerClientConfig.Builder config =
        DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(key.host().strip());
    if (key.tlsCertDir() != null) {
      Path dir = Path.of(key.tlsCertDir());
      requireTlsFiles(ref);
      config.withDockerTlsVerify(true).withDockerCertPath(dir.toString());
    } else {
      config.withDockerTlsVerify(false);
    }
    DockerClientConfig c = config.build();
    DockerHttpClient http =
        new ApacheDockerHttpClient.Builder()
            .dockerHost(c.getDockerHost())
            .sslConfig(c.getSSLConfig())
            .maxConnections(20)
            .connectionTimeout(connectTimeout)
            .responseTimeout(responseTimeout)
            .build();
    log.info("Docker engine {} at {}", ref.name(), key.host());
    return new Engine(ref, DockerClientImpl.getInstance(c, http), http);
  }

  @Override
  public void close() {
    for (Engine e : engines.values()) {
      try {
        e.client().close();
      } catch (IOException ex) {
        log.debug("closing the client of engine {}: {}", e.ref().name(), ex.getMessage());
      }
    }
    engines.clear();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  @Override
  public String toString() {
    return "DockerEngines" + Objects.toString(engines.keySet());
  }
}
