package dev.crewchief.adapters.git;

import static dev.crewchief.adapters.git.GitMessages.abbrev;
import static dev.crewchief.adapters.git.GitMessages.invalid;
import static dev.crewchief.adapters.git.GitMessages.listed;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.GitRepoRef;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Git.checkoutBranch}: a clone brought to its branch's upstream (fetched, checked out, hard
 * reset). A person's local changes are stashed when the step asks for it and refused otherwise, and
 * a branch with commits its upstream lacks is refused, because the reset would lose them.
 */
final class BranchCheckouts {
  private static final Logger log = LoggerFactory.getLogger(BranchCheckouts.class);

  private final GitCli git;
  private final GitClones clones;

  BranchCheckouts(GitCli git, GitClones clones) {
    this.git = git;
    this.clones = clones;
  }

  ActionResult checkoutBranch(CheckoutRequest r) {
    GitRepoRef repo = clones.require(r == null ? null : r.repo());
    String branch = r.branch() == null || r.branch().isBlank() ? repo.branch() : r.branch();
    if (branch == null || branch.isBlank()) {
      throw invalid("no branch given for " + repo.describe() + ": name the branch to check out");
    }
    String remote = repo.remote() == null || repo.remote().isBlank() ? null : repo.remote();
    Path dir = clones.workTree(repo);
    if (!git.run(dir, Map.of(), "check-ref-format", "--branch", branch).ok()) {
      throw invalid("'" + branch + "' is not a valid branch name");
    }
    if (remote != null && !git.checked(dir, "remote").lines().toList().contains(remote)) {
      throw invalid(
          "'"
              + remote
              + "' is not a remote of "
              + repo.describe()
              + ": set the repository's remote to one of its remote names (git remote)");
    }
    boolean stash = r.stashAs() != null && !r.stashAs().isBlank();
    List<String> tracked = new ArrayList<>();
    List<String> untracked = new ArrayList<>();
    changedFiles(dir, tracked, untracked);
    if (!stash && !(tracked.isEmpty() && untracked.isEmpty())) {
      List<String> dirty = new ArrayList<>(tracked);
      dirty.addAll(untracked);
      throw ApplicationFailure.newNonRetryableFailure(
          repo.describe()
              + " has uncommitted changes in "
              + dirty.size()
              + " files ("
              + listed(dirty, ", ")
              + "): commit and push them, or discard them, before the release checks out "
              + branch,
          "WorkTreeDirty");
    }
    String action =
        (stash && !tracked.isEmpty()
                ? "stash the local changes in "
                    + tracked.size()
                    + " files ("
                    + listed(tracked, ", ")
                    + ") as '"
                    + r.stashAs()
                    + "', "
                : "")
            + (remote == null ? "" : "fetch " + remote + ", ")
            + "check out "
            + branch
            + " and reset it to its upstream in "
            + repo.describe();
    if (r.dryRun()) {
      // The upstream as of the last fetch: the rehearsal does not talk to the remote.
      String upstream = upstream(dir, branch, remote);
      return new ActionResult(
          "would " + action + " (upstream " + (upstream == null ? "unknown" : upstream) + ")",
          true,
          upstream == null ? "" : clones.revParse(dir, upstream));
    }
    if (remote != null) {
      GitCli.Result f = git.remote(dir, remote, "fetch", "--prune", remote);
      if (!f.ok()) {
        throw GitCli.failed(dir, f, "fetch", remote);
      }
    }
    String upstream = upstream(dir, branch, remote);
    boolean local = clones.revParse(dir, "refs/heads/" + branch) != null;
    if (!local && upstream == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "branch "
              + branch
              + " exists neither in "
              + repo.describe()
              + (remote == null ? "" : " nor on " + remote)
              + ": check the branch name",
          "BranchMissing");
    }
    if (local && upstream != null) {
      // A hard reset would drop commits that only this clone has (the runbook's "latest updates"
      // to variables, say): those must be pushed or dropped by a person, not by the release.
      List<String> ahead = lines(dir, "rev-list", "--oneline", upstream + "..refs/heads/" + branch);
      if (!ahead.isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            "branch "
                + branch
                + " of "
                + repo.describe()
                + " has "
                + ahead.size()
                + " commits that "
                + upstream
                + " lacks ("
                + listed(ahead, "; ")
                + "): push them, or reset the branch by hand, then retry",
            "LocalCommitsAhead");
      }
    }
    String before = clones.revParse(dir, "HEAD");
    if (upstream != null) {
      // A reset overwrites untracked files in the way of files the upstream tracks.
      List<String> inTheWay =
          untracked.stream()
              .filter(f -> git.run(dir, Map.of(), "cat-file", "-e", upstream + ":" + f).ok())
              .toList();
      if (!inTheWay.isEmpty()) {
        throw ApplicationFailure.newNonRetryableFailure(
            repo.describe()
                + " has untracked files that "
                + upstream
                + " now tracks ("
                + listed(inTheWay, ", ")
                + "): the update would overwrite them; move them away, then retry",
            "WorkTreeDirty");
      }
    }
    List<String> done = new ArrayList<>();
    if (stash && !tracked.isEmpty()) {
      GitCli.Result st = git.run(dir, clones.identity(dir), "stash", "push", "-m", r.stashAs());
      if (!st.ok()) {
        throw GitCli.failed(dir, st, "stash", "push");
      }
      List<String> left = new ArrayList<>();
      changedFiles(dir, left, new ArrayList<>());
      if (!left.isEmpty()) {
        throw ApplicationFailure.newFailure(
            "after git stash, " + repo.describe() + " still has changes in " + listed(left, ", "),
            "GitCommandFailed");
      }
      done.add(
          "stashed the local changes in "
              + tracked.size()
              + " files ("
              + listed(tracked, ", ")
              + ") as '"
              + r.stashAs()
              + "' (git stash list; git stash show -p shows them)");
      log.info("step '{}': stashed changes in {} of {}", r.step(), tracked, dir);
    }
    if (upstream != null && before != null) {
      List<String> incoming = lines(dir, "rev-list", "--oneline", before + ".." + upstream);
      if (!incoming.isEmpty()) {
        List<String> files = lines(dir, "diff", "--name-only", before, upstream);
        done.add(
            "brought in "
                + incoming.size()
                + " commits ("
                + listed(incoming, "; ")
                + ") changing "
                + files.size()
                + " files ("
                + listed(files, ", ")
                + ")");
      }
    }
    if (!branch.equals(clones.currentBranch(dir))) {
      if (local) {
        git.checked(dir, "checkout", "-q", branch);
      } else {
        git.checked(dir, "checkout", "-q", "-b", branch, "--track", upstream);
      }
    }
    if (upstream != null) {
      git.checked(dir, "reset", "-q", "--hard", upstream);
    }
    String head = clones.revParse(dir, "HEAD");
    String expected = upstream == null ? head : clones.revParse(dir, upstream);
    if (!branch.equals(clones.currentBranch(dir)) || !head.equals(expected)) {
      throw ApplicationFailure.newFailure(
          repo.describe() + " is not on " + branch + " at " + expected + " after the checkout",
          "GitCommandFailed");
    }
    log.info("step '{}': {} on {} at {} (was {})", r.step(), repo.describe(), branch, head, before);
    return new ActionResult(
        repo.describe()
            + " is on "
            + branch
            + " at "
            + abbrev(head)
            + (before == null || before.equals(head) ? "" : " (was " + abbrev(before) + ")")
            + (done.isEmpty() ? "" : ": " + String.join("; ", done)),
        false,
        head);
  }

  /** The non-blank lines a command that must succeed prints. */
  private List<String> lines(Path dir, String... args) {
    return git.checked(dir, args).lines().filter(l -> !l.isBlank()).toList();
  }

  /** The branch's upstream ref: its configured one, else {@code remote/branch}; null if none. */
  private String upstream(Path dir, String branch, String remote) {
    GitCli.Result res =
        git.run(dir, Map.of(), "rev-parse", "-q", "--symbolic-full-name", branch + "@{upstream}");
    if (res.ok() && !res.stdout().isBlank()) {
      return res.stdout().strip();
    }
    String tracking = "refs/remotes/" + remote + "/" + branch;
    return remote != null && clones.revParse(dir, tracking) != null ? tracking : null;
  }

  /** Paths with changes in the work tree or index, and untracked files, into the two lists. */
  private void changedFiles(Path dir, List<String> tracked, List<String> untracked) {
    GitCli.Result res =
        git.run(dir, Map.of(), "status", "--porcelain", "-z", "--untracked-files=all");
    if (!res.ok()) {
      throw GitCli.failed(dir, res, "status");
    }
    String[] items = res.stdout().split("\0");
    for (int i = 0; i < items.length; i++) {
      String item = items[i];
      if (item.length() < 4) {
        continue;
      }
      (item.startsWith("??") ? untracked : tracked).add(item.substring(3));
      if (item.charAt(0) == 'R' || item.charAt(0) == 'C') {
        i++; // A rename's or copy's source path follows it.
      }
    }
  }
}
