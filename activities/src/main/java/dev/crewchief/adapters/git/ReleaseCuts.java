package dev.crewchief.adapters.git;

import static dev.crewchief.adapters.git.GitMessages.abbrev;
import static dev.crewchief.adapters.git.GitMessages.invalid;
import static dev.crewchief.adapters.git.GitMessages.listed;

import dev.crewchief.activities.CutReleaseRequest;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ReleaseCut;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Git.cutRelease}: the changelog's Unreleased entries moved into a section for the version,
 * committed, tagged and optionally pushed, then verified. Every decision is taken first from what
 * the clone (and, for a push, the remote) holds, so a dry run reports exactly what the real run
 * does and a retry after a partial run finishes it instead of doing anything twice.
 */
final class ReleaseCuts {
  private static final Logger log = LoggerFactory.getLogger(ReleaseCuts.class);

  private final GitCli git;
  private final GitClones clones;

  ReleaseCuts(GitCli git, GitClones clones) {
    this.git = git;
    this.clones = clones;
  }

  ReleaseCut cutRelease(CutReleaseRequest r) {
    GitRepoRef repo = clones.require(r == null ? null : r.repo());
    String version = r.version();
    if (version == null || !version.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw invalid("release version '" + version + "' must look like 36-1");
    }
    String date = r.date();
    try {
      LocalDate.parse(date == null ? "" : date);
    } catch (DateTimeParseException e) {
      throw invalid("release date '" + date + "' must be an ISO date such as 2019-06-16");
    }
    String changelogPath =
        r.changelogPath() == null || r.changelogPath().isBlank()
            ? "CHANGELOG.md"
            : r.changelogPath();
    if (changelogPath.startsWith("/") || List.of(changelogPath.split("/")).contains("..")) {
      throw invalid("changelog path '" + changelogPath + "' must be relative to the work tree");
    }
    String tag = r.tagName() == null || r.tagName().isBlank() ? "v" + version : r.tagName();
    if (r.push() && (repo.remote() == null || repo.remote().isBlank())) {
      throw invalid("push requested but " + repo.describe() + " has no remote: configure one");
    }
    Path dir = clones.workTree(repo);
    if (!git.run(dir, Map.of(), "check-ref-format", "refs/tags/" + tag).ok()) {
      throw invalid("'" + tag + "' is not a valid git tag name");
    }
    String branch = clones.currentBranch(dir);
    if (repo.branch() != null && !repo.branch().isBlank() && !repo.branch().equals(branch)) {
      throw ApplicationFailure.newNonRetryableFailure(
          repo.describe()
              + " is on "
              + (branch == null ? "a detached HEAD" : "branch " + branch)
              + ", not "
              + repo.branch()
              + ": check out the release branch first (Git.checkoutBranch)",
          "WrongBranch");
    }
    if (branch == null && r.push()) {
      throw ApplicationFailure.newNonRetryableFailure(
          repo.describe() + " has a detached HEAD: there is no branch to push the release to",
          "WrongBranch");
    }
    String head = clones.revParse(dir, "HEAD");
    GitCli.Result show =
        head == null ? null : git.run(dir, Map.of(), "show", "HEAD:" + changelogPath);
    if (show == null || !show.ok()) {
      throw ApplicationFailure.newNonRetryableFailure(
          changelogPath
              + " is not committed in "
              + repo.describe()
              + (head == null ? " (no commits yet)" : " at " + head)
              + ": check the changelog path",
          "ChangelogMissing");
    }
    String committed = show.stdout();
    Changelog changelog = Changelog.parse(committed);
    if (changelog == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          changelogPath
              + " in "
              + repo.describe()
              + " has no '## [Unreleased]' heading: it must follow the Keep a Changelog format",
          "ChangelogInvalid");
    }

    // Decide first, from what the clone holds, so that a dry run reports exactly what the real run
    // does and a retry after a partial run finishes it instead of doing anything twice.
    boolean hasRelease = changelog.hasRelease(version);
    List<String> entries = changelog.entries();
    String localTag = clones.revParse(dir, "refs/tags/" + tag + "^{commit}");
    String sectionCommit = hasRelease ? sectionCommit(dir, changelogPath, version) : null;
    boolean commit = false;
    String target;
    String note = "";
    if (localTag != null) {
      if (!localTag.equals(head) && !localTag.equals(sectionCommit)) {
        throw tagConflict(tag, localTag, "locally", head, sectionCommit);
      }
      target = localTag;
      if (!hasRelease) {
        note = " (note: " + changelogPath + " has no [" + version + "] section)";
        log.warn(
            "tag {} names HEAD of {} but {} has no section for {}",
            tag,
            dir,
            changelogPath,
            version);
      }
    } else if (hasRelease && entries.isEmpty()) {
      target = head;
    } else if (hasRelease) {
      throw ApplicationFailure.newNonRetryableFailure(
          changelogPath
              + " already has a ["
              + version
              + "] section but "
              + entries.size()
              + " new Unreleased entries, and no tag "
              + tag
              + ": release them under a new version",
          "ReleaseExists");
    } else if (entries.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "the Unreleased section of "
              + changelogPath
              + " in "
              + repo.describe()
              + " is empty and there is no ["
              + version
              + "] section: nothing to release (add the changes to the changelog first)",
          "NothingToRelease");
    } else {
      commit = true;
      target = null;
    }
    String updated = commit ? changelog.cut(version, tag, date) : null;
    Path file = dir.resolve(changelogPath);
    if (commit) {
      String working = readOrNull(file);
      // The file may already hold the cut when an earlier attempt wrote it and stopped before
      // committing; any other change is someone's work that the release commit must not take.
      if (working != null && !working.equals(committed) && !working.equals(updated)) {
        throw ApplicationFailure.newNonRetryableFailure(
            changelogPath
                + " in "
                + repo.describe()
                + " has uncommitted changes: commit or discard them, then retry",
            "WorkTreeDirty");
      }
    }
    String message = "Release " + version;
    boolean tagIt = localTag == null;
    String remote = repo.remote();

    if (r.dryRun()) {
      StringBuilder a = new StringBuilder("would ");
      if (commit) {
        a.append("move ")
            .append(entries.size())
            .append(" Unreleased entries of ")
            .append(changelogPath)
            .append(" into '")
            .append(
                updated
                    .lines()
                    .filter(l -> l.startsWith(Changelog.releaseHeading(version)))
                    .findFirst()
                    .orElse(Changelog.releaseHeading(version) + " - " + date))
            .append("' (")
            .append(listed(entries, "; "))
            .append("), commit '")
            .append(message)
            .append("' on ")
            .append(branch == null ? "the detached HEAD" : branch)
            .append(" after ")
            .append(abbrev(head))
            .append(", ");
      }
      if (tagIt) {
        a.append("tag ")
            .append(commit ? "that commit" : abbrev(target))
            .append(' ')
            .append(tag)
            .append(commit ? "" : " (the changelog already has the release)");
      } else {
        a.append("do nothing: tag ").append(tag).append(" already names ").append(abbrev(target));
      }
      if (r.push()) {
        a.append(", then push ").append(branch).append(" and ").append(tag).append(" to ");
        a.append(remote).append(" where they are missing");
      }
      a.append(" in ").append(repo.describe()).append(note);
      return new ReleaseCut(a.toString(), true, commit ? head : target, tag, commit || tagIt);
    }

    // Read the remote before changing anything: an unreachable remote then fails (and is retried)
    // with the clone untouched, and a tag someone already pushed is seen before we make our own.
    Map<String, String> remoteRefs = r.push() ? remoteRefs(dir, remote, branch, tag) : Map.of();
    String remoteTag = remoteRefs.get("tag");
    if (remoteTag != null && (commit || !remoteTag.equals(target))) {
      throw tagConflict(tag, remoteTag, "on " + remote, commit ? head : target, sectionCommit);
    }

    List<String> done = new ArrayList<>();
    Map<String, String> identity = identity(r);
    if (commit) {
      try {
        Files.writeString(file, updated, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw ApplicationFailure.newFailure(
            "cannot write " + file + ": " + e.getMessage(), "GitCommandFailed");
      }
      // --only commits just the changelog, whatever else is staged or changed in the clone.
      commitOrFail(dir, identity, "commit", "--only", "-m", message, "--", changelogPath);
      target = clones.revParse(dir, "HEAD");
      GitCli.Result check = git.run(dir, Map.of(), "show", "HEAD:" + changelogPath);
      if (!check.ok() || !check.stdout().equals(updated)) {
        throw ApplicationFailure.newFailure(
            "the release commit " + target + " does not hold the updated " + changelogPath,
            "GitCommandFailed");
      }
      done.add("committed '" + message + "' (" + entries.size() + " entries) as " + abbrev(target));
      log.info("step '{}': committed {} in {} as {}", r.step(), message, dir, target);
    }
    if (tagIt) {
      if (remoteTag != null) {
        // Someone tagged that commit on the remote already (the releases page, say): take their
        // tag rather than making a different tag object of the same name.
        GitCli.Result f =
            git.remote(
                dir,
                remote,
                "fetch",
                "--no-tags",
                remote,
                "refs/tags/" + tag + ":refs/tags/" + tag);
        if (!f.ok()) {
          throw GitCli.failed(dir, f, "fetch", remote, tag);
        }
        done.add("fetched tag " + tag + " from " + remote);
      } else {
        commitOrFail(dir, identity, "tag", "-a", "-m", message, tag, target);
        done.add("tagged " + abbrev(target) + " " + tag);
      }
      String tagged = clones.revParse(dir, "refs/tags/" + tag + "^{commit}");
      if (!target.equals(tagged)) {
        throw ApplicationFailure.newFailure(
            "tag " + tag + " names " + tagged + " after tagging " + target, "GitCommandFailed");
      }
      log.info("step '{}': tag {} names {} in {}", r.step(), tag, target, dir);
    }
    if (r.push()) {
      List<String> refspecs = new ArrayList<>();
      String remoteBranch = remoteRefs.get("branch");
      if (remoteBranch == null || !isAncestor(dir, target, remoteBranch)) {
        refspecs.add(target + ":refs/heads/" + branch);
      }
      if (remoteTag == null) {
        refspecs.add("refs/tags/" + tag + ":refs/tags/" + tag);
      }
      if (!refspecs.isEmpty()) {
        push(dir, remote, refspecs, branch, tag);
        Map<String, String> after = remoteRefs(dir, remote, branch, tag);
        if (!target.equals(after.get("tag"))
            || after.get("branch") == null
            || !isAncestor(dir, target, after.get("branch"))) {
          throw ApplicationFailure.newFailure(
              "after the push "
                  + remote
                  + " does not have "
                  + tag
                  + " on "
                  + branch
                  + " at "
                  + target,
              "GitCommandFailed");
        }
        List<String> pushed = new ArrayList<>();
        if (refspecs.get(0).endsWith(":refs/heads/" + branch)) {
          pushed.add(branch);
        }
        if (remoteTag == null) {
          pushed.add(tag);
        }
        done.add("pushed " + String.join(" and ", pushed) + " to " + remote);
        log.info("step '{}': pushed {} to {}", r.step(), refspecs, remote);
      }
    }
    String action =
        done.isEmpty()
            ? "release "
                + version
                + " was already cut in "
                + repo.describe()
                + ": tag "
                + tag
                + " names "
                + abbrev(target)
                + note
            : String.join(", ", done) + " in " + repo.describe() + note;
    return new ReleaseCut(action, false, target, tag, !done.isEmpty());
  }

  private static ApplicationFailure tagConflict(
      String tag, String tagCommit, String where, String head, String sectionCommit) {
    return ApplicationFailure.newNonRetryableFailure(
        "tag "
            + tag
            + " already exists "
            + where
            + " at commit "
            + tagCommit
            + ", not at the release commit "
            + (head == null ? "to be made" : head)
            + (sectionCommit == null || sectionCommit.equals(head)
                ? ""
                : " nor at " + sectionCommit + " (which made the release section)")
            + ": choose another version or tag name, or delete the wrong tag",
        "TagConflict");
  }

  /** The latest commit that added the release heading to the changelog. */
  private String sectionCommit(Path dir, String changelogPath, String version) {
    String out =
        git.checked(
            dir,
            "log",
            "-1",
            "--format=%H",
            "-S" + Changelog.releaseHeading(version),
            "HEAD",
            "--",
            changelogPath);
    return out.isBlank() ? null : out;
  }

  private boolean isAncestor(Path dir, String commit, String of) {
    return clones.revParse(dir, of + "^{commit}") != null
        && git.run(dir, Map.of(), "merge-base", "--is-ancestor", commit, of).ok();
  }

  /** The remote's branch and tag commits ({@code branch}, {@code tag}), peeling annotated tags. */
  private Map<String, String> remoteRefs(Path dir, String remote, String branch, String tag) {
    GitCli.Result res =
        git.remote(
            dir,
            remote,
            "ls-remote",
            remote,
            "refs/heads/" + branch,
            "refs/tags/" + tag,
            "refs/tags/" + tag + "^{}");
    if (!res.ok()) {
      throw GitCli.failed(dir, res, "ls-remote", remote);
    }
    Map<String, String> refs = new HashMap<>();
    for (String line : res.stdout().lines().toList()) {
      String[] f = line.split("\t");
      if (f.length != 2) {
        continue;
      }
      if (f[1].equals("refs/heads/" + branch)) {
        refs.put("branch", f[0]);
      } else if (f[1].equals("refs/tags/" + tag + "^{}")) {
        refs.put("tag", f[0]);
      } else if (f[1].equals("refs/tags/" + tag)) {
        refs.putIfAbsent("tag", f[0]);
      }
    }
    return refs;
  }

  private void push(Path dir, String remote, List<String> refspecs, String branch, String tag) {
    List<String> args = new ArrayList<>(List.of("push", "--porcelain", "--atomic", remote));
    args.addAll(refspecs);
    GitCli.Result res = git.remote(dir, remote, args.toArray(String[]::new));
    if (res.ok()) {
      return;
    }
    String rejected = (res.stdout() + "\n" + res.stderr()).toLowerCase();
    if (rejected.contains("refs/tags/" + tag.toLowerCase())
        && rejected.contains("already exists")) {
      throw ApplicationFailure.newNonRetryableFailure(
          "tag " + tag + " already exists on " + remote + " at another commit: " + res.why(),
          "TagConflict");
    }
    if (rejected.contains("rejected")) {
      throw ApplicationFailure.newNonRetryableFailure(
          remote
              + " refused the release on "
              + branch
              + " (the remote branch has commits this clone lacks, or is protected): "
              + res.why()
              + "; bring the clone up to date and cut the release again",
          "PushRejected");
    }
    throw GitCli.failed(dir, res, args.toArray(String[]::new));
  }

  private void commitOrFail(Path dir, Map<String, String> identity, String... args) {
    GitCli.Result res = git.run(dir, identity, args);
    if (res.ok()) {
      return;
    }
    if (res.stderr().contains("Please tell me who you are")
        || res.stderr().contains("unable to auto-detect email")) {
      throw invalid(
          "git has no identity to sign the release with in "
              + dir
              + ": give the step an authorName and authorEmail");
    }
    throw GitCli.failed(dir, res, args);
  }

  /** The release's author and committer (a tag's tagger is its committer identity). */
  private static Map<String, String> identity(CutReleaseRequest r) {
    Map<String, String> env = new HashMap<>();
    if (r.authorName() != null && !r.authorName().isBlank()) {
      env.put("GIT_AUTHOR_NAME", r.authorName());
      env.put("GIT_COMMITTER_NAME", r.authorName());
    }
    if (r.authorEmail() != null && !r.authorEmail().isBlank()) {
      env.put("GIT_AUTHOR_EMAIL", r.authorEmail());
      env.put("GIT_COMMITTER_EMAIL", r.authorEmail());
    }
    return env;
  }

  private static String readOrNull(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot read " + file + ": " + e.getMessage(), "GitCommandFailed");
    }
  }
}
