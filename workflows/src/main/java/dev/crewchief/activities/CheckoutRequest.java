package dev.crewchief.activities;

/**
 * Bring {@code repo} to {@code branch} (by default the repository's own branch) at its upstream.
 *
 * @param stashAs null to refuse a work tree with any change or untracked file, so that nothing of a
 *     person's is reset away; otherwise changes to tracked files are first stashed under this
 *     message (where {@code git stash list} shows them) instead of being discarded as the runbook's
 *     {@code git reset --hard} would, and untracked files are left where they are unless the
 *     upstream brings a file of the same path (refused: the reset would overwrite it)
 */
public record CheckoutRequest(
    String step, GitRepoRef repo, String branch, boolean dryRun, String stashAs) {

  /** A checkout that refuses local changes. */
  public CheckoutRequest(String step, GitRepoRef repo, String branch, boolean dryRun) {
    this(step, repo, branch, dryRun, null);
  }
}
