package dev.crewchief.activities;

/**
 * The compose file of a docker-compose project, in a git clone on the worker: the runbook's {@code
 * docker-compose.prod.yml} in the {@code atmosphere-docker} checkout. {@code file} is relative to
 * the clone's work tree.
 */
public record ComposeFileRef(GitRepoRef repo, String file) {
  public String describe() {
    return file + " in " + repo.describe();
  }
}
