package dev.crewchief.adapters.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compose files edited in a plain directory, no git involved: the checkout is whatever {@link
 * Checkouts} says. (The git adapter's clones are tested in ComposeCheckoutAdapterTest.)
 */
class ComposeFilesTest {
  static final String COMPOSE =
      """
      services:
        atmosphere:
          image: cyverse/atmosphere:v36-0  # the API
        nginx:
          image: nginx:1.17
      """;

  @TempDir Path dir;
  final AtomicInteger lookedUp = new AtomicInteger();

  /** The temporary directory as the checkout, counting how often the disk is asked. */
  final Checkouts here =
      new Checkouts() {
        @Override
        public GitRepoRef require(GitRepoRef repo) {
          if (repo == null) {
            throw ApplicationFailure.newNonRetryableFailure("no checkout", "InvalidInput");
          }
          return repo;
        }

        @Override
        public Path workTree(GitRepoRef repo) {
          lookedUp.incrementAndGet();
          return dir;
        }
      };

  final ComposeFiles files = new ComposeFiles(here);

  @BeforeEach
  void file() throws IOException {
    Files.writeString(dir.resolve("docker-compose.yml"), COMPOSE);
  }

  static ImageTagsRequest request(String file, Map<String, String> images, boolean dryRun) {
    return new ImageTagsRequest(
        "tags",
        new ComposeFileRef(new GitRepoRef("deploy", "/anywhere", null, null), file),
        images,
        dryRun);
  }

  ImageTagsResult set(Map<String, String> images, boolean dryRun) {
    return files.setImageTags(request("docker-compose.yml", images, dryRun));
  }

  @Test
  void readsAndSetsTheImagesInTheCheckoutsDirectory() throws IOException {
    Map<String, String> v1 = Map.of("atmosphere", "cyverse/atmosphere:v36-1");
    ImageTagsResult read = files.readImageTags(request("docker-compose.yml", v1, false));
    assertEquals(Map.of("atmosphere", "cyverse/atmosphere:v36-0"), read.previous());
    assertFalse(read.changed());

    ImageTagsResult dry = set(v1, true);
    assertTrue(dry.rehearsed() && dry.changed(), dry.action());
    assertTrue(dry.action().startsWith("would set the image of atmosphere"), dry.action());
    assertEquals(COMPOSE, Files.readString(dir.resolve("docker-compose.yml")));

    ImageTagsResult r = set(v1, false);
    assertTrue(r.changed());
    assertEquals(
        COMPOSE.replace(":v36-0", ":v36-1"), Files.readString(dir.resolve("docker-compose.yml")));
    ImageTagsResult again = set(v1, false);
    assertFalse(again.changed());
    assertTrue(again.action().contains("atmosphere already names"), again.action());
  }

  @Test
  void theFileIsReplacedWholeWithItsPermissions() throws IOException {
    Path file = dir.resolve("docker-compose.yml");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
    set(Map.of("nginx", "nginx:1.18"), false);
    assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(COMPOSE.replace("nginx:1.17", "nginx:1.18"), Files.readString(file));
    try (var left = Files.list(dir)) {
      assertEquals(List.of(file), left.toList(), "no temporary file is left behind");
    }
  }

  @Test
  void theRequestIsCheckedBeforeTheCheckoutIsLookedUp() {
    Map<String, String> v1 = Map.of("atmosphere", "cyverse/atmosphere:v36-1");
    for (ImageTagsRequest bad :
        List.of(
            request("/etc/docker-compose.yml", v1, false),
            request("../docker-compose.yml", v1, false),
            request(" ", v1, false),
            request("docker-compose.yml", Map.of(), false),
            request("docker-compose.yml", Map.of("atmosphere", "cyverse/atmosphere"), false),
            request("docker-compose.yml", Map.of("atmosphere", "Cyverse/atmosphere:v1"), true),
            new ImageTagsRequest("tags", null, v1, false),
            new ImageTagsRequest(
                "tags", new ComposeFileRef(null, "docker-compose.yml"), v1, false))) {
      ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> files.setImageTags(bad));
      assertEquals("InvalidInput", f.getType(), f.getOriginalMessage());
      assertTrue(f.isNonRetryable());
    }
    assertEquals(0, lookedUp.get());
  }

  @Test
  void aMissingFileOrServiceIsComposeFileInvalid() throws IOException {
    ApplicationFailure missing =
        assertThrows(
            ApplicationFailure.class,
            () -> files.readImageTags(request("other.yml", Map.of("nginx", "nginx:1"), false)));
    assertEquals("ComposeFileInvalid", missing.getType());
    assertTrue(missing.getOriginalMessage().contains("there is no other.yml"));
    ApplicationFailure service =
        assertThrows(ApplicationFailure.class, () -> set(Map.of("db", "postgres:16"), false));
    assertEquals("ComposeFileInvalid", service.getType());
    assertTrue(service.getOriginalMessage().contains("no service 'db'"));
    assertEquals(COMPOSE, Files.readString(dir.resolve("docker-compose.yml")));
  }
}
