package dev.crewchief.adapters.compose;

import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.adapters.docker.ImageRef;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The image tags of services in a compose file of a checkout, read and set the way a person edits
 * the file (see {@link ComposeFile}): the runbook's "edit docker-compose.prod.yml to use image tags
 * from the new release". Nothing is committed.
 *
 * <p>These are the {@code Git.readImageTags} and {@code Git.setImageTags} activities, which stay on
 * {@code GitActivities} because running workflow histories hold those names; the git adapter
 * delegates them here. For the same reason the failure types are those the interface documents:
 * {@code ComposeFileInvalid} and {@code InvalidInput} (not retried), and {@code GitCommandFailed}
 * (retried) when the file cannot be read or written.
 */
public final class ComposeFiles {
  private static final Logger log = LoggerFactory.getLogger(ComposeFiles.class);

  private final Checkouts checkouts;

  public ComposeFiles(Checkouts checkouts) {
    this.checkouts = checkouts;
  }

  /** The images the file names now for the request's services; changes nothing. */
  public ImageTagsResult readImageTags(ImageTagsRequest r) {
    ImageTags t = imageTags(r);
    return new ImageTagsResult(
        t.compose().describe()
            + " names "
            + t.previous().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ")),
        r.dryRun(),
        t.previous(),
        false);
  }

  /**
   * Sets the request's images, verified by reading the file back; services already on their image
   * are left alone, and a file that names them all is not written at all.
   */
  public ImageTagsResult setImageTags(ImageTagsRequest r) {
    ImageTags t = imageTags(r);
    ComposeFileRef compose = t.compose();
    Map<String, String> previous = t.previous();
    String updated;
    try {
      updated = t.file().with(r.images());
    } catch (ComposeFile.Invalid e) {
      throw composeInvalid(e.getMessage() + " (" + compose.repo().describe() + ")");
    }
    Path path = t.path();
    List<String> set = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    for (Map.Entry<String, String> e : r.images().entrySet()) {
      String was = previous.get(e.getKey());
      // The text is compared, not the image: the file is to say exactly what the release asked
      // for, so that reading it back (and a rollback to `previous`) gives the same text.
      if (was.equals(e.getValue())) {
        kept.add(e.getKey() + " already names " + was);
      } else {
        set.add(e.getKey() + " to " + e.getValue() + " (was " + was + ")");
      }
    }
    boolean changed = !set.isEmpty();
    String what =
        (set.isEmpty() ? "" : "set the image of " + String.join(", ", set))
            + (set.isEmpty() || kept.isEmpty() ? "" : "; ")
            + String.join(", ", kept)
            + " in "
            + compose.describe()
            + (changed ? " (not committed)" : "");
    if (r.dryRun()) {
      return new ImageTagsResult("would " + what, true, previous, changed);
    }
    if (changed) {
      writeReplacing(path, updated);
      String back = readOrNull(path);
      if (!updated.equals(back)) {
        throw ApplicationFailure.newFailure(
            path + " does not hold the new image tags after writing it", "GitCommandFailed");
      }
      log.info("step '{}': {}", r.step(), what);
    }
    return new ImageTagsResult(what, false, previous, changed);
  }

  /** A compose file read for an image-tags request: where it is, the file, what it names. */
  private record ImageTags(
      ComposeFileRef compose, Path path, ComposeFile file, Map<String, String> previous) {}

  /**
   * Checks the request, then reads the file. Everything that needs no disk is checked first, so a
   * request that is wrong in several ways names the same problem on every worker.
   */
  private ImageTags imageTags(ImageTagsRequest r) {
    ComposeFileRef compose = r == null ? null : r.compose();
    if (compose == null) {
      throw invalid("no compose file given: configure atmosphere.compose (path and file)");
    }
    GitRepoRef repo = checkouts.require(compose.repo());
    String file = compose.file() == null || compose.file().isBlank() ? null : compose.file();
    if (file == null || file.startsWith("/") || List.of(file.split("/")).contains("..")) {
      throw invalid(
          "compose file '"
              + file
              + "' must be a path relative to the clone, e.g. docker-compose.prod.yml");
    }
    if (r.images() == null || r.images().isEmpty()) {
      throw invalid("no images given for " + compose.describe());
    }
    r.images().values().forEach(ImageRef::parseTagged);
    Path path = checkouts.workTree(repo).resolve(file);
    String text = readOrNull(path);
    if (text == null) {
      throw composeInvalid(
          "there is no " + file + " in " + repo.describe() + ": check atmosphere.compose.file");
    }
    try {
      ComposeFile parsed = ComposeFile.parse(file, text);
      return new ImageTags(compose, path, parsed, parsed.images(r.images().keySet()));
    } catch (ComposeFile.Invalid e) {
      throw composeInvalid(e.getMessage() + " (" + repo.describe() + ")");
    }
  }

  /**
   * Replaces the file through a sibling temporary file and a rename, so that a crash never leaves
   * half a compose file; the file keeps its permissions and owner.
   */
  private static void writeReplacing(Path path, String text) {
    Path tmp = path.resolveSibling("." + path.getFileName() + ".crewchief-tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      try {
        Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(path));
        Files.setOwner(tmp, Files.getOwner(path));
      } catch (UnsupportedOperationException | IOException e) {
        log.debug("could not copy the attributes of {}: {}", path, e.getMessage());
      }
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot write " + path + ": " + e.getMessage(), "GitCommandFailed");
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        log.debug("could not remove {}: {}", tmp, e.getMessage());
      }
    }
  }

  private static String readOrNull(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot read " + file + ": " + e.getMessage(), "GitCommandFailed");
    }
  }

  private static ApplicationFailure composeInvalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "ComposeFileInvalid");
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
