package dev.crewchief.adapters.git;

import static dev.crewchief.adapters.git.GitMessages.abbrev;
import static dev.crewchief.adapters.git.GitMessages.invalid;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.TagRequest;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Git.tagRelease}: the runbook's {@code git tag 1.7.6 -m '<release notes>'} on the release
 * branch and {@code git push origin 1.7.6}, then the remote read back. A tag of that name is looked
 * for in the clone and on the remote before anything is made: on the same commit it is the
 * release's own (a retry, or a tag made by hand) and is kept; on any other commit it is a {@code
 * TagConflict}, since moving a published release tag would rewrite history for everyone who fetched
 * it.
 */
final class ReleaseTags {
  private static final Logger log = LoggerFactory.getLogger(ReleaseTags.class);

  private final GitCli git;
  private final GitClones clones;
  private final Remotes remotes;

  ReleaseTags(GitCli git, GitClones clones, Remotes remotes) {
    this.git = git;
    this.clones = clones;
    this.remotes = remotes;
  }

  ActionResult tagRelease(TagRequest r) {
    GitRepoRef repo = clones.require(r == null ? null : r.repo());
    Path dir = clones.workTree(repo);
    String tag = r.tag();
    if (tag == null
        || tag.isBlank()
        || tag.startsWith("-")
        || !git.run(dir, Map.of(), "check-ref-format", "refs/tags/" + tag).ok()) {
      throw invalid("'" + tag + "' is not a valid git tag name");
    }
    String branch =
        remotes.requireBranch(
            dir, r.branch() == null || r.branch().isBlank() ? repo.branch() : r.branch(), "branch");
    if (r.message() == null || r.message().isBlank()) {
      throw invalid("the tag " + tag + " needs a message: pass the release notes");
    }
    String remote = repo.remote() == null || repo.remote().isBlank() ? null : repo.remote();
    if (r.push() && remote == null) {
      throw invalid("push requested but " + repo.describe() + " has no remote: configure one");
    }
    // The clone's branch, as the runbook's git switch release finds it; a clone without one
    // takes the remote's, as git switch would create it.
    String target = clones.revParse(dir, "refs/heads/" + branch + "^{commit}");
    if (target == null && remote != null) {
      target = clones.revParse(dir, Remotes.tracking(remote, branch) + "^{commit}");
    }
    if (target == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "branch "
              + branch
              + " exists neither in "
              + repo.describe()
              + (remote == null ? "" : " nor as " + remote + "/" + branch)
              + ": check the branch name",
          "BranchMissing");
    }
    String tagRef = "refs/tags/" + tag;
    String local = clones.revParse(dir, tagRef + "^{commit}");
    if (local != null && !local.equals(target)) {
      throw conflict(tag, local, "in " + repo.describe(), branch, target);
    }
    if (r.dryRun()) {
      // The rehearsal reads the clone only, not the remote.
      String action =
          (local == null
                  ? "would tag " + abbrev(target) + " (the head of " + branch + ") " + tag
                  : "would keep tag " + tag + ", which already names " + abbrev(target))
              + (r.push() ? " and push it to " + remote + " unless it is there" : "")
              + " in "
              + repo.describe()
              + (local == null ? ", with the message:\n" + r.message().strip() : "");
      return new ActionResult(action, true, target);
    }

    // Read the remote first: a tag someone already pushed is seen before we make our own.
    String remoteTag = r.push() ? remotes.heads(dir, remote, List.of(tagRef)).get(tagRef) : null;
    if (remoteTag != null && !remoteTag.equals(target)) {
      throw conflict(tag, remoteTag, "on " + remote, branch, target);
    }
    List<String> done = new ArrayList<>();
    if (local == null && remoteTag != null) {
      // The release's tag is already published (a retry after the push, or tagged on the
      // releases page): take it rather than make a second tag object of the same name.
      GitCli.Result f =
          git.remote(dir, remote, "fetch", "--no-tags", remote, "+" + tagRef + ":" + tagRef);
      if (!f.ok()) {
        throw GitCli.failed(dir, f, "fetch", remote, tagRef);
      }
      done.add("fetched tag " + tag + " from " + remote);
    } else if (local == null) {
      // --cleanup=whitespace: release notes may have lines starting with '#', which the default
      // cleanup would drop as comments.
      GitCli.Result t =
          git.run(
              dir,
              clones.identity(dir),
              "tag",
              "-a",
              "--cleanup=whitespace",
              "-m",
              r.message(),
              tag,
              target);
      if (!t.ok()) {
        throw GitCli.failed(dir, t, "tag", "-a", tag, target);
      }
      done.add("tagged " + abbrev(target) + " (the head of " + branch + ") " + tag);
      log.info("step '{}': tagged {} {} in {}", r.step(), target, tag, dir);
    }
    String tagged = clones.revParse(dir, tagRef + "^{commit}");
    if (!target.equals(tagged)) {
      throw ApplicationFailure.newFailure(
          "tag " + tag + " names " + tagged + " after tagging " + target, "GitCommandFailed");
    }
    String note = "";
    if (local == null && remoteTag == null && !sameText(message(dir, tagRef), r.message())) {
      throw ApplicationFailure.newFailure(
          "tag " + tag + " was made without the requested message", "GitCommandFailed");
    } else if (local != null && !sameText(message(dir, tagRef), r.message())) {
      note = " (its message differs from the release notes given: it was kept as it is)";
    }

    if (r.push()) {
      if (remoteTag == null) {
        GitCli.Result p =
            git.remote(dir, remote, "push", "--porcelain", remote, tagRef + ":" + tagRef);
        if (!p.ok()) {
          String out = p.stdout() + "\n" + p.stderr();
          if (out.contains("already exists")) {
            throw ApplicationFailure.newNonRetryableFailure(
                "tag " + tag + " already exists on " + remote + " at another commit: " + p.why(),
                "TagConflict");
          }
          if (out.contains("rejected")) {
            throw ApplicationFailure.newNonRetryableFailure(
                remote + " refused tag " + tag + ": " + p.why() + " (is it protected?)",
                "PushRejected");
          }
          throw GitCli.failed(dir, p, "push", remote, tagRef);
        }
        done.add("pushed " + tag + " to " + remote);
      }
      // Verified as people see it: the tag among the remote's tags, naming the release commit.
      String after = remotes.tags(dir, remote).get(tag);
      if (!target.equals(after)) {
        throw ApplicationFailure.newFailure(
            "after the push " + remote + " has tag " + tag + " at " + after + ", not " + target,
            "GitCommandFailed");
      }
    }
    String action =
        (done.isEmpty()
                ? "tag "
                    + tag
                    + " already names "
                    + abbrev(target)
                    + " (the head of "
                    + branch
                    + ")"
                    + (r.push() ? " and is on " + remote : "")
                    + ": nothing to do"
                : String.join(", ", done))
            + " in "
            + repo.describe()
            + note;
    log.info("step '{}': {}", r.step(), action);
    return new ActionResult(action, false, target);
  }

  private String message(Path dir, String tagRef) {
    return git.checked(dir, "for-each-ref", "--format=%(contents)", tagRef);
  }

  /** Equal as git's whitespace cleanup leaves a message: trailing spaces and blank runs aside. */
  private static boolean sameText(String a, String b) {
    return normal(a).equals(normal(b));
  }

  private static String normal(String s) {
    return s.lines()
        .map(String::stripTrailing)
        .collect(Collectors.joining("\n"))
        .replaceAll("\n{3,}", "\n\n")
        .strip();
  }

  private static ApplicationFailure conflict(
      String tag, String commit, String where, String branch, String target) {
    return ApplicationFailure.newNonRetryableFailure(
        "tag "
            + tag
            + " already exists "
            + where
            + " at commit "
            + commit
            + ", not at "
            + target
            + " (the head of "
            + branch
            + "): choose another version, or delete the wrong tag if it was never published",
        "TagConflict");
  }
}
