package dev.crewchief.adapters.git;

import io.temporal.failure.ApplicationFailure;
import java.util.List;

/**
 * What the git activities say in their results and failures: lists are cut at {@value #LISTED}
 * items so that a clone with thousands of changed files still gives a readable message, and commits
 * are abbreviated the way git shows them.
 */
final class GitMessages {
  static final int LISTED = 20;

  private GitMessages() {}

  /** A request that names something wrong: not retried, the message says what to change. */
  static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  static String listed(List<String> items, String separator) {
    List<String> shown = items.size() > LISTED ? items.subList(0, LISTED) : items;
    return String.join(separator, shown)
        + (items.size() > LISTED ? separator + "and " + (items.size() - LISTED) + " more" : "");
  }

  /** The first 12 characters of a commit, or {@code (none)}. */
  static String abbrev(String commit) {
    return commit == null ? "(none)" : commit.substring(0, Math.min(12, commit.length()));
  }
}
