package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.DockerFailures.guard;
import static dev.crewchief.adapters.docker.DockerFailures.message;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.PullResponseItem;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.Progress;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.adapters.io.ActivityIo;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Docker.pullImage} and {@code Docker.awaitImage}: an image pulled from its registry with
 * the engine's login, the layers' progress in the heartbeats. The two differ only in how a tag the
 * registry does not know is classified (see {@link PullFailures}).
 */
final class ImagePulls {
  private static final Logger log = LoggerFactory.getLogger(ImagePulls.class);

  private final DockerEngines engines;
  private final RegistryLogins logins;

  ImagePulls(DockerEngines engines, RegistryLogins logins) {
    this.engines = engines;
    this.logins = logins;
  }

  /** A pull; {@code awaiting} a tag that may not be published yet. */
  ActionResult pull(PullRequest r, boolean awaiting) {
    EngineRef engine = r.engine();
    DockerEngines.requireEngine(engine);
    ImageRef ref = ImageRef.parseTagged(r.image());
    String image = ref.toString();
    RegistryLogins.requireWellFormed(engine);
    String action =
        "on engine "
            + engine.name()
            + ": pull "
            + image
            + (r.ifMissing() ? " unless it is already there" : "");
    if (r.dryRun()) {
      // The login the real pull will use must resolve on this worker (its value is not used).
      if (RegistryLogins.configured(engine)) {
        logins.login(engine, ref);
      }
      return new ActionResult(action, true, "");
    }
    DockerClient c = engines.engine(engine).client();
    return guard(
        null,
        engine,
        () -> {
          if (r.ifMissing() && EngineImages.find(c, image).isPresent()) {
            return new ActionResult(action, false, image + " is already on the engine: not pulled");
          }
          log.info("step '{}': {}", r.step(), action);
          pull(c, engine, ref, awaiting);
          InspectImageResponse got =
              EngineImages.find(c, image)
                  .orElseThrow(
                      () ->
                          ApplicationFailure.newFailure(
                              "pull of " + image + " ended but the image is not on the engine",
                              "DockerEngineError"));
          return new ActionResult(
              action, false, "pulled " + image + " (" + Containers.shortId(got.getId()) + ")");
        });
  }

  private void pull(DockerClient c, EngineRef engine, ImageRef ref, boolean awaiting) {
    String image = ref.toString();
    // The API takes the name and, as its tag, the tag or the digest; with both, the digest wins,
    // as it does for docker pull.
    var cmd = c.pullImageCmd(ref.name()).withTag(ref.digest() != null ? ref.digest() : ref.tag());
    if (RegistryLogins.configured(engine)) {
      cmd.withAuthConfig(logins.login(engine, ref));
    }
    try {
      // Engines report a failed pull inside the progress stream of a 200 response, so the stream
      // is read for errors rather than trusting the status.
      StringBuilder error = new StringBuilder();
      // Layer id to its bytes downloaded and total, for the heartbeats' progress.
      Map<String, long[]> layers = new ConcurrentHashMap<>();
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
          throw PullFailures.classify(engine, image, error.toString(), awaiting);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure(
          "interrupted while pulling " + image, "DockerEngineError");
    } catch (ApplicationFailure f) {
      throw f;
    } catch (RuntimeException e) {
      if (!(e instanceof DockerException)
          && !(e instanceof DockerClientException)
          && DockerFailures.hasCause(e, IOException.class)) {
        // Our socket to the engine failed, not the engine's connection to the registry.
        throw DockerFailures.unreachable(engine, e);
      }
      throw PullFailures.classify(engine, image, message(e), awaiting);
    }
  }
}
