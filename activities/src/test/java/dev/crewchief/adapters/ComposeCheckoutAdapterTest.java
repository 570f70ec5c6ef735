package dev.crewchief.adapters;

import static dev.crewchief.adapters.GitRepos.git;
import static dev.crewchief.adapters.GitRepos.identify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.adapters.git.GitActivitiesImpl;
import dev.crewchief.adapters.git.GitCli;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runbook's steps 5 and 6 on a real atmosphere-docker clone (a bare origin and a clone of it):
 * the checkout brought up to date with a person's local changes stashed instead of reset away, and
 * the image tags of docker-compose.prod.yml set with nothing else in the file changed.
 */
class ComposeCheckoutAdapterTest {
  static final String COMPOSE =
      """
      # atmosphere-docker, production
      version: "3.7"

      services:
        troposphere:
          image: "cyverse/troposphere:v36-0"   # bumped on every release
          environment:
            - IMAGE_NOTE=image: not this one
          depends_on: [atmosphere]

        atmosphere:
          # The API.
          image: cyverse/atmosphere:v36-0
          volumes:
            - ./logs:/opt/dev/atmosphere/logs

        nginx:
          image: 'nginx:1.17'
      """;

  @TempDir Path tmp;
  Path origin;
  Path clone;
  final GitActivitiesImpl activities = new GitActivitiesImpl(new GitCli());

  @BeforeEach
  void repos() throws IOException {
    origin = tmp.resolve("atmosphere-docker.git");
    git(tmp, "init", "-q", "--bare", "-b", "master", origin.toString());
    Path seed = tmp.resolve("seed");
    git(tmp, "clone", "-q", origin.toString(), seed.toString());
    identify(seed);
    git(seed, "checkout", "-q", "-b", "master");
    Files.writeString(seed.resolve("docker-compose.prod.yml"), COMPOSE);
    Files.writeString(seed.resolve("atmosphere-docker.sh"), "#!/bin/sh\ndocker-compose \"$@\"\n");
    git(seed, "add", ".");
    git(seed, "commit", "-q", "-m", "Production compose file");
    git(seed, "push", "-q", "origin", "master");
    clone = tmp.resolve("atmosphere-docker");
    git(tmp, "clone", "-q", "-b", "master", origin.toString(), clone.toString());
    identify(clone);
  }

  ComposeFileRef compose() {
    return new ComposeFileRef(
        new GitRepoRef("atmosphere-docker", clone.toString(), "origin", "master"),
        "docker-compose.prod.yml");
  }

  static Map<String, String> release(String version) {
    Map<String, String> images = new LinkedHashMap<>();
    images.put("troposphere", "cyverse/troposphere:v" + version);
    images.put("atmosphere", "cyverse/atmosphere:v" + version);
    return images;
  }

  ImageTagsResult set(Map<String, String> images, boolean dryRun) {
    return activities.setImageTags(new ImageTagsRequest("tags", compose(), images, dryRun));
  }

  @Test
  void setsOnlyTheImageLinesAndIsIdempotent() throws IOException {
    ImageTagsResult read =
        activities.readImageTags(new ImageTagsRequest("read", compose(), release("36-1"), false));
    assertEquals(
        Map.of(
            "troposphere", "cyverse/troposphere:v36-0", "atmosphere", "cyverse/atmosphere:v36-0"),
        read.previous());
    assertFalse(read.changed());
    assertEquals(COMPOSE, Files.readString(clone.resolve("docker-compose.prod.yml")));
    ImageTagsResult dry = set(release("36-1"), true);
    assertTrue(dry.rehearsed());
    assertTrue(dry.changed());
    assertEquals(COMPOSE, Files.readString(clone.resolve("docker-compose.prod.yml")));

    ImageTagsResult r = set(release("36-1"), false);
    assertTrue(r.changed());
    assertEquals(
        Map.of(
            "troposphere", "cyverse/troposphere:v36-0", "atmosphere", "cyverse/atmosphere:v36-0"),
        r.previous());
    assertTrue(r.action().contains("(was cyverse/atmosphere:v36-0)"), r.action());
    // Exactly the two image lines changed, quotes and comments kept; nothing committed.
    String diff = git(clone, "diff", "-U0", "--no-color", "docker-compose.prod.yml");
    List<String> changed = diff.lines().filter(l -> l.matches("^[-+][^-+].*")).toList();
    assertEquals(
        List.of(
            "-    image: \"cyverse/troposphere:v36-0\"   # bumped on every release",
            "+    image: \"cyverse/troposphere:v36-1\"   # bumped on every release",
            "-    image: cyverse/atmosphere:v36-0",
            "+    image: cyverse/atmosphere:v36-1"),
        changed,
        diff);
    assertEquals(
        COMPOSE.replace(":v36-0", ":v36-1"),
        Files.readString(clone.resolve("docker-compose.prod.yml")));
    assertEquals("1", git(clone, "rev-list", "--count", "HEAD"));

    ImageTagsResult again = set(release("36-1"), false);
    assertFalse(again.changed());
    assertTrue(again.action().contains("already names"), again.action());
    assertEquals(release("36-1"), again.previous());

    // A rollback sets the previous tags back: the file is as it was.
    set(r.previous(), false);
    assertEquals(COMPOSE, Files.readString(clone.resolve("docker-compose.prod.yml")));
    assertEquals("", git(clone, "status", "--porcelain"));
  }

  void assertRefused(String compose, String expected) throws IOException {
    Files.writeString(clone.resolve("docker-compose.prod.yml"), compose);
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> set(release("36-1"), false));
    assertEquals("ComposeFileInvalid", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(expected), f.getOriginalMessage());
    assertEquals(compose, Files.readString(clone.resolve("docker-compose.prod.yml")));
  }

  @Test
  void whatCannotBeEditedSafelyIsRefusedAndLeftAsItWas() throws IOException {
    assertRefused(
        COMPOSE.replace("cyverse/atmosphere:v36-0", "cyverse/atmosphere:${ATMO_TAG}"),
        "set through a variable");
    assertRefused(COMPOSE.replace("  atmosphere:\n", "  atmo:\n"), "no service 'atmosphere'");
    assertRefused(
        COMPOSE.replace("    image: cyverse/atmosphere:v36-0\n", "    build: .\n"),
        "has no `image:` line of its own");
    assertRefused(
        """
        x-app: &app
          image: cyverse/atmosphere:v36-0
        services:
          troposphere:
            image: cyverse/troposphere:v36-0
          atmosphere:
            <<: *app
        """,
        "atmosphere");
    assertRefused("services: {troposphere: {image: a:b}}\n", "flow mapping");
    assertRefused("services:\n  atmosphere: [\n", "not valid YAML");
    Files.delete(clone.resolve("docker-compose.prod.yml"));
    ApplicationFailure missing =
        assertThrows(ApplicationFailure.class, () -> set(release("36-1"), false));
    assertEquals("ComposeFileInvalid", missing.getType());
    assertTrue(missing.getOriginalMessage().contains("there is no docker-compose.prod.yml"));
    ApplicationFailure badImage =
        assertThrows(
            ApplicationFailure.class, () -> set(Map.of("atmosphere", "cyverse/atmosphere"), false));
    assertEquals("InvalidInput", badImage.getType());
  }

  @Test
  void theUpdateStashesLocalChangesListsWhatCameInAndKeepsUntrackedFiles() throws IOException {
    // Someone edited the compose file by hand, and keeps a local file next to it.
    String local = COMPOSE.replace("nginx:1.17", "nginx:1.17-hotfixed");
    Files.writeString(clone.resolve("docker-compose.prod.yml"), local);
    Files.writeString(clone.resolve("notes.txt"), "mine\n");
    // Meanwhile the team pushed a change.
    Path other = tmp.resolve("other");
    git(tmp, "clone", "-q", "-b", "master", origin.toString(), other.toString());
    identify(other);
    Files.writeString(
        other.resolve("atmosphere-docker.sh"), "#!/bin/sh\nexec docker-compose \"$@\"\n");
    git(other, "commit", "-q", "-am", "Exec docker-compose");
    git(other, "push", "-q", "origin", "master");
    String upstream = git(other, "rev-parse", "HEAD");

    ActionResult dry =
        activities.checkoutBranch(
            new CheckoutRequest("co", compose().repo(), "master", true, "crewchief test"));
    assertTrue(dry.action().contains("stash the local changes in 1 files"), dry.action());
    assertEquals(local, Files.readString(clone.resolve("docker-compose.prod.yml")));

    ActionResult r =
        activities.checkoutBranch(
            new CheckoutRequest(
                "co", compose().repo(), "master", false, "crewchief release-x: before update"));
    assertEquals(upstream, r.output());
    assertEquals(upstream, git(clone, "rev-parse", "HEAD"));
    assertTrue(r.action().contains("stashed the local changes in 1 files"), r.action());
    assertTrue(
        r.action().contains("brought in 1 commits") && r.action().contains("Exec docker-compose"),
        r.action());
    assertTrue(r.action().contains("atmosphere-docker.sh"), r.action());
    // Nothing lost: the edit is in the stash, the untracked file where it was.
    assertEquals(COMPOSE, Files.readString(clone.resolve("docker-compose.prod.yml")));
    assertTrue(git(clone, "stash", "list").contains("crewchief release-x: before update"));
    assertTrue(git(clone, "stash", "show", "-p").contains("+    image: 'nginx:1.17-hotfixed'"));
    assertEquals("mine\n", Files.readString(clone.resolve("notes.txt")));

    // Again, nothing to do: no second stash.
    ActionResult again =
        activities.checkoutBranch(
            new CheckoutRequest("co", compose().repo(), "master", false, "crewchief again"));
    assertFalse(again.action().contains("stashed"), again.action());
    assertEquals(1, git(clone, "stash", "list").lines().count());
  }

  @Test
  void anUntrackedFileTheUpdateWouldOverwriteIsRefused() throws IOException {
    Files.writeString(clone.resolve(".env"), "ATMO_TAG=mine\n");
    Path other = tmp.resolve("other");
    git(tmp, "clone", "-q", "-b", "master", origin.toString(), other.toString());
    identify(other);
    Files.writeString(other.resolve(".env"), "ATMO_TAG=theirs\n");
    git(other, "add", ".env");
    git(other, "commit", "-q", "-m", "Add .env");
    git(other, "push", "-q", "origin", "master");
    String head = git(clone, "rev-parse", "HEAD");
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                activities.checkoutBranch(
                    new CheckoutRequest("co", compose().repo(), "master", false, "crewchief x")));
    assertEquals("WorkTreeDirty", f.getType());
    assertTrue(f.getOriginalMessage().contains(".env"), f.getOriginalMessage());
    assertEquals("ATMO_TAG=mine\n", Files.readString(clone.resolve(".env")));
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
  }
}
