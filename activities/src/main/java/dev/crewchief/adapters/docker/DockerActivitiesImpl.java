package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.DockerFailures.guard;
import static dev.crewchief.adapters.docker.DockerFailures.message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectExecResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommitRequest;
import dev.crewchief.activities.ContainerInfo;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DeployRequest;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.ExecRequest;
import dev.crewchief.activities.Progress;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.activities.RemoveRequest;
import dev.crewchief.activities.ServiceRef;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.release.Shell;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link DockerActivities} with docker-java on a Docker Engine API (Docker, or podman's
 * Docker-compatible service). The containers of a docker-compose service are found by compose's
 * labels; new ones are created the way docker-compose v1 does it (name {@code
 * <project>_<service>_<number>}, the compose labels with the new number) from the configuration of
 * the container they follow, with only the image changed.
 *
 * <p>Dry runs check their input and describe the exact action without contacting the engine at all,
 * so a rehearsal works from a machine that cannot reach production.
 *
 * <p>Failure types, beyond those of the interface: {@code DockerEngineError} (a 5xx from the
 * engine, retried), {@code DockerRequestRejected} (the engine refused a request as malformed or
 * conflicting; not retried), {@code RegistryUnreachable} (the engine could not reach the image's
 * registry; retried) and {@code SecretUnresolved} (registry credentials; not retried).
 */
public final class DockerActivitiesImpl implements DockerActivities {
  private static final Logger log = LoggerFactory.getLogger(DockerActivitiesImpl.class);

  static final String PROJECT = "com.docker.compose.project";
  static final String SERVICE = "com.docker.compose.service";
  static final String NUMBER = "com.docker.compose.container-number";

  /** Marks a backup image with the container it was committed from, for idempotent commits. */
  static final String SOURCE = "crewchief.source-container";

  /** docker-compose's default stop timeout; containers run with an init stop well within it. */
  private static final int STOP_SECONDS = 10;

  private static final Duration EXEC_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration DEFAULT_READY = Duration.ofMinutes(10);
  private static final Duration POLL = Duration.ofSeconds(1);

  private final DockerEngines engines;
  private final SecretResolver secrets;
  private final HttpClient probes;
  private final ObjectMapper json = new ObjectMapper();

  public DockerActivitiesImpl(DockerEngines engines, SecretResolver secrets) {
    this.engines = engines;
    this.secrets = secrets;
    this.probes =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  // ---------------------------------------------------------------------------------------------
  // Reading a service

  @Override
  public ServiceState inspectService(ServiceRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.dryRun()) {
      return new ServiceState(s, false, List.of());
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () ->
            new ServiceState(
                s, true, containersOf(c, s).stream().map(DockerActivitiesImpl::info).toList()));
  }

  // ---------------------------------------------------------------------------------------------
  // Commands inside a container

  @Override
  public ExecOutcome exec(ExecRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.command() == null
        || r.command().isEmpty()
        || r.command().stream().allMatch(a -> a == null || a.isBlank())) {
      throw invalid("no command given for step '" + r.step() + "': configure the command to run");
    }
    if (r.number() < 0) {
      throw invalid("container number " + r.number() + " of " + s.describe() + " is negative");
    }
    String cmd = r.command().stream().map(Shell::q).collect(Collectors.joining(" "));
    String which =
        r.number() == 0
            ? "the lowest-numbered running container of " + s.describe()
            : "container number " + r.number() + " of " + s.describe();
    if (r.dryRun()) {
      return new ExecOutcome("in " + which + ": " + cmd, true, null, 0, "");
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () -> {
          List<InspectContainerResponse> all = requireContainers(c, s);
          InspectContainerResponse target =
              all.stream()
                  .filter(x -> running(x) && (r.number() == 0 || number(x) == r.number()))
                  .findFirst()
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newNonRetryableFailure(
                              "no running "
                                  + (r.number() == 0 ? "container" : "container " + r.number())
                                  + " of "
                                  + s.describe()
                                  + " to run the command in; its containers: "
                                  + summary(all),
                              "ServiceNotFound"));
          String action = "in " + name(target) + " (" + s.describe() + "): " + cmd;
          log.info("step '{}' {}", r.step(), action);
          Exec e = run(c, target.getId(), r.command());
          if (e.exitCode != 0 && !r.allowFailure()) {
            throw ApplicationFailure.newNonRetryableFailure(
                "command exited with " + e.exitCode + " " + action + ": " + tail(e.output, 1500),
                "ContainerExecFailed");
          }
          return new ExecOutcome(action, false, name(target), e.exitCode, tail(e.output, 8000));
        });
  }

  private record Exec(int exitCode, String output) {}

  /** Runs a command through the engine's exec API, heartbeating until it ends. */
  private Exec run(DockerClient c, String containerId, List<String> command) {
    String execId =
        c.execCreateCmd(containerId)
            .withCmd(command.toArray(String[]::new))
            .withAttachStdout(true)
            .withAttachStderr(true)
            .exec()
            .getId();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Streaming<Frame> frames =
        new Streaming<>() {
          @Override
          public void onNext(Frame f) {
            byte[] p = f.getPayload();
            if (p != null) {
              synchronized (this) {
                (f.getStreamType() == com.github.dockerjava.api.model.StreamType.STDERR ? err : out)
                    .write(p, 0, p.length);
              }
            }
          }
        };
    c.execStartCmd(execId).exec(frames);
    long deadline = System.nanoTime() + EXEC_TIMEOUT.toNanos();
    try {
      while (!frames.awaitEnd(Duration.ofSeconds(2))) {
        ActivityIo.heartbeat("running " + String.join(" ", command));
        if (System.nanoTime() > deadline) {
          closeQuietly(frames);
          throw ApplicationFailure.newFailure(
              "command did not finish within " + EXEC_TIMEOUT + ": " + String.join(" ", command),
              "ContainerExecFailed");
        }
      }
      frames.awaitCompletion();
      // The output ends before the engine records the exit code (podman in particular): poll the
      // exec briefly until it no longer runs.
      InspectExecResponse ex = c.inspectExecCmd(execId).exec();
      for (int i = 0; i < 100 && Boolean.TRUE.equals(ex.isRunning()); i++) {
        Thread.sleep(50);
        ex = c.inspectExecCmd(execId).exec();
      }
      Long code = ex.getExitCodeLong();
      if (Boolean.TRUE.equals(ex.isRunning()) || code == null) {
        throw ApplicationFailure.newFailure(
            "command ended its output but no exit code was recorded: " + String.join(" ", command),
            "DockerEngineError");
      }
      String output;
      synchronized (frames) {
        output = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
      }
      return new Exec(code.intValue(), output);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure(
          "interrupted while running a command", "DockerEngineError");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping and starting

  @Override
  public ActionResult stopService(ServiceRequest r) {
    ServiceRef s = requireService(r.service());
    String action =
        "stop every running container of " + s.describe() + " (timeout " + STOP_SECONDS + " s)";
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () -> {
          List<String> stopped = new ArrayList<>();
          List<String> already = new ArrayList<>();
          for (InspectContainerResponse x : requireContainers(c, s)) {
            if (running(x)) {
              log.info("step '{}': stopping {}", r.step(), name(x));
              stop(c, x.getId());
              stopped.add(name(x));
            } else {
              already.add(name(x));
            }
          }
          return new ActionResult(
              action, false, listing("stopped", stopped, "already stopped", already));
        });
  }

  @Override
  public ActionResult startService(ServiceRequest r) {
    ServiceRef s = requireService(r.service());
    String action = "start every stopped container of " + s.describe();
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () -> {
          List<String> started = new ArrayList<>();
          List<String> already = new ArrayList<>();
          for (InspectContainerResponse x : requireContainers(c, s)) {
            if (running(x)) {
              already.add(name(x));
              continue;
            }
            log.info("step '{}': starting {}", r.step(), name(x));
            start(c, x.getId());
            // Act, then verify: a container whose command fails at once is reported here rather
            // than by a later step that finds the service down.
            InspectContainerResponse now = c.inspectContainerCmd(x.getId()).exec();
            if (!running(now)) {
              throw unhealthy(c, now, "exited right after it was started");
            }
            started.add(name(x));
          }
          return new ActionResult(
              action, false, listing("started", started, "already running", already));
        });
  }

  private static void stop(DockerClient c, String id) {
    ActivityIo.whileHeartbeating(
        "stopping " + shortId(id),
        () -> {
          try {
            c.stopContainerCmd(id).withTimeout(STOP_SECONDS).exec();
          } catch (NotModifiedException alreadyStopped) {
            // Stopped between our look and the request: that is the state we wanted.
          }
          return null;
        });
  }

  private static void start(DockerClient c, String id) {
    try {
      c.startContainerCmd(id).exec();
    } catch (NotModifiedException alreadyRunning) {
      // Started meanwhile (by a restart policy, or an earlier attempt): fine.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Backups

  @Override
  public ActionResult commitContainer(CommitRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.repository() == null
        || !r.repository().matches("[a-z0-9][a-z0-9._/:-]*")
        || r.repository().lastIndexOf(':') > r.repository().lastIndexOf('/')) {
      throw invalid(
          "backup repository '"
              + r.repository()
              + "' is not a repository name (lowercase, without a tag), e.g."
              + " localhost/atmosphere-backup");
    }
    if (r.tag() == null || !r.tag().matches("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")) {
      throw invalid("backup tag '" + r.tag() + "' is not a valid image tag, e.g. before-36-1");
    }
    if (r.number() < 0) {
      throw invalid("container number " + r.number() + " of " + s.describe() + " is negative");
    }
    String image = r.repository() + ":" + r.tag();
    String which =
        r.number() == 0 ? "the lowest-numbered container" : "container number " + r.number();
    if (r.dryRun()) {
      return new ActionResult(
          "commit " + which + " of " + s.describe() + " to the backup image " + image, true, "");
    }
    DockerEngines.Engine engine = engine(s.engine());
    DockerClient c = engine.client();
    return guard(
        s,
        s.engine(),
        () -> {
          List<InspectContainerResponse> all = requireContainers(c, s);
          InspectContainerResponse x =
              all.stream()
                  .filter(y -> r.number() == 0 || number(y) == r.number())
                  .findFirst()
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newNonRetryableFailure(
                              "no container number "
                                  + r.number()
                                  + " in "
                                  + s.describe()
                                  + "; its containers: "
                                  + summary(all),
                              "ServiceNotFound"));
          String action =
              "commit " + name(x) + " (" + s.describe() + ") to the backup image " + image;
          Optional<InspectImageResponse> existing = image(c, image);
          if (existing.isPresent()) {
            String from = label(existing.get(), SOURCE);
            if (x.getId().equals(from)) {
              return new ActionResult(
                  action, false, "kept " + image + ", already committed from " + name(x));
            }
            throw ApplicationFailure.newNonRetryableFailure(
                "backup image "
                    + image
                    + " already exists on engine "
                    + s.engine().name()
                    + (from == null
                        ? " and was not made by Crew Chief"
                        : " and was committed from another container (" + shortId(from) + ")")
                    + ": choose another tag, or remove that image if it is no longer needed",
                "BackupImageExists");
          }
          log.info("step '{}': {}", r.step(), action);
          String id =
              ActivityIo.whileHeartbeating(
                  "committing " + name(x) + " to " + image,
                  () -> commit(engine, x.getId(), r.repository(), r.tag()));
          // Act, then verify: the image must carry the mark that makes a retry recognise it.
          InspectImageResponse made =
              image(c, image)
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newFailure(
                              "engine reported commit " + id + " but " + image + " is not there",
                              "DockerEngineError"));
          if (!x.getId().equals(label(made, SOURCE))) {
            throw ApplicationFailure.newNonRetryableFailure(
                "engine "
                    + s.engine().name()
                    + " committed "
                    + image
                    + " without the label "
                    + SOURCE,
                "DockerRequestRejected");
          }
          return new ActionResult(action, false, "committed " + image + " (" + shortId(id) + ")");
        });
  }

  /**
   * POST /commit with the label given as a Dockerfile {@code LABEL} change. docker-java's commit
   * command cannot send {@code changes}, and the labels of its request body are ignored by podman;
   * the change is honoured by Docker and podman alike, so this one call goes through the transport.
   */
  private String commit(DockerEngines.Engine engine, String containerId, String repo, String tag) {
    String query =
        "container="
            + enc(containerId)
            + "&repo="
            + enc(repo)
            + "&tag="
            + enc(tag)
            + "&comment="
            + enc("Crew Chief backup of container " + containerId)
            + "&changes="
            + enc("LABEL " + SOURCE + "=" + containerId);
    DockerHttpClient.Request req =
        DockerHttpClient.Request.builder()
            .method(DockerHttpClient.Request.Method.POST)
            .path("/commit?" + query)
            .putHeader("Content-Type", "application/json")
            .body(new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)))
            .build();
    try (DockerHttpClient.Response resp = engine.http().execute(req)) {
      String body;
      try (InputStream in = resp.getBody()) {
        body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      int status = resp.getStatusCode();
      if (status == 404) {
        throw new NotFoundException(body);
      }
      if (status >= 500) {
        throw ApplicationFailure.newFailure(
            "commit failed on engine " + engine.ref().name() + ": " + body.strip(),
            "DockerEngineError");
      }
      if (status >= 300) {
        throw ApplicationFailure.newNonRetryableFailure(
            "engine " + engine.ref().name() + " refused the commit: " + body.strip(),
            "DockerRequestRejected");
      }
      JsonNode id = json.readTree(body).path("Id");
      return id.asText("");
    } catch (IOException e) {
      throw DockerFailures.unreachable(engine.ref(), e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Images

  @Override
  public ActionResult pullImage(PullRequest r) {
    return pull(r, false);
  }

  @Override
  public ActionResult awaitImage(PullRequest r) {
    return pull(r, true);
  }

  /** A pull; {@code awaiting} a tag that may not be published yet (see {@link #pullFailure}). */
  private ActionResult pull(PullRequest r, boolean awaiting) {
    EngineRef engine = r.engine();
    DockerEngines.requireEngine(engine);
    String image = requireTaggedImage(r.image());
    if (engine.registryAuthRef() != null
        && !engine.registryAuthRef().isBlank()
        && !SecretResolver.wellFormed(engine.registryAuthRef())) {
      throw invalid(
          "registry auth reference '"
              + engine.registryAuthRef()
              + "' of engine "
              + engine.name()
              + " is not of the form file:/path or env:NAME");
    }
    String action =
        "on engine "
            + engine.name()
            + ": pull "
            + image
            + (r.ifMissing() ? " unless it is already there" : "");
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(engine);
    return guard(
        null,
        engine,
        () -> {
          if (r.ifMissing() && image(c, image).isPresent()) {
            return new ActionResult(action, false, image + " is already on the engine: not pulled");
          }
          log.info("step '{}': {}", r.step(), action);
          pull(c, engine, image, awaiting);
          InspectImageResponse got =
              image(c, image)
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newFailure(
                              "pull of " + image + " ended but the image is not on the engine",
                              "DockerEngineError"));
          return new ActionResult(
              action, false, "pulled " + image + " (" + shortId(got.getId()) + ")");
        });
  }

  private void pull(DockerClient c, EngineRef engine, String image, boolean awaiting) {
    int at = image.indexOf('@');
    int colon = image.lastIndexOf(':');
    String repo = at >= 0 ? image.substring(0, at) : image.substring(0, colon);
    String tag = at >= 0 ? image.substring(at + 1) : image.substring(colon + 1);
    var cmd = c.pullImageCmd(repo).withTag(tag);
    if (engine.registryAuthRef() != null && !engine.registryAuthRef().isBlank()) {
      cmd.withAuthConfig(auth(engine, repo));
    }
    try {
      // Engines report a failed pull inside the progress stream of a 200 response, so the stream
      // is read for errors rather than trusting the status.
      StringBuilder error = new StringBuilder();
      // Layer id to its bytes downloaded and total, for the heartbeats' progress.
      Map<String, long[]> layers = new java.util.concurrent.ConcurrentHashMap<>();
      Streaming<PullResponseItem> progress =
          cmd.exec(
              new Streaming<>() {
                @Override
                public void onNext(PullResponseItem item) {
                  if (item.getId() != null
                      && item.getProgressDetail() != null
                      && item.getProgressDetail().getTotal() != null
                      && item.getProgressDetail().getCurrent() != null) {
                    layers.put(
                        item.getId(),
                        new long[] {
                          item.getProgressDetail().getCurrent(), item.getProgressDetail().getTotal()
                        });
                  }
                  if (item.isErrorIndicated()) {
                    synchronized (error) {
                      error.setLength(0);
                      error.append(
                          item.getErrorDetail() != null
                                  && item.getErrorDetail().getMessage() != null
                              ? item.getErrorDetail().getMessage()
                              : item.getError());
                    }
                  }
                }
              });
      while (!progress.awaitEnd(Duration.ofSeconds(2))) {
        long done = 0;
        long total = 0;
        for (long[] l : layers.values()) {
          done += l[0];
          total += l[1];
        }
        ActivityIo.heartbeat(
            new Progress(
                done / 1_000_000,
                total / 1_000_000,
                "MB",
                "pulling " + image + " (" + layers.size() + " layers)"));
      }
      progress.awaitCompletion();
      synchronized (error) {
        if (error.length() > 0) {
          throw pullFailure(engine, image, error.toString(), awaiting);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure(
          "interrupted while pulling " + image, "DockerEngineError");
    } catch (ApplicationFailure f) {
      throw f;
    } catch (RuntimeException e) {
      if (!(e instanceof com.github.dockerjava.api.exception.DockerException)
          && !(e instanceof com.github.dockerjava.api.exception.DockerClientException)
          && DockerFailures.hasCause(e, IOException.class)) {
        // Our socket to the engine failed, not the engine's connection to the registry.
        throw DockerFailures.unreachable(engine, e);
      }
      throw pullFailure(engine, image, message(e), awaiting);
    }
  }

  /**
   * Sorts a failed pull by what the engine said. Registries answer "not found" and "denied" alike
   * for a repository that does not exist and one the credentials may not read; neither is fixed by
   * a retry. A registry the engine cannot reach may come back, so that is retried. When {@code
   * awaiting} a tag that CI is still building, a registry that answers the tag is unknown (and does
   * not refuse the login) is a retryable {@code ImageNotPublished}.
   */
  static ApplicationFailure pullFailure(
      EngineRef engine, String image, String why, boolean awaiting) {
    String m = why.toLowerCase();
    boolean refusedLogin =
        m.contains("unauthorized") || m.contains("authentication required") || m.contains("denied");
    if (awaiting && !refusedLogin && (m.contains("manifest unknown") || m.contains("not found"))) {
      return ApplicationFailure.newFailure(
          "the registry has no " + image + " yet (" + why + "): waiting for its build",
          "ImageNotPublished");
    }
    if (m.contains("connection refused")
        || m.contains("no such host")
        || m.contains("i/o timeout")
        || m.contains("network is unreachable")
        || m.contains("tls handshake timeout")
        || m.contains("connection reset")
        || m.contains("too many requests")) {
      return ApplicationFailure.newFailure(
          "engine " + engine.name() + " could not reach the registry of " + image + ": " + why,
          "RegistryUnreachable");
    }
    if (m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("does not exist")
        || m.contains("name unknown")
        || refusedLogin) {
      return ApplicationFailure.newNonRetryableFailure(
          "image "
              + image
              + " cannot be pulled to engine "
              + engine.name()
              + ": the registry says "
              + why
              + ". Check the image name and tag, and the registry credentials ("
              + (engine.registryAuthRef() == null ? "none configured" : engine.registryAuthRef())
              + ")",
          "ImageNotFound");
    }
    return ApplicationFailure.newFailure(
        "engine " + engine.name() + " could not pull " + image + ": " + why, "RegistryUnreachable");
  }

  private AuthConfig auth(EngineRef engine, String repo) {
    String raw =
        secrets.resolve(engine.registryAuthRef(), "the registry login of engine " + engine.name());
    JsonNode n;
    try {
      n = json.readTree(raw);
    } catch (IOException e) {
      n = null;
    }
    if (n == null || !n.path("username").isTextual() || !n.path("password").isTextual()) {
      // The secret's content is never quoted in the message.
      throw ApplicationFailure.newNonRetryableFailure(
          "registry secret "
              + engine.registryAuthRef()
              + " is not a JSON object with \"username\" and \"password\"",
          "SecretUnresolved");
    }
    String first = repo.contains("/") ? repo.substring(0, repo.indexOf('/')) : "";
    boolean ownRegistry = first.contains(".") || first.contains(":") || first.equals("localhost");
    return new AuthConfig()
        .withUsername(n.get("username").asText())
        .withPassword(n.get("password").asText())
        .withRegistryAddress(ownRegistry ? first : "https://index.docker.io/v1/");
  }

  // ---------------------------------------------------------------------------------------------
  // New containers

  @Override
  public ContainerResult recreateService(DeployRequest r) {
    ServiceRef s = requireService(r.service());
    String image = requireTaggedImage(r.image());
    Duration ready = readyWithin(r.ready());
    requireProbe(r.probeUrl());
    String action =
        "recreate the containers of "
            + s.describe()
            + " that are not on "
            + image
            + " from it (same numbers and configuration), then wait up to "
            + ready
            + " for each to be ready";
    if (r.dryRun()) {
      return new ContainerResult(action, true, null);
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () -> {
          String imageId = requireImage(c, s.engine(), image);
          List<InspectContainerResponse> all = requireContainers(c, s);
          // By number: after an interrupted attempt a number may have the renamed old container and
          // the new one side by side.
          Map<Integer, List<InspectContainerResponse>> byNumber =
              all.stream()
                  .collect(
                      Collectors.groupingBy(
                          DockerActivitiesImpl::number,
                          java.util.TreeMap::new,
                          Collectors.toList()));
          List<String> done = new ArrayList<>();
          InspectContainerResponse last = null;
          for (Map.Entry<Integer, List<InspectContainerResponse>> e : byNumber.entrySet()) {
            Optional<InspectContainerResponse> fresh =
                e.getValue().stream().filter(x -> onImage(x, image, imageId)).findFirst();
            InspectContainerResponse now;
            if (fresh.isPresent()) {
              now = fresh.get();
              for (InspectContainerResponse old : e.getValue()) {
                if (old != now) {
                  log.info(
                      "step '{}': removing {} left by an earlier attempt", r.step(), name(old));
                  remove(c, old.getId());
                }
              }
              if (!running(now)) {
                start(c, now.getId());
              }
              done.add("kept " + name(now));
            } else {
              InspectContainerResponse old = e.getValue().get(0);
              String name = name(old);
              log.info("step '{}': recreating {} from {}", r.step(), name, image);
              // As docker-compose does: stop the old container, move it out of the way under a
              // temporary name (its configuration stays there if this attempt dies), create the new
              // one under the old name, start it, and only then remove the old one.
              stop(c, old.getId());
              String tmp = shortId(old.getId()) + "_" + name;
              c.renameContainerCmd(old.getId()).withName(tmp).exec();
              String id = new ContainerTemplate(c, old).create(image, name, e.getKey());
              start(c, id);
              remove(c, old.getId());
              now = c.inspectContainerCmd(id).exec();
              done.add("recreated " + name + " (" + shortId(id) + ")");
            }
            last = awaitReady(c, now.getId(), r.probeUrl(), ready, r.step());
          }
          return new ContainerResult(
              "on engine " + s.engine().name() + ": " + String.join(", ", done), false, info(last));
        });
  }

  @Override
  public ContainerResult scaleUp(DeployRequest r) {
    ServiceRef s = requireService(r.service());
    String image = requireTaggedImage(r.image());
    Duration ready = readyWithin(r.ready());
    requireProbe(r.probeUrl());
    if (r.dryRun()) {
      return new ContainerResult(
          "on engine "
              + s.engine().name()
              + ": create "
              + s.project()
              + "_"
              + s.service()
              + "_<highest number + 1> from image "
              + image
              + " next to the running containers of "
              + s.describe()
              + ", with the configuration of the highest-numbered one, start it and wait up to "
              + ready
              + " until it is ready",
          true,
          null);
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () -> {
          String imageId = requireImage(c, s.engine(), image);
          List<InspectContainerResponse> all = requireContainers(c, s);
          Optional<InspectContainerResponse> existing =
              all.stream().filter(x -> onImage(x, image, imageId)).reduce((a, b) -> b);
          String action;
          String id;
          if (existing.isPresent()) {
            InspectContainerResponse x = existing.get();
            action =
                "on engine "
                    + s.engine().name()
                    + ": kept "
                    + name(x)
                    + ", already on "
                    + image
                    + (running(x) ? "" : " (started it)");
            id = x.getId();
            if (!running(x)) {
              start(c, id);
            }
          } else {
            InspectContainerResponse template = all.get(all.size() - 1);
            int next = number(template) + 1;
            String name = nextName(template, s, next);
            action =
                "on engine "
                    + s.engine().name()
                    + ": create "
                    + name
                    + " from image "
                    + image
                    + " next to "
                    + all.stream().map(DockerActivitiesImpl::name).collect(Collectors.joining(", "))
                    + ", configured like "
                    + name(template);
            log.info("step '{}': {}", r.step(), action);
            id = new ContainerTemplate(c, template).create(image, name, next);
            start(c, id);
          }
          InspectContainerResponse now = awaitReady(c, id, r.probeUrl(), ready, r.step());
          return new ContainerResult(action, false, info(now));
        });
  }

  /**
   * The new container's name: compose v1 names containers {@code project_service_n}, compose v2
   * {@code project-service-n}; the new one follows its neighbour's style.
   */
  static String nextName(InspectContainerResponse template, ServiceRef s, int number) {
    String hyphen = s.project() + "-" + s.service() + "-";
    String sep = name(template).startsWith(hyphen) ? "-" : "_";
    return s.project() + sep + s.service() + sep + number;
  }

  @Override
  public ActionResult removeContainer(RemoveRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.containerId() == null || !r.containerId().matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw invalid("container id '" + r.containerId() + "' is not a container id or name");
    }
    String action =
        "on engine "
            + s.engine().name()
            + ": stop (timeout "
            + STOP_SECONDS
            + " s) and remove container "
            + shortId(r.containerId())
            + " of "
            + s.describe();
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(s.engine());
    return guard(
        s,
        s.engine(),
        () -> {
          InspectContainerResponse x;
          try {
            x = c.inspectContainerCmd(r.containerId()).exec();
          } catch (NotFoundException gone) {
            return new ActionResult(
                action, false, "container " + shortId(r.containerId()) + " is already gone");
          }
          // A guard on a destructive step: only a container of this service is removed, whatever
          // id the step was handed.
          Map<String, String> labels = labels(x);
          if (!s.project().equals(labels.get(PROJECT))
              || !s.service().equals(labels.get(SERVICE))) {
            throw invalid(
                "container "
                    + name(x)
                    + " is not part of "
                    + s.describe()
                    + " (its compose labels say "
                    + labels.get(PROJECT)
                    + "/"
                    + labels.get(SERVICE)
                    + "): refusing to remove it");
          }
          log.info("step '{}': {}", r.step(), action);
          remove(c, x.getId());
          return new ActionResult(action, false, "removed " + name(x));
        });
  }

  private static void remove(DockerClient c, String id) {
    try {
      stop(c, id);
      c.removeContainerCmd(id).exec();
    } catch (NotFoundException gone) {
      // Removed meanwhile: that is what we wanted.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Waiting until a container is ready

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

  private ApplicationFailure unhealthy(DockerClient c, InspectContainerResponse x, String what) {
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

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private DockerEngines.Engine engine(EngineRef ref) {
    return engines.engine(ref);
  }

  private DockerClient client(EngineRef ref) {
    return engines.engine(ref).client();
  }

  /** All containers of the service (running or not), lowest number first. */
  static List<InspectContainerResponse> containersOf(DockerClient c, ServiceRef s) {
    List<Container> listed =
        c.listContainersCmd()
            .withShowAll(true)
            .withLabelFilter(Map.of(PROJECT, s.project(), SERVICE, s.service()))
            .exec();
    List<InspectContainerResponse> out = new ArrayList<>();
    for (Container x : listed) {
      Map<String, String> l = x.getLabels() == null ? Map.of() : x.getLabels();
      // The label filter is checked again here: engines have differed on whether several label
      // filters must all match.
      if (!s.project().equals(l.get(PROJECT)) || !s.service().equals(l.get(SERVICE))) {
        continue;
      }
      try {
        out.add(c.inspectContainerCmd(x.getId()).exec());
      } catch (NotFoundException removedMeanwhile) {
        log.debug("container {} went away while listing", x.getId());
      }
    }
    out.sort(
        Comparator.comparingInt(DockerActivitiesImpl::number)
            .thenComparing(InspectContainerResponse::getCreated));
    return out;
  }

  private static List<InspectContainerResponse> requireContainers(DockerClient c, ServiceRef s) {
    List<InspectContainerResponse> all = containersOf(c, s);
    if (all.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no container of service "
              + s.service()
              + " in compose project "
              + s.project()
              + " on engine "
              + s.engine().name()
              + " ("
              + s.engine().host()
              + "): check the project and service names (the labels "
              + PROJECT
              + " and "
              + SERVICE
              + ")",
          "ServiceNotFound");
    }
    return all;
  }

  static ContainerInfo info(InspectContainerResponse x) {
    return new ContainerInfo(
        x.getId(),
        name(x),
        number(x),
        x.getConfig() == null ? null : x.getConfig().getImage(),
        x.getState().getStatus(),
        health(x));
  }

  static String name(InspectContainerResponse x) {
    String n = x.getName();
    return n == null ? shortId(x.getId()) : n.startsWith("/") ? n.substring(1) : n;
  }

  static int number(InspectContainerResponse x) {
    try {
      return Integer.parseInt(labels(x).getOrDefault(NUMBER, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static Map<String, String> labels(InspectContainerResponse x) {
    Map<String, String> l = x.getConfig() == null ? null : x.getConfig().getLabels();
    return l == null ? Map.of() : l;
  }

  static boolean running(InspectContainerResponse x) {
    return Boolean.TRUE.equals(x.getState().getRunning());
  }

  static String health(InspectContainerResponse x) {
    var h = x.getState().getHealth();
    return h == null || h.getStatus() == null || h.getStatus().isBlank() ? "none" : h.getStatus();
  }

  /**
   * Whether the container runs the image: by image id when the engine knows the image (a tag that
   * was pushed again names a new image, and containers made from the old one are not on it), else
   * by name.
   */
  static boolean onImage(InspectContainerResponse x, String image, String imageId) {
    if (imageId != null && x.getImageId() != null) {
      return bareId(imageId).equals(bareId(x.getImageId()));
    }
    return x.getConfig() != null && sameImage(image, x.getConfig().getImage());
  }

  private static String bareId(String id) {
    return id.startsWith("sha256:") ? id.substring(7) : id;
  }

  static boolean sameImage(String a, String b) {
    return a != null && b != null && normalImage(a).equals(normalImage(b));
  }

  private static String normalImage(String ref) {
    String r = ref.startsWith("docker.io/") ? ref.substring("docker.io/".length()) : ref;
    return r.startsWith("library/") ? r.substring("library/".length()) : r;
  }

  private static Optional<InspectImageResponse> image(DockerClient c, String image) {
    try {
      return Optional.of(c.inspectImageCmd(image).exec());
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  private static String requireImage(DockerClient c, EngineRef engine, String image) {
    return image(c, image)
        .map(InspectImageResponse::getId)
        .orElseThrow(
            () ->
                ApplicationFailure.newNonRetryableFailure(
                    "image "
                        + image
                        + " is not on engine "
                        + engine.name()
                        + ": pull it first (the release's pull step), or check the version",
                    "ImageNotFound"));
  }

  private static String label(InspectImageResponse i, String key) {
    Map<String, String> l = i.getConfig() == null ? null : i.getConfig().getLabels();
    return l == null ? null : l.get(key);
  }

  private static ServiceRef requireService(ServiceRef s) {
    if (s == null) {
      throw invalid("no service given: configure the compose project and service");
    }
    DockerEngines.requireEngine(s.engine());
    if (s.project() == null || s.project().isBlank()) {
      throw invalid("no compose project given for service " + s.service() + ": configure project");
    }
    if (s.service() == null || s.service().isBlank()) {
      throw invalid("no service name given in compose project " + s.project());
    }
    return s;
  }

  /**
   * An image reference with an explicit tag or digest: releases never deploy "latest" by default.
   * The git adapter checks the tags it writes into compose files with it too.
   */
  public static String requireTaggedImage(String image) {
    if (image == null || image.isBlank()) {
      throw invalid("no image given: configure the image, e.g. cyverse/atmosphere:v36-1");
    }
    String i = image.strip();
    if (i.contains(" ")) {
      throw invalid("image '" + image + "' contains a space");
    }
    boolean digest = i.contains("@sha256:");
    int colon = i.lastIndexOf(':');
    if (!digest && (colon < 0 || colon < i.lastIndexOf('/') || colon == i.length() - 1)) {
      throw invalid(
          "image '" + image + "' has no tag: name the exact version, e.g. " + i + ":v36-1");
    }
    return i;
  }

  private static Duration readyWithin(Duration ready) {
    if (ready == null) {
      return DEFAULT_READY;
    }
    if (ready.isNegative() || ready.isZero()) {
      throw invalid("ready timeout " + ready + " must be positive, e.g. PT10M");
    }
    return ready;
  }

  private static void requireProbe(String url) {
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

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  private static String summary(List<InspectContainerResponse> all) {
    return all.stream()
        .map(x -> name(x) + " (" + number(x) + ", " + x.getState().getStatus() + ")")
        .collect(Collectors.joining(", "));
  }

  private static String listing(String did, List<String> a, String skipped, List<String> b) {
    return did
        + ": "
        + (a.isEmpty() ? "none" : String.join(", ", a))
        + (b.isEmpty() ? "" : "; " + skipped + ": " + String.join(", ", b));
  }

  static String shortId(String id) {
    String b = bareId(id);
    return b.length() > 12 && b.matches("[0-9a-f]+") ? b.substring(0, 12) : b;
  }

  static String tail(String s, int max) {
    String t = s == null ? "" : s.strip();
    return t.length() > max ? "..." + t.substring(t.length() - max) : t;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while waiting", "DockerEngineError");
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      log.debug("closing a stream: {}", e.getMessage());
    }
  }

  /**
   * A streamed response (exec output, pull progress) that can be waited on in slices, heartbeating
   * between them. docker-java's own {@code awaitCompletion(timeout)} closes the stream when its
   * timeout passes, so it cannot be used to poll.
   */
  private abstract static class Streaming<T> extends ResultCallback.Adapter<T> {
    private final CountDownLatch ended = new CountDownLatch(1);

    @Override
    public void onComplete() {
      super.onComplete();
      ended.countDown();
    }

    @Override
    public void onError(Throwable t) {
      super.onError(t);
      ended.countDown();
    }

    @Override
    public void close() throws IOException {
      super.close();
      ended.countDown();
    }

    boolean awaitEnd(Duration slice) throws InterruptedException {
      return ended.await(slice.toMillis(), TimeUnit.MILLISECONDS);
    }
  }
}
