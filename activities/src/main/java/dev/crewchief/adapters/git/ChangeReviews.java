package dev.crewchief.adapters.git;

import static dev.crewchief.adapters.git.GitMessages.abbrev;
import static dev.crewchief.adapters.git.GitMessages.invalid;

import dev.crewchief.activities.ChangeReview;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ReviewRequest;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Git.reviewChanges}: what the runbook's GitHub compare {@code release...master} shows, read
 * from a clone after fetching both branches. The changed files are those between the merge base of
 * the two branches and the main branch's head (what the three-dot compare lists); the pull requests
 * are those merged into the main branch since the last release tag, for the release notes. The
 * clone's branches, tags and work tree are not touched: only its remote-tracking refs are brought
 * up to date, and the remote's tags are read with {@code ls-remote}.
 */
final class ChangeReviews {
  private static final Logger log = LoggerFactory.getLogger(ChangeReviews.class);
  static final String DEFAULT_TAG_PATTERN = "\\d+\\.\\d+\\.\\d+";

  private final GitCli git;
  private final GitClones clones;
  private final Remotes remotes;

  ChangeReviews(GitCli git, GitClones clones, Remotes remotes) {
    this.git = git;
    this.clones = clones;
    this.remotes = remotes;
  }

  ChangeReview reviewChanges(ReviewRequest r) {
    GitRepoRef repo = clones.require(r == null ? null : r.repo());
    Pattern tags = tagPattern(r.tagPattern());
    Path dir = clones.workTree(repo);
    String release = remotes.requireBranch(dir, r.releaseBranch(), "release branch");
    String main = remotes.requireBranch(dir, r.mainBranch(), "main branch");
    if (release.equals(main)) {
      throw invalid("the release and main branches are both " + main + ": name two branches");
    }
    String remote = remotes.requireName(dir, repo);
    remotes.fetchBranches(dir, remote, List.of(main, release));
    String mainRef = Remotes.tracking(remote, main);
    String releaseRef = Remotes.tracking(remote, release);
    String mainHead = clones.revParse(dir, mainRef);
    String releaseHead = clones.revParse(dir, releaseRef);

    GitCli.Result base = git.run(dir, Map.of(), "merge-base", releaseRef, mainRef);
    if (!base.ok()) {
      throw ApplicationFailure.newNonRetryableFailure(
          release
              + " and "
              + main
              + " of "
              + remote
              + " have no commit in common: check the branch names of the step",
          "BranchMissing");
    }
    String mergeBase = base.stdout().strip();
    // -z: paths as they are, whatever their characters; --no-renames: a file moved away from a
    // watched place is listed under its old path too.
    List<String> changed =
        Arrays.stream(
                git.checked(dir, "diff", "--name-only", "--no-renames", "-z", mergeBase, mainRef)
                    .split("\0"))
            .filter(f -> !f.isBlank())
            .toList();

    Map.Entry<String, String> lastTag = lastTag(dir, remote, tags, mainRef);
    // The tag's commit as the remote names it: the clone may not have the tag itself.
    String since = lastTag == null ? mainRef : lastTag.getValue() + ".." + mainRef;
    List<String> pulls =
        MergedPullRequests.parse(
            git.checked(
                dir, "log", "--reverse", "--format=" + MergedPullRequests.LOG_FORMAT, since));
    log.info(
        "step '{}': {}...{} of {}: {} files changed, {} pull requests since {}",
        r.step(),
        release,
        main,
        repo.describe(),
        changed.size(),
        pulls.size(),
        lastTag == null ? "the start" : lastTag.getKey());
    return new ChangeReview(
        changed, pulls, lastTag == null ? null : lastTag.getKey(), mainHead, releaseHead);
  }

  private static Pattern tagPattern(String pattern) {
    String p = pattern == null || pattern.isBlank() ? DEFAULT_TAG_PATTERN : pattern;
    try {
      return Pattern.compile(p);
    } catch (PatternSyntaxException e) {
      throw invalid(
          "tag pattern '" + p + "' is not a regular expression (" + e.getDescription() + ")");
    }
  }

  /**
   * The newest release tag (in version order) of the remote that names a commit of the main branch.
   * The remote's tags rather than the clone's: a release tagged from another machine counts, and a
   * tag only this clone has does not.
   */
  private Map.Entry<String, String> lastTag(
      Path dir, String remote, Pattern pattern, String mainRef) {
    List<Map.Entry<String, String>> candidates =
        remotes.tags(dir, remote).entrySet().stream()
            .filter(e -> pattern.matcher(e.getKey()).matches())
            .sorted(Map.Entry.<String, String>comparingByKey(VersionOrder.INSTANCE).reversed())
            .toList();
    for (Map.Entry<String, String> t : candidates) {
      // A tag on a branch that was never merged into main is no release of main's history.
      if (remotes.isAncestor(dir, t.getValue(), mainRef)) {
        log.debug("last release tag {} at {}", t.getKey(), abbrev(t.getValue()));
        return t;
      }
    }
    return null;
  }
}
