package dev.crewchief.adapters.compose;

import dev.crewchief.activities.GitRepoRef;
import java.nio.file.Path;

/**
 * The checkouts on this worker that compose files live in. Editing a compose file needs only its
 * directory; what makes a directory a checkout (for the git adapter, a clone with a work tree) is
 * the implementer's business, so this package does not depend on git.
 */
public interface Checkouts {
  /**
   * Checks a reference to a checkout without touching the disk (dry runs do this too).
   *
   * @return the reference
   * @throws io.temporal.failure.ApplicationFailure {@code InvalidInput} when it names no checkout
   */
  GitRepoRef require(GitRepoRef repo);

  /**
   * The top directory of the checkout's work tree.
   *
   * @throws io.temporal.failure.ApplicationFailure {@code RepoMissing} when it is not there
   */
  Path workTree(GitRepoRef repo);
}
