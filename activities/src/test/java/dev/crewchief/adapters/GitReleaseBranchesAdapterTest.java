package dev.crewchief.adapters;

import static dev.crewchief.adapters.GitRepos.git;
import static dev.crewchief.adapters.GitRepos.identify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.BranchSync;
import dev.crewchief.activities.BranchSyncRequest;
import dev.crewchief.activities.ChangeReview;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ReviewRequest;
import dev.crewchief.activities.TagRequest;
import dev.crewchief.adapters.git.GitActivitiesImpl;
import dev.crewchief.adapters.git.GitCli;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The METASPACE runbook's "Review changes" and "Update git branches and tags" on real repositories:
 * a bare origin with {@code master} and {@code release}, release tags and pull requests merged the
 * two ways GitHub merges them, a person's clone ({@code seed}) that pushes to it meanwhile, and the
 * worker's clone the activities work in. Every change is read back from the bare origin.
 */
class GitReleaseBranchesAdapterTest {
  static final String ES_EXPORT = "metaspace/engine/sm/engine/es_export.py";
  static final String GQL_MIGRATION = "metaspace/graphql/src/migrations/1700000000000-Add.ts";
  static final String NOTES =
      """
      Release notes:
        [Task] Add ES fields #921
      #922 Fix the datasets page
      """;

  @TempDir Path tmp;
  Path origin;
  Path seed;
  Path clone;
  String released;
  final GitActivitiesImpl activities = new GitActivitiesImpl(new GitCli());

  @BeforeEach
  void repos() throws IOException {
    origin = tmp.resolve("metaspace.git");
    git(tmp, "init", "-q", "--bare", "-b", "master", origin.toString());
    seed = tmp.resolve("seed");
    git(tmp, "clone", "-q", origin.toString(), seed.toString());
    identify(seed);
    git(seed, "checkout", "-q", "-b", "master");
    commit(seed, ES_EXPORT, "fields = ['id']\n", "Start");
    commit(seed, "README.md", "METASPACE\n", "Old feature (#900)");
    git(seed, "tag", "-a", "-m", "Release 1.7.9", "1.7.9");
    commit(seed, "metaspace/webapp/app.js", "v1\n", "Released feature (#910)");
    git(seed, "tag", "-a", "-m", "Release 1.7.10", "1.7.10");
    released = git(seed, "rev-parse", "HEAD");
    git(seed, "branch", "release");
    // A tag that sorts after 1.7.10 but names a commit master never got, and one that is no
    // release tag at all.
    git(seed, "checkout", "-q", "-b", "experiment");
    commit(seed, "experiment.txt", "x\n", "Experiment");
    git(seed, "tag", "1.8.0");
    git(seed, "checkout", "-q", "master");
    git(seed, "tag", "nightly");
    // Since the release: a pull request merged with a merge commit, one squashed, a direct push.
    git(seed, "checkout", "-q", "-b", "es-fields");
    commit(seed, ES_EXPORT, "fields = ['id', 'new_field']\n", "Export the new field");
    git(seed, "checkout", "-q", "master");
    git(
        seed,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge pull request #921 from alice/es-fields",
        "-m",
        "Add ES fields",
        "es-fields");
    commit(seed, GQL_MIGRATION, "export class Add {}\n", "Fix the datasets page (#922)");
    commit(seed, "README.md", "METASPACE\nmore\n", "Tweak the readme");
    git(seed, "push", "-q", "origin", "master", "release", "experiment", "--tags");
    clone = tmp.resolve("clone");
    git(tmp, "clone", "-q", "-b", "master", origin.toString(), clone.toString());
    identify(clone);
  }

  static void commit(Path repo, String path, String content, String message) throws IOException {
    Path file = repo.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
    git(repo, "add", path);
    git(repo, "commit", "-q", "-m", message);
  }

  GitRepoRef repo() {
    return new GitRepoRef("metaspace", clone.toString(), "origin", "release");
  }

  ChangeReview review() {
    return activities.reviewChanges(
        new ReviewRequest("review", repo(), "release", "master", "\\d+\\.\\d+\\.\\d+"));
  }

  BranchSync sync(String expectMainHead, boolean push, boolean dryRun) {
    return activities.syncReleaseBranches(
        new BranchSyncRequest(
            "branches", repo(), "release", "master", expectMainHead, push, dryRun));
  }

  ActionResult tag(String name, boolean push, boolean dryRun) {
    return activities.tagRelease(
        new TagRequest("tag", repo(), name, "release", NOTES, push, dryRun));
  }

  String originHead(String branch) {
    return git(origin, "rev-parse", "refs/heads/" + branch);
  }

  /** A hotfix pushed to origin's release by a person, not yet merged back into master. */
  String hotfix(String path, String content) throws IOException {
    git(seed, "fetch", "-q", "origin");
    git(seed, "checkout", "-q", "-B", "release", "origin/release");
    commit(seed, path, content, "Hotfix: " + path);
    git(seed, "push", "-q", "origin", "release");
    git(seed, "checkout", "-q", "master");
    return git(seed, "rev-parse", "release");
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }

  @Test
  void reviewFindsTheChangedFilesThePullRequestsAndTheLastTag() {
    String refsBefore = git(clone, "for-each-ref", "refs/heads", "refs/tags");
    ChangeReview r = review();
    assertEquals("1.7.10", r.lastTag());
    assertEquals(List.of("Add ES fields #921", "Fix the datasets page #922"), r.pullRequests());
    assertEquals(List.of("README.md", ES_EXPORT, GQL_MIGRATION), r.changedFiles());
    assertEquals(originHead("master"), r.mainHead());
    assertEquals(released, r.releaseHead());
    // The files are those GitHub's release...master compare shows.
    assertEquals(
        String.join("\n", r.changedFiles()),
        git(origin, "diff", "--name-only", "release...master"));
    // Nothing of the clone's own changed: no branch, no tag.
    assertEquals(refsBefore, git(clone, "for-each-ref", "refs/heads", "refs/tags"));
  }

  @Test
  void reviewWithoutAReleaseTagListsEveryPullRequest() {
    git(seed, "push", "-q", "origin", ":refs/tags/1.7.9", ":refs/tags/1.7.10");
    ChangeReview r = review();
    assertNull(r.lastTag());
    assertEquals(
        List.of(
            "Old feature #900",
            "Released feature #910",
            "Add ES fields #921",
            "Fix the datasets page #922"),
        r.pullRequests());
  }

  @Test
  void syncWithReleaseAlreadyMergedFastForwardsReleaseAndPushesBoth() {
    ChangeReview review = review();
    BranchSync s = sync(review.mainHead(), true, false);
    assertFalse(s.merged(), s.output());
    assertFalse(s.rehearsed());
    assertTrue(s.pushed());
    assertEquals(review.mainHead(), s.mainHead());
    assertEquals(review.mainHead(), s.releaseHead());
    assertEquals(review.mainHead(), originHead("master"));
    assertEquals(review.mainHead(), originHead("release"));
    assertTrue(s.output().contains("fast-forwarded release"), s.output());
    assertEquals("release", git(clone, "symbolic-ref", "--short", "HEAD"));

    // A second run (or a retry after the push): both are there, nothing more happens.
    String refs = git(origin, "for-each-ref");
    BranchSync again = sync(review.mainHead(), true, false);
    assertFalse(again.merged(), again.output());
    assertTrue(again.pushed());
    assertTrue(again.output().contains("nothing to do"), again.output());
    assertEquals(refs, git(origin, "for-each-ref"));
  }

  @Test
  void aHotfixNotYetInMasterIsMergedAndReported() throws IOException {
    String fix = hotfix("metaspace/engine/hotfix.py", "fixed = True\n");
    ChangeReview review = review();
    BranchSync s = sync(review.mainHead(), true, false);
    assertTrue(s.merged(), s.output());
    assertTrue(s.output().contains("runbook expects"), s.output());
    assertTrue(s.output().contains("Hotfix: metaspace/engine/hotfix.py"), s.output());
    String master = originHead("master");
    assertEquals(master, originHead("release"));
    assertEquals(s.mainHead(), master);
    assertEquals(
        review.mainHead() + " " + fix,
        git(origin, "rev-list", "--parents", "-n", "1", master).substring(41));
    assertEquals("fixed = True", git(origin, "show", master + ":metaspace/engine/hotfix.py"));

    // The same step again: the merge on origin is this step's own, not a move of master.
    String refs = git(origin, "for-each-ref");
    BranchSync again = sync(review.mainHead(), true, false);
    assertTrue(again.merged(), again.output());
    assertTrue(again.output().contains("earlier attempt"), again.output());
    assertEquals(refs, git(origin, "for-each-ref"));
  }

  @Test
  void aRetryAfterAFailedPushPushesTheEarlierMergeInsteadOfMergingAgain() throws IOException {
    hotfix("metaspace/engine/hotfix.py", "fixed = True\n");
    ChangeReview review = review();
    String masterBefore = originHead("master");
    // As an attempt whose push did not happen leaves the clone.
    BranchSync local = sync(review.mainHead(), false, false);
    assertTrue(local.merged());
    assertFalse(local.pushed());
    assertEquals(masterBefore, originHead("master"));
    String merge = git(clone, "rev-parse", "refs/heads/master");
    assertEquals(merge, local.mainHead());

    BranchSync retry = sync(review.mainHead(), true, false);
    assertTrue(retry.merged(), retry.output());
    assertTrue(retry.pushed());
    assertEquals(merge, retry.mainHead());
    assertEquals(merge, originHead("master"));
    assertEquals(merge, originHead("release"));
  }

  @Test
  void aReleaseThatDivergedFromMasterIsNotFastForwardAndChangesNothing() throws IOException {
    // The hotfix edits the line master changed since: release cannot be brought into master.
    hotfix(ES_EXPORT, "fields = ['id', 'hotfixed']\n");
    ChangeReview review = review();
    String refs = git(origin, "for-each-ref");
    String localRefs = git(clone, "for-each-ref", "refs/heads");
    ApplicationFailure f =
        assertFailure("NotFastForward", () -> sync(review.mainHead(), true, false));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(ES_EXPORT), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("Hotfix"), f.getOriginalMessage());
    assertEquals(refs, git(origin, "for-each-ref"));
    assertEquals(localRefs, git(clone, "for-each-ref", "refs/heads"));
    assertEquals("", git(clone, "status", "--porcelain"));
    assertThrows(
        IllegalStateException.class, () -> git(clone, "rev-parse", "-q", "--verify", "MERGE_HEAD"));
  }

  @Test
  void masterMovedSinceTheReviewIsMainMoved() throws IOException {
    ChangeReview review = review();
    commit(seed, "late.txt", "late\n", "Pushed after the review (#923)");
    git(seed, "push", "-q", "origin", "master");
    String refs = git(origin, "for-each-ref");
    ApplicationFailure f = assertFailure("MainMoved", () -> sync(review.mainHead(), true, false));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("Re-run the review"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("#923"), f.getOriginalMessage());
    assertEquals(refs, git(origin, "for-each-ref"));
  }

  @Test
  void localCommitsOnAReleaseBranchAreNotResetAway() throws IOException {
    ChangeReview review = review();
    git(clone, "checkout", "-q", "-b", "release", "origin/release");
    commit(clone, "local.txt", "mine\n", "Local only");
    String local = git(clone, "rev-parse", "HEAD");
    ApplicationFailure f =
        assertFailure("LocalCommitsAhead", () -> sync(review.mainHead(), true, false));
    assertTrue(f.getOriginalMessage().contains("Local only"), f.getOriginalMessage());
    assertEquals(local, git(clone, "rev-parse", "refs/heads/release"));
    assertEquals(released, originHead("release"));
  }

  @Test
  void syncDryRunChangesNothing() throws IOException {
    hotfix("metaspace/engine/hotfix.py", "fixed = True\n");
    ChangeReview review = review();
    String refs = git(origin, "for-each-ref");
    String localRefs = git(clone, "for-each-ref");
    BranchSync s = sync(review.mainHead(), true, true);
    assertTrue(s.rehearsed());
    assertTrue(s.merged(), s.output());
    assertFalse(s.pushed());
    assertTrue(s.output().startsWith("would "), s.output());
    assertTrue(s.output().contains("Hotfix"), s.output());
    assertEquals(refs, git(origin, "for-each-ref"));
    assertEquals(localRefs, git(clone, "for-each-ref"));
    assertEquals("master", git(clone, "symbolic-ref", "--short", "HEAD"));
  }

  @Test
  void tagIsAnnotatedPushedAndVerifiedOnOriginAndIdempotent() {
    ChangeReview review = review();
    sync(review.mainHead(), true, false);
    ActionResult t = tag("1.7.11", true, false);
    assertFalse(t.rehearsed());
    assertEquals(review.mainHead(), t.output());
    assertEquals("tag", git(origin, "cat-file", "-t", "refs/tags/1.7.11"));
    assertEquals(review.mainHead(), git(origin, "rev-parse", "1.7.11^{commit}"));
    // The notes as given, the line starting with '#' included.
    assertEquals(
        NOTES.strip(), git(origin, "for-each-ref", "--format=%(contents)", "refs/tags/1.7.11"));
    assertTrue(
        git(clone, "ls-remote", "--tags", "origin")
            .contains(review.mainHead() + "\trefs/tags/1.7.11^{}"));

    String refs = git(origin, "for-each-ref");
    ActionResult again = tag("1.7.11", true, false);
    assertTrue(again.action().contains("nothing to do"), again.action());
    assertEquals(refs, git(origin, "for-each-ref"));

    // The next review starts from the new tag.
    assertEquals("1.7.11", review().lastTag());
    assertEquals(List.of(), review().pullRequests());
  }

  @Test
  void aTagMadeButNotPushedIsPushedOnTheRetry() {
    ActionResult local = tag("1.7.11", false, false);
    assertEquals(released, local.output());
    assertThrows(
        IllegalStateException.class,
        () -> git(origin, "rev-parse", "-q", "--verify", "refs/tags/1.7.11"));
    String tagObject = git(clone, "rev-parse", "refs/tags/1.7.11");
    tag("1.7.11", true, false);
    assertEquals(tagObject, git(origin, "rev-parse", "refs/tags/1.7.11"));
  }

  @Test
  void aTagOnAnotherCommitIsTagConflict() throws IOException {
    git(clone, "tag", "1.7.11", "origin/master");
    ApplicationFailure f = assertFailure("TagConflict", () -> tag("1.7.11", true, false));
    assertTrue(f.isNonRetryable());
    assertThrows(
        IllegalStateException.class,
        () -> git(origin, "rev-parse", "-q", "--verify", "refs/tags/1.7.11"));

    // Only on the remote: found before anything is made.
    git(clone, "tag", "-d", "1.7.11");
    git(seed, "tag", "1.7.12", "master");
    git(seed, "push", "-q", "origin", "1.7.12");
    ApplicationFailure g = assertFailure("TagConflict", () -> tag("1.7.12", true, false));
    assertTrue(g.getOriginalMessage().contains("on origin"), g.getOriginalMessage());
    assertThrows(
        IllegalStateException.class,
        () -> git(clone, "rev-parse", "-q", "--verify", "refs/tags/1.7.12"));
  }

  @Test
  void tagDryRunChangesNothing() {
    String refs = git(origin, "for-each-ref");
    String tags = git(clone, "tag", "-l");
    ActionResult t = tag("1.7.11", true, true);
    assertTrue(t.rehearsed());
    assertTrue(t.action().startsWith("would tag"), t.action());
    assertTrue(t.action().contains("#922 Fix the datasets page"), t.action());
    assertEquals(released, t.output());
    assertEquals(tags, git(clone, "tag", "-l"));
    assertEquals(refs, git(origin, "for-each-ref"));
  }

  @Test
  void aMissingBranchIsBranchMissing() {
    assertFailure(
        "BranchMissing",
        () ->
            activities.reviewChanges(
                new ReviewRequest("review", repo(), "hotfixes", "master", null)));
    assertFailure(
        "BranchMissing",
        () ->
            activities.tagRelease(
                new TagRequest("tag", repo(), "1.7.11", "hotfixes", NOTES, false, false)));
  }

  @Test
  void aFileIsReadAsCommittedAtTheTagNotAsTheWorkTreeHasIt() throws IOException {
    Files.writeString(clone.resolve(ES_EXPORT), "edited by hand, not committed\n");
    dev.crewchief.activities.FileContent atTag =
        activities.readFile(
            new dev.crewchief.activities.FileRequest("read", repo(), "1.7.10", ES_EXPORT));
    assertEquals("fields = ['id']\n", atTag.text());
    assertEquals(released, atTag.commit());
    dev.crewchief.activities.FileContent atMaster =
        activities.readFile(
            new dev.crewchief.activities.FileRequest("read", repo(), "origin/master", ES_EXPORT));
    assertEquals("fields = ['id', 'new_field']\n", atMaster.text());
    io.temporal.failure.ApplicationFailure missing =
        org.junit.jupiter.api.Assertions.assertThrows(
            io.temporal.failure.ApplicationFailure.class,
            () ->
                activities.readFile(
                    new dev.crewchief.activities.FileRequest(
                        "read", repo(), "1.7.10", "metaspace/no-such-file.json")));
    assertEquals("FileMissing", missing.getType());
    assertTrue(missing.isNonRetryable());
    io.temporal.failure.ApplicationFailure noTag =
        org.junit.jupiter.api.Assertions.assertThrows(
            io.temporal.failure.ApplicationFailure.class,
            () ->
                activities.readFile(
                    new dev.crewchief.activities.FileRequest("read", repo(), "9.9.9", ES_EXPORT)));
    assertTrue(noTag.getMessage().contains("has no ref 9.9.9"), noTag.getMessage());
    io.temporal.failure.ApplicationFailure outside =
        org.junit.jupiter.api.Assertions.assertThrows(
            io.temporal.failure.ApplicationFailure.class,
            () ->
                activities.readFile(
                    new dev.crewchief.activities.FileRequest(
                        "read", repo(), "1.7.10", "../../etc/passwd")));
    assertEquals("InvalidInput", outside.getType());
  }
}
