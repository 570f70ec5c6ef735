package dev.crewchief.adapters.git;

import static dev.crewchief.adapters.git.GitMessages.abbrev;
import static dev.crewchief.adapters.git.GitMessages.invalid;
import static dev.crewchief.adapters.git.GitMessages.listed;

import dev.crewchief.activities.BranchSync;
import dev.crewchief.activities.BranchSyncRequest;
import dev.crewchief.activities.GitRepoRef;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Git.syncReleaseBranches}: the runbook's branch update, exactly as a person types it in the
 * clone ({@code git switch master; git merge release; git switch release; git merge master
 * --ff-only; git push origin master release}), but starting from the remote's state rather than
 * from whatever the clone's branches last held, and refusing what a person would stop at.
 *
 * <p>Everything is decided before anything changes, from the fetched remote and the clone, so that
 * a dry run reports what the real run does and a retry finishes an earlier attempt instead of
 * merging twice: a clone whose main branch already holds the merge an earlier attempt made (a merge
 * of exactly the remote's two heads) goes on from there, and a remote that already has it is left
 * alone.
 */
final class ReleaseBranches {
  private static final Logger log = LoggerFactory.getLogger(ReleaseBranches.class);

  private final GitCli git;
  private final GitClones clones;
  private final Remotes remotes;

  ReleaseBranches(GitCli git, GitClones clones, Remotes remotes) {
    this.git = git;
    this.clones = clones;
    this.remotes = remotes;
  }

  BranchSync syncReleaseBranches(BranchSyncRequest r) {
    GitRepoRef repo = clones.require(r == null ? null : r.repo());
    Path dir = clones.workTree(repo);
    String release = remotes.requireBranch(dir, r.releaseBranch(), "release branch");
    String main = remotes.requireBranch(dir, r.mainBranch(), "main branch");
    if (release.equals(main)) {
      throw invalid("the release and main branches are both " + main + ": name two branches");
    }
    String expect =
        r.expectMainHead() == null || r.expectMainHead().isBlank()
            ? null
            : r.expectMainHead().strip().toLowerCase(java.util.Locale.ROOT);
    if (expect != null && !expect.matches("[0-9a-f]{7,64}")) {
      throw invalid(
          "expected main head '" + expect + "' is not a commit id: pass the review's mainHead");
    }
    String remote = remotes.requireName(dir, repo);
    refuseLocalChanges(dir, repo, main);

    // A rehearsal does not talk to the remote: it works from the last fetch (the review's, in a
    // release), and says so.
    if (!r.dryRun()) {
      remotes.fetchBranches(dir, remote, List.of(main, release));
    }
    String remoteMain = tracking(dir, remote, main);
    String remoteRelease = tracking(dir, remote, release);
    boolean doneBefore = checkNotMoved(dir, remote, main, expect, remoteMain, remoteRelease);

    String mainStart = mainStart(dir, repo, remote, main, remoteMain, remoteRelease);
    String releaseStart =
        releaseStart(dir, repo, remote, release, remoteRelease, mainStart, remoteMain);
    boolean earlierMerge = !mainStart.equals(remoteMain);
    List<String> incoming =
        lines(dir, "rev-list", "--oneline", "--no-merges", mainStart + ".." + releaseStart);
    boolean needsMerge = !remotes.isAncestor(dir, releaseStart, mainStart);
    // What the merge brings, or brought when an earlier attempt made it: the commits of the release
    // branch that the reviewed main branch lacked.
    List<String> brought =
        needsMerge
            ? incoming
            : lines(
                dir,
                "rev-list",
                "--oneline",
                "--no-merges",
                (doneBefore ? expect : remoteMain) + ".." + mainStart);

    if (needsMerge) {
      refuseConflicts(dir, remote, main, release, mainStart, releaseStart, incoming);
    }
    if (r.dryRun()) {
      return rehearse(
          r,
          repo,
          remote,
          main,
          release,
          remoteMain,
          remoteRelease,
          mainStart,
          incoming,
          needsMerge,
          earlierMerge);
    }

    List<String> done = new ArrayList<>();
    Map<String, String> identity = clones.identity(dir);
    switchTo(dir, remote, main, mainStart);
    pointBranch(dir, remote, release, releaseStart);
    if (needsMerge) {
      GitCli.Result m = git.run(dir, identity, "merge", "--no-edit", "-q", release);
      if (!m.ok()) {
        List<String> conflicts = lines(dir, "diff", "--name-only", "--diff-filter=U");
        git.run(dir, Map.of(), "merge", "--abort");
        if (conflicts.isEmpty()) {
          throw GitCli.failed(dir, m, "merge", release);
        }
        throw diverged(remote, main, release, conflicts, incoming);
      }
      String mergeNote = describeMerge(dir, release, main, incoming);
      done.add(mergeNote);
      log.info("step '{}': {} in {}", r.step(), mergeNote, dir);
    } else if (earlierMerge || doneBefore) {
      String mergeNote =
          "the merge of "
              + release
              + " into "
              + main
              + " ("
              + abbrev(mainStart)
              + ") was made by an earlier attempt"
              + (doneBefore ? " and is on " + remote : "");
      done.add(mergeNote);
    }
    String head = clones.revParse(dir, "HEAD");

    git.checked(dir, "switch", "-q", release);
    String before = clones.revParse(dir, "HEAD");
    if (!before.equals(head)) {
      GitCli.Result ff = git.run(dir, identity, "merge", "--ff-only", "-q", main);
      if (!ff.ok()) {
        throw ApplicationFailure.newNonRetryableFailure(
            release
                + " cannot be fast-forwarded to "
                + main
                + " in "
                + repo.describe()
                + ": "
                + ff.why()
                + "; bring the branches together by hand, push them, then re-run the review",
            "NotFastForward");
      }
      done.add("fast-forwarded " + release + " from " + abbrev(before) + " to " + abbrev(head));
    }
    String mainHead = clones.revParse(dir, "refs/heads/" + main);
    String releaseHead = clones.revParse(dir, "HEAD");
    if (!head.equals(mainHead)
        || !head.equals(releaseHead)
        || !remotes.isAncestor(dir, remoteRelease, head)
        || !remotes.isAncestor(dir, remoteMain, head)) {
      throw ApplicationFailure.newFailure(
          "after the update "
              + main
              + " is at "
              + mainHead
              + " and "
              + release
              + " at "
              + releaseHead
              + " in "
              + repo.describe()
              + ", not both at a commit holding "
              + remote
              + "'s two branches",
          "GitCommandFailed");
    }

    boolean pushed = false;
    if (r.push()) {
      pushed = push(dir, remote, main, release, head, done);
    }
    boolean merged = needsMerge || earlierMerge || doneBefore;
    String action =
        (done.isEmpty()
                ? main
                    + " and "
                    + release
                    + " were already at "
                    + abbrev(head)
                    + (r.push() ? " on " + remote : "")
                    + ": nothing to do"
                : String.join("; ", done))
            + " in "
            + repo.describe()
            + (merged
                ? ". Note: the runbook expects merging "
                    + release
                    + " into "
                    + main
                    + " to change nothing (hotfixes are merged back at once); this one brought in "
                    + brought.size()
                    + " commits: "
                    + listed(brought, "; ")
                : "")
            + (r.push() ? "" : " (not pushed: the step does not push)");
    log.info("step '{}': {}", r.step(), action);
    return new BranchSync(merged, head, head, pushed, action, false);
  }

  /**
   * A merge that would conflict is refused before the clone is touched: {@code git merge-tree}
   * merges in memory. (A git older than 2.38 lacks it; the real merge then finds the conflict and
   * is aborted.)
   */
  private void refuseConflicts(
      Path dir,
      String remote,
      String main,
      String release,
      String mainStart,
      String releaseStart,
      List<String> incoming) {
    GitCli.Result m =
        git.run(
            dir,
            Map.of(),
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            mainStart,
            releaseStart);
    if (m.exit() == 1) {
      List<String> out = m.stdout().lines().filter(l -> !l.isBlank()).distinct().toList();
      throw diverged(
          remote, main, release, out.subList(Math.min(1, out.size()), out.size()), incoming);
    }
  }

  private static ApplicationFailure diverged(
      String remote, String main, String release, List<String> conflicts, List<String> incoming) {
    return ApplicationFailure.newNonRetryableFailure(
        release
            + " has diverged from "
            + main
            + " of "
            + remote
            + ": merging it in conflicts in "
            + listed(conflicts, ", ")
            + " (commits of "
            + release
            + " that "
            + main
            + " lacks: "
            + listed(incoming, "; ")
            + "). Merge "
            + release
            + " into "
            + main
            + " by hand, resolve the conflicts and push, then re-run the review",
        "NotFastForward");
  }

  /** A merge needs a clean work tree and no merge in progress; a person's changes are theirs. */
  private void refuseLocalChanges(Path dir, GitRepoRef repo, String main) {
    GitCli.Result st =
        git.run(dir, Map.of(), "status", "--porcelain", "-z", "--untracked-files=no");
    if (!st.ok()) {
      throw GitCli.failed(dir, st, "status");
    }
    List<String> changed = new ArrayList<>();
    for (String item : st.stdout().split("\0")) {
      if (item.length() > 3) {
        changed.add(item.substring(3));
      }
    }
    boolean merging = clones.revParse(dir, "MERGE_HEAD") != null;
    if (!changed.isEmpty() || merging) {
      throw ApplicationFailure.newNonRetryableFailure(
          repo.describe()
              + (merging
                  ? " has a merge in progress"
                  : " has uncommitted changes in " + listed(changed, ", "))
              + ": commit and push, or discard, them before the release updates "
              + main,
          "WorkTreeDirty");
    }
  }

  private String tracking(Path dir, String remote, String branch) {
    String commit = clones.revParse(dir, Remotes.tracking(remote, branch));
    if (commit == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          dir + " has no " + remote + "/" + branch + " (fetch it first, or check the branch name)",
          "BranchMissing");
    }
    return commit;
  }

  /**
   * Refuses a main branch that moved since the review ({@code MainMoved}): the new commits were not
   * reviewed. A remote main that is the merge of the release branch into the reviewed head is this
   * step's own earlier work (a retry after the push), and counts as not moved.
   *
   * @return whether the remote already holds that earlier merge
   */
  private boolean checkNotMoved(
      Path dir,
      String remote,
      String main,
      String expect,
      String remoteMain,
      String remoteRelease) {
    if (expect == null || remoteMain.startsWith(expect)) {
      return false;
    }
    List<String> parents = parents(dir, remoteMain);
    if (parents.size() == 2
        && parents.get(0).startsWith(expect)
        && (remoteRelease.equals(remoteMain) || remoteRelease.equals(parents.get(1)))) {
      return true;
    }
    List<String> news =
        git.run(dir, Map.of(), "rev-list", "--oneline", expect + ".." + remoteMain).ok()
            ? lines(dir, "rev-list", "--oneline", expect + ".." + remoteMain)
            : List.of();
    throw ApplicationFailure.newNonRetryableFailure(
        main
            + " of "
            + remote
            + " moved since the review: it was "
            + abbrev(expect)
            + ", it is now "
            + abbrev(remoteMain)
            + (news.isEmpty() ? "" : " (new: " + listed(news, "; ") + ")")
            + ". Re-run the review so that these changes are reviewed too",
        "MainMoved");
  }

  /**
   * Where the clone's main branch starts from: the remote's, unless the clone has commits of its
   * own there (commits on neither of the remote's branches, which a reset would lose). The only
   * such commit taken is a merge of exactly the remote's two heads (what an earlier attempt of this
   * step leaves when its push failed); anything else is a person's.
   */
  private String mainStart(
      Path dir,
      GitRepoRef repo,
      String remote,
      String main,
      String remoteMain,
      String remoteRelease) {
    String local = clones.revParse(dir, "refs/heads/" + main);
    if (local == null) {
      return remoteMain;
    }
    List<String> own = own(dir, local, remoteMain, remoteRelease);
    if (own.isEmpty()) {
      return remoteMain;
    }
    if (own.equals(List.of(local))
        && parents(dir, local).equals(List.of(remoteMain, remoteRelease))) {
      return local;
    }
    throw localCommits(dir, repo, remote, main, local, remoteMain, remoteRelease);
  }

  /** The release branch likewise, or the main branch's start when it was fast-forwarded to it. */
  private String releaseStart(
      Path dir,
      GitRepoRef repo,
      String remote,
      String release,
      String remoteRelease,
      String mainStart,
      String remoteMain) {
    String local = clones.revParse(dir, "refs/heads/" + release);
    if (local == null) {
      return remoteRelease;
    }
    if (local.equals(mainStart) && remotes.isAncestor(dir, remoteRelease, mainStart)) {
      return local;
    }
    if (own(dir, local, remoteRelease, mainStart).isEmpty()) {
      return remoteRelease;
    }
    throw localCommits(dir, repo, remote, release, local, remoteRelease, remoteMain);
  }

  /** The commits of {@code local} on neither of the two others. */
  private List<String> own(Path dir, String local, String one, String other) {
    return lines(dir, "rev-list", local, "^" + one, "^" + other);
  }

  private ApplicationFailure localCommits(
      Path dir,
      GitRepoRef repo,
      String remote,
      String branch,
      String local,
      String upstream,
      String other) {
    List<String> ahead = lines(dir, "rev-list", "--oneline", local, "^" + upstream, "^" + other);
    return ApplicationFailure.newNonRetryableFailure(
        "branch "
            + branch
            + " of "
            + repo.describe()
            + " has "
            + ahead.size()
            + " commits that "
            + remote
            + " lacks ("
            + listed(ahead, "; ")
            + "): push them, or reset the branch by hand, then re-run the review",
        "LocalCommitsAhead");
  }

  /** Checks out {@code branch} at {@code commit} (the work tree is clean), tracking the remote. */
  private void switchTo(Path dir, String remote, String branch, String commit) {
    boolean existed = clones.revParse(dir, "refs/heads/" + branch) != null;
    if (!existed) {
      git.checked(dir, "switch", "-q", "-c", branch, commit);
    } else if (!branch.equals(clones.currentBranch(dir))) {
      git.checked(dir, "switch", "-q", branch);
    }
    if (!commit.equals(clones.revParse(dir, "HEAD"))) {
      git.checked(dir, "reset", "-q", "--hard", commit);
    }
    track(dir, remote, branch);
  }

  /** Points a branch that is not checked out at {@code commit}, creating it when missing. */
  private void pointBranch(Path dir, String remote, String branch, String commit) {
    if (!commit.equals(clones.revParse(dir, "refs/heads/" + branch))) {
      git.checked(dir, "branch", "-q", "-f", branch, commit);
    }
    track(dir, remote, branch);
  }

  /** A branch made here tracks the remote's, as one made by {@code git switch} would. */
  private void track(Path dir, String remote, String branch) {
    if (!git.run(dir, Map.of(), "config", "branch." + branch + ".remote").ok()) {
      git.checked(dir, "branch", "-q", "--set-upstream-to=" + remote + "/" + branch, branch);
    }
  }

  private String describeMerge(Path dir, String release, String main, List<String> incoming) {
    String head = clones.revParse(dir, "HEAD");
    boolean commit = parents(dir, head).size() > 1;
    return (commit
            ? "merged " + release + " into " + main + " (merge commit " + abbrev(head) + ")"
            : "fast-forwarded " + main + " to " + release + " at " + abbrev(head))
        + " ("
        + incoming.size()
        + " commits "
        + main
        + " lacked)";
  }

  /**
   * Pushes both branches where the remote lacks them, atomically, then reads the remote back.
   *
   * @return true: the remote has both branches at {@code head}
   */
  private boolean push(
      Path dir, String remote, String main, String release, String head, List<String> done) {
    List<String> refs = List.of("refs/heads/" + main, "refs/heads/" + release);
    Map<String, String> before = remotes.heads(dir, remote, refs);
    List<String> refspecs =
        refs.stream()
            .filter(ref -> !head.equals(before.get(ref)))
            .map(ref -> ref + ":" + ref)
            .toList();
    if (!refspecs.isEmpty()) {
      List<String> args = new ArrayList<>(List.of("push", "--porcelain", "--atomic", remote));
      args.addAll(refspecs);
      GitCli.Result res = git.remote(dir, remote, args.toArray(String[]::new));
      if (!res.ok()) {
        if ((res.stdout() + res.stderr()).contains("rejected")) {
          throw ApplicationFailure.newNonRetryableFailure(
              remote
                  + " refused the update of "
                  + main
                  + " and "
                  + release
                  + " (someone pushed to them meanwhile, or they are protected): "
                  + res.why()
                  + "; re-run the review",
              "PushRejected");
        }
        throw GitCli.failed(dir, res, args.toArray(String[]::new));
      }
      done.add(
          "pushed "
              + String.join(
                  " and ",
                  refspecs.stream()
                      .map(s -> s.substring("refs/heads/".length(), s.indexOf(':')))
                      .toList())
              + " to "
              + remote);
    }
    Map<String, String> after = remotes.heads(dir, remote, refs);
    for (String ref : refs) {
      if (!head.equals(after.get(ref))) {
        throw ApplicationFailure.newFailure(
            "after the push " + remote + " has " + ref + " at " + after.get(ref) + ", not " + head,
            "GitCommandFailed");
      }
    }
    return true;
  }

  private BranchSync rehearse(
      BranchSyncRequest r,
      GitRepoRef repo,
      String remote,
      String main,
      String release,
      String remoteMain,
      String remoteRelease,
      String mainStart,
      List<String> incoming,
      boolean needsMerge,
      boolean earlierMerge) {
    StringBuilder a = new StringBuilder("would ");
    a.append("fetch ").append(main).append(" and ").append(release).append(" from ").append(remote);
    a.append(" (as of the last fetch: ").append(main).append(" at ").append(abbrev(remoteMain));
    a.append(", ").append(release).append(" at ").append(abbrev(remoteRelease)).append("), ");
    if (needsMerge) {
      a.append("merge ")
          .append(release)
          .append(" into ")
          .append(main)
          .append(", bringing in ")
          .append(incoming.size())
          .append(" commits ")
          .append(main)
          .append(" lacks (")
          .append(listed(incoming, "; "))
          .append("; the runbook expects none), ");
    } else if (earlierMerge) {
      a.append("keep the merge ").append(abbrev(mainStart)).append(" an earlier attempt made, ");
    } else {
      a.append("merge ").append(release).append(" into ").append(main);
      a.append(" (nothing to merge: ").append(main).append(" has all of it), ");
    }
    a.append("fast-forward ").append(release).append(" to ").append(main);
    if (r.push()) {
      a.append(", push both to ").append(remote).append(" where they differ");
    }
    a.append(" in ").append(repo.describe());
    return new BranchSync(
        needsMerge || earlierMerge, mainStart, remoteRelease, false, a.toString(), true);
  }

  private List<String> parents(Path dir, String commit) {
    String line = git.checked(dir, "rev-list", "--parents", "-n", "1", commit);
    List<String> all = List.of(line.split(" "));
    return all.subList(1, all.size());
  }

  /** The non-blank lines a command that must succeed prints. */
  private List<String> lines(Path dir, String... args) {
    return git.checked(dir, args).lines().filter(l -> !l.isBlank()).toList();
  }
}
