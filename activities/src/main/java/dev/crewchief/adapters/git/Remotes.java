package dev.crewchief.adapters.git;

import static dev.crewchief.adapters.git.GitMessages.invalid;

import dev.crewchief.activities.GitRepoRef;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The branches and tags of a clone's remote, as the release steps read them: fetched into the
 * remote-tracking refs by explicit refspecs (so that a single-branch clone or a custom fetch
 * configuration still brings in both release branches), and listed with {@code git ls-remote},
 * which reads the remote without writing anything into the clone.
 */
final class Remotes {
  private final GitCli git;
  private final GitClones clones;

  Remotes(GitCli git, GitClones clones) {
    this.git = git;
    this.clones = clones;
  }

  /** The ref that holds the last fetched state of the remote's branch. */
  static String tracking(String remote, String branch) {
    return "refs/remotes/" + remote + "/" + branch;
  }

  /**
   * The repository's remote, which must be one of the clone's remote names: these steps compare and
   * reset branches against their remote-tracking refs, which a bare URL does not have.
   */
  String requireName(Path dir, GitRepoRef repo) {
    String remote = repo.remote();
    if (remote == null || remote.isBlank()) {
      throw invalid(
          repo.describe() + " has no remote: configure the repository's remote (such as origin)");
    }
    if (!git.checked(dir, "remote").lines().toList().contains(remote)) {
      throw invalid(
          "'"
              + remote
              + "' is not a remote of "
              + repo.describe()
              + ": set the repository's remote to one of its remote names (git remote)");
    }
    return remote;
  }

  /** A branch name given by the request; {@code InvalidInput} when git would not accept it. */
  String requireBranch(Path dir, String branch, String role) {
    if (branch == null || branch.isBlank()) {
      throw invalid("no " + role + " given: name the branch");
    }
    if (!git.run(dir, Map.of(), "check-ref-format", "--branch", branch).ok()
        || branch.startsWith("-")) {
      throw invalid("'" + branch + "' (the " + role + ") is not a valid branch name");
    }
    return branch;
  }

  /**
   * Fetches each branch into its remote-tracking ref, forced (the remote is the reference, even
   * when its history was rewritten) and without tags (a tag that differs from the clone's own would
   * make the fetch fail, and the steps read the remote's tags with {@link #tags} instead).
   */
  void fetchBranches(Path dir, String remote, List<String> branches) {
    List<String> args = new ArrayList<>(List.of("fetch", "--no-tags", remote));
    for (String b : branches) {
      args.add("+refs/heads/" + b + ":" + tracking(remote, b));
    }
    GitCli.Result f = git.remote(dir, remote, args.toArray(String[]::new));
    if (f.ok()) {
      return;
    }
    if (f.stderr().contains("couldn't find remote ref")) {
      List<String> missing =
          branches.stream().filter(b -> f.stderr().contains("refs/heads/" + b)).toList();
      throw ApplicationFailure.newNonRetryableFailure(
          "the remote "
              + remote
              + " of "
              + dir
              + " has no branch "
              + String.join(" or ", missing.isEmpty() ? branches : missing)
              + ": check the branch names of the step",
          "BranchMissing");
    }
    throw GitCli.failed(dir, f, args.toArray(String[]::new));
  }

  /**
   * The commits that the remote's refs of these full names point at (an annotated tag peeled to its
   * commit); a ref the remote lacks is missing from the map.
   */
  Map<String, String> heads(Path dir, String remote, List<String> refs) {
    List<String> args = new ArrayList<>(List.of("ls-remote", remote));
    for (String ref : refs) {
      args.add(ref);
      if (ref.startsWith("refs/tags/")) {
        args.add(ref + "^{}");
      }
    }
    Map<String, String> all = list(dir, remote, args);
    Map<String, String> out = new LinkedHashMap<>();
    for (String ref : refs) {
      if (all.containsKey(ref)) {
        out.put(ref, all.get(ref));
      }
    }
    return out;
  }

  /** Every tag of the remote, by name, with the commit it names (annotated tags peeled). */
  Map<String, String> tags(Path dir, String remote) {
    Map<String, String> out = new LinkedHashMap<>();
    list(dir, remote, List.of("ls-remote", "--tags", remote))
        .forEach((ref, commit) -> out.put(ref.substring("refs/tags/".length()), commit));
    return out;
  }

  private Map<String, String> list(Path dir, String remote, List<String> args) {
    GitCli.Result res = git.remote(dir, remote, args.toArray(String[]::new));
    if (!res.ok()) {
      throw GitCli.failed(dir, res, args.toArray(String[]::new));
    }
    Map<String, String> refs = new LinkedHashMap<>();
    for (String line : res.stdout().lines().toList()) {
      String[] f = line.split("\t");
      if (f.length != 2) {
        continue;
      }
      if (f[1].endsWith("^{}")) {
        // The commit an annotated tag names comes after the tag object's own line: it wins.
        refs.put(f[1].substring(0, f[1].length() - 3), f[0]);
      } else {
        refs.putIfAbsent(f[1], f[0]);
      }
    }
    return refs;
  }

  /** Whether {@code commit} is {@code of} or one of its ancestors; false when either is unknown. */
  boolean isAncestor(Path dir, String commit, String of) {
    return clones.revParse(dir, commit + "^{commit}") != null
        && clones.revParse(dir, of + "^{commit}") != null
        && git.run(dir, Map.of(), "merge-base", "--is-ancestor", commit, of).ok();
  }
}
