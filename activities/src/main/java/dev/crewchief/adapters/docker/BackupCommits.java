package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.ComposeLabels.number;
import static dev.crewchief.adapters.docker.ComposeLabels.requireContainers;
import static dev.crewchief.adapters.docker.ComposeLabels.requireService;
import static dev.crewchief.adapters.docker.Containers.name;
import static dev.crewchief.adapters.docker.Containers.shortId;
import static dev.crewchief.adapters.docker.DockerFailures.guard;
import static dev.crewchief.adapters.docker.DockerFailures.invalid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommitRequest;
import dev.crewchief.activities.ServiceRef;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Docker.commitContainer}: a container committed to a backup image before a release changes
 * it. The image is marked with the id of the container it came from, so that a retry recognises its
 * own earlier commit and keeps it, while a backup of that name from anything else is refused rather
 * than overwritten.
 */
final class BackupCommits {
  private static final Logger log = LoggerFactory.getLogger(BackupCommits.class);

  /** Marks a backup image with the container it was committed from, for idempotent commits. */
  static final String SOURCE = "crewchief.source-container";

  private final DockerEngines engines;
  private final ObjectMapper json = new ObjectMapper();

  BackupCommits(DockerEngines engines) {
    this.engines = engines;
  }

  ActionResult commitContainer(CommitRequest r) {
    ServiceRef s = requireService(r.service());
    ImageRef backup = backupImage(r.repository(), r.tag());
    if (r.number() < 0) {
      throw invalid("container number " + r.number() + " of " + s.describe() + " is negative");
    }
    String image = backup.toString();
    String which =
        r.number() == 0 ? "the lowest-numbered container" : "container number " + r.number();
    if (r.dryRun()) {
      return new ActionResult(
          "commit " + which + " of " + s.describe() + " to the backup image " + image, true, "");
    }
    DockerEngines.Engine engine = engines.engine(s.engine());
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
                                  + ComposeLabels.summary(all),
                              "ServiceNotFound"));
          String action =
              "commit " + name(x) + " (" + s.describe() + ") to the backup image " + image;
          Optional<InspectImageResponse> existing = EngineImages.find(c, image);
          if (existing.isPresent()) {
            String from = EngineImages.label(existing.get(), SOURCE);
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
                  () -> commit(engine, x.getId(), backup.name(), backup.tag()));
          // Act, then verify: the image must carry the mark that makes a retry recognise it.
          InspectImageResponse made =
              EngineImages.find(c, image)
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newFailure(
                              "engine reported commit " + id + " but " + image + " is not there",
                              "DockerEngineError"));
          if (!x.getId().equals(EngineImages.label(made, SOURCE))) {
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
   * The backup image: a repository name without tag or digest, and a tag of its own. The repository
   * is checked as written (surrounding blanks are refused, not stripped), because it is the name
   * the backup is found by later.
   */
  static ImageRef backupImage(String repository, String tag) {
    String refused =
        "backup repository '"
            + repository
            + "' is not a repository name (lowercase, without a tag), e.g."
            + " localhost/atmosphere-backup";
    if (repository == null || repository.isEmpty() || !repository.equals(repository.strip())) {
      throw invalid(refused);
    }
    ImageRef repo;
    try {
      repo = ImageRef.parse(repository);
    } catch (ApplicationFailure malformed) {
      throw invalid(refused + " (" + malformed.getOriginalMessage() + ")");
    }
    if (repo.tag() != null || repo.digest() != null) {
      throw invalid(refused);
    }
    if (!ImageRef.isTag(tag)) {
      throw invalid("backup tag '" + tag + "' is not a valid image tag, e.g. before-36-1");
    }
    return new ImageRef(repo.registry(), repo.repository(), tag, null);
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

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
