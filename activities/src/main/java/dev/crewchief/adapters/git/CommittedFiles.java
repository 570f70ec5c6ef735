package dev.crewchief.adapters.git;

import dev.crewchief.activities.FileContent;
import dev.crewchief.activities.FileRequest;
import dev.crewchief.activities.GitRepoRef;
import io.temporal.failure.ApplicationFailure;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code Git.readFile}: a file as committed at a ref of a clone ({@code git show REF:PATH}), such
 * as the index definition of the version being released, read at its tag. The work tree is not
 * touched, so what a person has edited there is not what is read. The text goes into the history,
 * so it is bounded: a configuration file, not a data file.
 */
final class CommittedFiles {
  static final int MAX_CHARS = 256 * 1024;

  private final GitCli git;
  private final GitClones clones;

  CommittedFiles(GitCli git, GitClones clones) {
    this.git = git;
    this.clones = clones;
  }

  FileContent readFile(FileRequest r) {
    GitRepoRef repo = clones.require(r == null ? null : r.repo());
    if (r.ref() == null || r.ref().isBlank() || r.ref().startsWith("-")) {
      throw invalid("a ref (a tag, branch or commit) to read the file at is needed");
    }
    if (r.path() == null
        || r.path().isBlank()
        || r.path().startsWith("/")
        || r.path().contains("..")) {
      throw invalid(
          "the file's path in the repository is needed, relative to its root, without '..': got '"
              + r.path()
              + "'");
    }
    Path dir = clones.workTree(repo);
    String commit = clones.revParse(dir, r.ref() + "^{commit}");
    if (commit == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          repo.describe() + " has no ref " + r.ref() + ": was it tagged or fetched?",
          "FileMissing");
    }
    GitCli.Result shown = git.run(dir, Map.of(), "show", commit + ":" + r.path());
    if (!shown.ok()) {
      throw ApplicationFailure.newNonRetryableFailure(
          r.path() + " is not in " + repo.describe() + " at " + r.ref() + " (" + commit + ")",
          "FileMissing");
    }
    String text = shown.stdout();
    if (text.length() > MAX_CHARS) {
      throw invalid(
          r.path()
              + " at "
              + r.ref()
              + " has "
              + text.length()
              + " characters; a file read into a release is at most "
              + MAX_CHARS);
    }
    return new FileContent(r.path(), commit, text);
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
