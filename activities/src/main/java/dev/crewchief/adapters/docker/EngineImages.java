package dev.crewchief.adapters.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.crewchief.activities.EngineRef;
import io.temporal.failure.ApplicationFailure;
import java.util.Map;
import java.util.Optional;

/** The images an engine holds, and whether a container runs one of them. */
final class EngineImages {
  private EngineImages() {}

  /** The image of that reference on the engine, if it has it. */
  static Optional<InspectImageResponse> find(DockerClient c, String image) {
    try {
      return Optional.of(c.inspectImageCmd(image).exec());
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  /**
   * The id of the image on the engine; a non-retryable {@code ImageNotFound} when it is not there.
   * Deploys do not pull: the release pulls in a step of its own, which the message points to.
   */
  static String require(DockerClient c, EngineRef engine, String image) {
    return find(c, image)
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

  /** A label of the image, or null. */
  static String label(InspectImageResponse i, String key) {
    Map<String, String> l = i.getConfig() == null ? null : i.getConfig().getLabels();
    return l == null ? null : l.get(key);
  }

  /**
   * Whether the container runs the image: by image id when the engine knows the image (a tag that
   * was pushed again names a new image, and containers made from the old one are not on it), else
   * by reference, read as the engine reads it.
   */
  static boolean onImage(InspectContainerResponse x, String image, String imageId) {
    if (imageId != null && x.getImageId() != null) {
      return Containers.bareId(imageId).equals(Containers.bareId(x.getImageId()));
    }
    return x.getConfig() != null && ImageRef.same(image, x.getConfig().getImage());
  }
}
