package dev.crewchief.adapters;

import static dev.crewchief.adapters.GitRepos.git;
import static dev.crewchief.adapters.GitRepos.identify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.CutReleaseRequest;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ReleaseCut;
import dev.crewchief.adapters.git.GitActivitiesImpl;
import dev.crewchief.adapters.git.GitCli;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The git adapter against real repositories made here: a bare "origin" and a clone of it. Nothing
 * touches the machine's global git configuration: the test repositories carry their own identity,
 * and the test's own git commands ignore the global file.
 */
class GitAdapterTest {
  static final String CHANGELOG =
      """
      # Changelog
      All notable changes to this project will be documented in this file.

      ## [Unreleased](https://github.com/cyverse/atmosphere/compare/v36-0...HEAD)
      ### Added
      - Support multiple hostnames

      ### Fixed
      - Instance launch on a full quota

      ## [36-0](https://github.com/cyverse/atmosphere/compare/v35-0...v36-0) - 2019-05-01
      ### Added
      - Something older
      """;

  static final String CUT =
      """
      # Changelog
      All notable changes to this project will be documented in this file.

      ## [Unreleased](https://github.com/cyverse/atmosphere/compare/v36-1...HEAD)

      ## [36-1](https://github.com/cyverse/atmosphere/compare/v36-0...v36-1) - 2019-06-16
      ### Added
      - Support multiple hostnames

      ### Fixed
      - Instance launch on a full quota

      ## [36-0](https://github.com/cyverse/atmosphere/compare/v35-0...v36-0) - 2019-05-01
      ### Added
      - Something older
      """;

  @TempDir Path tmp;
  Path origin;
  Path clone;
  GitActivitiesImpl activities = new GitActivitiesImpl(new GitCli());

  @BeforeEach
  void repos() throws IOException {
    origin = tmp.resolve("origin.git");
    git(tmp, "init", "-q", "--bare", "-b", "main", origin.toString());
    Path seed = tmp.resolve("seed");
    git(tmp, "clone", "-q", origin.toString(), seed.toString());
    identify(seed);
    git(seed, "checkout", "-q", "-b", "main");
    Files.writeString(seed.resolve("CHANGELOG.md"), CHANGELOG);
    git(seed, "add", "CHANGELOG.md");
    git(seed, "commit", "-q", "-m", "Start");
    git(seed, "push", "-q", "origin", "main");
    git(seed, "checkout", "-q", "-b", "prod");
    Files.writeString(seed.resolve("variables.yml"), "env: prod\n");
    git(seed, "add", "variables.yml");
    git(seed, "commit", "-q", "-m", "Prod variables");
    git(seed, "push", "-q", "origin", "prod");
    clone = tmp.resolve("clone");
    git(tmp, "clone", "-q", "-b", "main", origin.toString(), clone.toString());
    identify(clone);
  }

  GitRepoRef repo() {
    return new GitRepoRef("atmosphere", clone.toString(), "origin", "main");
  }

  CutReleaseRequest cut(String tagName, boolean push, boolean dryRun) {
    return new CutReleaseRequest(
        "cut",
        repo(),
        "CHANGELOG.md",
        "36-1",
        tagName,
        "2019-06-16",
        "Release Bot",
        "release@crewchief.dev",
        push,
        dryRun);
  }

  @Test
  void cutMovesUnreleasedEntriesCommitsTagsAndPushes() throws IOException {
    ReleaseCut r = activities.cutRelease(cut(null, true, false));
    assertTrue(r.changed());
    assertFalse(r.rehearsed());
    assertEquals("v36-1", r.tag());
    String head = git(clone, "rev-parse", "HEAD");
    assertEquals(head, r.commit());
    assertEquals(CUT, Files.readString(clone.resolve("CHANGELOG.md")));
    assertEquals(CUT, git(clone, "show", "HEAD:CHANGELOG.md") + "\n");
    assertEquals("Release 36-1", git(clone, "log", "-1", "--format=%s"));
    assertEquals(
        "Release Bot <release@crewchief.dev>", git(clone, "log", "-1", "--format=%an <%ae>"));
    assertEquals(head, git(clone, "rev-parse", "v36-1^{commit}"));
    assertEquals("tag", git(clone, "cat-file", "-t", "v36-1"));
    String remote = git(clone, "ls-remote", origin.toString());
    assertTrue(remote.contains(head + "\trefs/heads/main"), remote);
    assertTrue(remote.contains(head + "\trefs/tags/v36-1^{}"), remote);

    // A retry, or a second run of the whole step: nothing more happens.
    ReleaseCut again = activities.cutRelease(cut(null, true, false));
    assertFalse(again.changed(), again.action());
    assertEquals(head, again.commit());
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
    assertEquals(remote, git(clone, "ls-remote", origin.toString()));
  }

  @Test
  void cutWithATagNameAndNoPushLeavesTheRemoteAlone() {
    String before = git(clone, "ls-remote", origin.toString());
    ReleaseCut r = activities.cutRelease(cut("release-36-1", false, false));
    assertTrue(r.changed());
    assertEquals(r.commit(), git(clone, "rev-parse", "release-36-1^{commit}"));
    assertEquals(before, git(clone, "ls-remote", origin.toString()));
  }

  @Test
  void linkReferenceDefinitionsAreKeptUpToDate() throws IOException {
    Files.writeString(
        clone.resolve("CHANGELOG.md"),
        """
        # Changelog

        ## [Unreleased]
        - New thing

        ## [36-0] - 2019-05-01
        - Old thing

        [Unreleased]: https://example.test/compare/v36-0...HEAD
        [36-0]: https://example.test/compare/v35-0...v36-0
        """);
    git(clone, "commit", "-q", "-am", "Reference links");
    ReleaseCut r = activities.cutRelease(cut(null, false, false));
    assertEquals(
        """
        # Changelog

        ## [Unreleased]

        ## [36-1] - 2019-06-16
        - New thing

        ## [36-0] - 2019-05-01
        - Old thing

        [Unreleased]: https://example.test/compare/v36-1...HEAD
        [36-1]: https://example.test/compare/v36-0...v36-1
        [36-0]: https://example.test/compare/v35-0...v36-0
        """,
        Files.readString(clone.resolve("CHANGELOG.md")));
  }

  @Test
  void committedButUntaggedReleaseIsTaggedWithoutANewCommit() throws IOException {
    // As if an earlier attempt stopped after its commit, or the changelog came in by a PR.
    Files.writeString(clone.resolve("CHANGELOG.md"), CUT);
    git(clone, "commit", "-q", "-am", "Release 36-1 by hand");
    String head = git(clone, "rev-parse", "HEAD");
    ReleaseCut r = activities.cutRelease(cut(null, true, false));
    assertTrue(r.changed());
    assertEquals(head, r.commit());
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
    assertEquals(head, git(clone, "rev-parse", "v36-1^{commit}"));
    assertTrue(git(clone, "ls-remote", origin.toString()).contains(head + "\trefs/heads/main"));
  }

  @Test
  void tagOnAnotherCommitIsTagConflict() throws IOException {
    String old = git(clone, "rev-parse", "HEAD");
    git(clone, "tag", "v36-1");
    Files.writeString(clone.resolve("README.md"), "more\n");
    git(clone, "add", "README.md");
    git(clone, "commit", "-q", "-m", "More");
    String head = git(clone, "rev-parse", "HEAD");
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> activities.cutRelease(cut(null, true, false)));
    assertEquals("TagConflict", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(old), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains(head), f.getOriginalMessage());
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
    assertEquals(CHANGELOG, Files.readString(clone.resolve("CHANGELOG.md")));
  }

  @Test
  void tagOnTheRemoteAtAnotherCommitIsTagConflictBeforeAnythingChanges() throws IOException {
    git(clone, "tag", "v36-1");
    git(clone, "push", "-q", "origin", "v36-1");
    git(clone, "tag", "-d", "v36-1");
    String head = git(clone, "rev-parse", "HEAD");
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> activities.cutRelease(cut(null, true, false)));
    assertEquals("TagConflict", f.getType());
    assertTrue(f.getOriginalMessage().contains("origin"), f.getOriginalMessage());
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
    assertEquals(CHANGELOG, Files.readString(clone.resolve("CHANGELOG.md")));
  }

  @Test
  void emptyUnreleasedIsNothingToRelease() throws IOException {
    Files.writeString(
        clone.resolve("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n\n## [36-0] - 2019-05-01\n- x\n");
    git(clone, "commit", "-q", "-am", "Empty");
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class, () -> activities.cutRelease(cut(null, false, false)));
    assertEquals("NothingToRelease", f.getType());
    assertTrue(f.isNonRetryable());
  }

  @Test
  void dryRunReportsTheCutAndChangesNothing() throws IOException {
    String head = git(clone, "rev-parse", "HEAD");
    String remote = git(clone, "ls-remote", origin.toString());
    ReleaseCut r = activities.cutRelease(cut(null, true, true));
    assertTrue(r.rehearsed());
    assertTrue(r.changed());
    assertTrue(r.action().contains("- Support multiple hostnames"), r.action());
    assertTrue(
        r.action()
            .contains(
                "## [36-1](https://github.com/cyverse/atmosphere/compare/v36-0...v36-1) -"
                    + " 2019-06-16"),
        r.action());
    assertTrue(r.action().contains("v36-1"), r.action());
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
    assertEquals("", git(clone, "tag", "-l"));
    assertEquals("", git(clone, "status", "--porcelain"));
    assertEquals(CHANGELOG, Files.readString(clone.resolve("CHANGELOG.md")));
    assertEquals(remote, git(clone, "ls-remote", origin.toString()));
  }

  @Test
  void missingRepoIsRepoMissing() {
    GitRepoRef missing = new GitRepoRef("gone", tmp.resolve("nowhere").toString(), null, null);
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> activities.checkoutBranch(new CheckoutRequest("co", missing, "prod", false)));
    assertEquals("RepoMissing", f.getType());
    assertTrue(f.isNonRetryable());
    GitRepoRef notGit = new GitRepoRef("plain", tmp.toString(), null, null);
    ApplicationFailure g =
        assertThrows(
            ApplicationFailure.class,
            () ->
                activities.cutRelease(
                    new CutReleaseRequest(
                        "cut",
                        notGit,
                        null,
                        "36-1",
                        null,
                        "2019-06-16",
                        null,
                        null,
                        false,
                        false)));
    assertEquals("RepoMissing", g.getType());
  }

  @Test
  void unreachableRemoteIsRetryable() {
    git(clone, "remote", "set-url", "origin", tmp.resolve("no-such-origin.git").toString());
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> activities.cutRelease(cut(null, true, false)));
    assertEquals("GitRemoteUnreachable", f.getType());
    assertFalse(f.isNonRetryable());
    ApplicationFailure g =
        assertThrows(
            ApplicationFailure.class,
            () -> activities.checkoutBranch(new CheckoutRequest("co", repo(), "prod", false)));
    assertEquals("GitRemoteUnreachable", g.getType());
  }

  @Test
  void checkoutSwitchesACleanCloneToTheBranchAtItsUpstream() throws IOException {
    String prod = git(origin, "rev-parse", "refs/heads/prod");
    ActionResult r = activities.checkoutBranch(new CheckoutRequest("co", repo(), "prod", false));
    assertFalse(r.rehearsed());
    assertEquals(prod, r.output());
    assertEquals("prod", git(clone, "symbolic-ref", "--short", "HEAD"));
    assertEquals(prod, git(clone, "rev-parse", "HEAD"));
    assertTrue(Files.exists(clone.resolve("variables.yml")));

    // The upstream moves on: a second checkout brings the clone to it.
    Path other = tmp.resolve("other");
    git(tmp, "clone", "-q", "-b", "prod", origin.toString(), other.toString());
    identify(other);
    Files.writeString(other.resolve("variables.yml"), "env: prod\nnew: true\n");
    git(other, "commit", "-q", "-am", "New variable");
    git(other, "push", "-q", "origin", "prod");
    String moved = git(other, "rev-parse", "HEAD");
    ActionResult again =
        activities.checkoutBranch(new CheckoutRequest("co", repo(), "prod", false));
    assertEquals(moved, again.output());
    assertEquals(moved, git(clone, "rev-parse", "HEAD"));
    assertEquals("", git(clone, "status", "--porcelain"));
  }

  @Test
  void checkoutDryRunChangesNothing() {
    String head = git(clone, "rev-parse", "HEAD");
    ActionResult r = activities.checkoutBranch(new CheckoutRequest("co", repo(), "prod", true));
    assertTrue(r.rehearsed());
    assertTrue(r.action().contains("prod"), r.action());
    assertEquals("main", git(clone, "symbolic-ref", "--short", "HEAD"));
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
  }

  @Test
  void dirtyWorkTreeIsWorkTreeDirtyNamingTheFiles() throws IOException {
    Files.writeString(clone.resolve("CHANGELOG.md"), "edited\n");
    Files.writeString(clone.resolve("notes.txt"), "untracked\n");
    String head = git(clone, "rev-parse", "HEAD");
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> activities.checkoutBranch(new CheckoutRequest("co", repo(), "prod", false)));
    assertEquals("WorkTreeDirty", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("CHANGELOG.md"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("notes.txt"), f.getOriginalMessage());
    assertEquals("main", git(clone, "symbolic-ref", "--short", "HEAD"));
    assertEquals(head, git(clone, "rev-parse", "HEAD"));
    assertEquals("edited\n", Files.readString(clone.resolve("CHANGELOG.md")));
  }

  @Test
  void localCommitsTheUpstreamLacksAreNotResetAway() throws IOException {
    git(clone, "checkout", "-q", "prod");
    Files.writeString(clone.resolve("variables.yml"), "env: prod\nlocal: true\n");
    git(clone, "commit", "-q", "-am", "Local only");
    String local = git(clone, "rev-parse", "HEAD");
    git(clone, "checkout", "-q", "main");
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> activities.checkoutBranch(new CheckoutRequest("co", repo(), "prod", false)));
    assertEquals("LocalCommitsAhead", f.getType());
    assertTrue(f.getOriginalMessage().contains("Local only"), f.getOriginalMessage());
    assertEquals(local, git(clone, "rev-parse", "refs/heads/prod"));
    assertNotEquals(local, git(origin, "rev-parse", "refs/heads/prod"));
  }
}
