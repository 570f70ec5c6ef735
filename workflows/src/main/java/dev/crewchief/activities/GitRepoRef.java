package dev.crewchief.activities;

/**
 * A local clone of a git repository on the worker. {@code path} is its work tree; {@code remote} is
 * where releases are pushed and branches fetched from (a remote name such as {@code origin}, or for
 * pushes also a URL), or null when nothing is pushed; {@code branch} is the branch the repository
 * is expected to be on (the release branch, or the default for a checkout). Credentials for the
 * remote are the worker's own (its SSH agent, keys or credential helper), never part of this.
 */
public record GitRepoRef(String name, String path, String remote, String branch) {

  public String describe() {
    return (name == null || name.isBlank() ? "repository" : name) + " at " + path;
  }
}
