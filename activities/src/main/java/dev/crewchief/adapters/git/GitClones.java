package dev.crewchief.adapters.git;

import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.adapters.compose.Checkouts;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The git clones on this worker, as the checkouts that releases are cut in and compose files are
 * edited in: where a clone is, and what its refs name. A configured path may point anywhere inside
 * the work tree; every command runs at its top, which git itself reports.
 */
final class GitClones implements Checkouts {
  private final GitCli git;

  GitClones(GitCli git) {
    this.git = git;
  }

  @Override
  public GitRepoRef require(GitRepoRef repo) {
    if (repo == null || repo.path() == null || repo.path().isBlank()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no repository given: configure the path of its clone on the worker", "InvalidInput");
    }
    return repo;
  }

  /** The work tree's top directory; {@code RepoMissing} unless it is a clone with a work tree. */
  @Override
  public Path workTree(GitRepoRef repo) {
    Path path = Path.of(repo.path());
    if (!Files.isDirectory(path)) {
      throw repoMissing(repo, "the directory does not exist on this worker");
    }
    GitCli.Result top = git.run(path, Map.of(), "rev-parse", "--show-toplevel");
    if (!top.ok()) {
      throw repoMissing(repo, top.why());
    }
    return Path.of(top.stdout().strip());
  }

  /** The commit a ref names, or null when there is none. */
  String revParse(Path dir, String ref) {
    GitCli.Result res = git.run(dir, Map.of(), "rev-parse", "-q", "--verify", ref);
    return res.ok() ? res.stdout().strip() : null;
  }

  /** The checked-out branch, or null for a detached HEAD. */
  String currentBranch(Path dir) {
    GitCli.Result res = git.run(dir, Map.of(), "symbolic-ref", "-q", "--short", "HEAD");
    return res.ok() ? res.stdout().strip() : null;
  }

  /**
   * The identity for a commit, merge, stash or tag the worker makes: the clone's configured one
   * when it has one (a person's name on their clone), else Crew Chief, rather than failing because
   * the worker's user has no git identity.
   */
  Map<String, String> identity(Path dir) {
    if (git.run(dir, Map.of(), "config", "user.email").ok()) {
      return Map.of();
    }
    return Map.of(
        "GIT_AUTHOR_NAME", "Crew Chief",
        "GIT_AUTHOR_EMAIL", "crewchief@localhost",
        "GIT_COMMITTER_NAME", "Crew Chief",
        "GIT_COMMITTER_EMAIL", "crewchief@localhost");
  }

  private static ApplicationFailure repoMissing(GitRepoRef repo, String why) {
    return ApplicationFailure.newNonRetryableFailure(
        repo.describe()
            + " is not a git clone with a work tree ("
            + why
            + "): clone it there first",
        "RepoMissing");
  }
}
