package dev.crewchief.adapters.git;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Release tags in version order, and pull requests read from GitHub's commit messages. */
class GitReleaseNotesTest {
  @Test
  void tagsSortAsVersionsNotAsText() {
    List<String> tags = new ArrayList<>(List.of("1.10.0", "1.9.3", "1.7.10", "1.7.9", "2.0.0"));
    tags.sort(VersionOrder.INSTANCE);
    assertEquals(List.of("1.7.9", "1.7.10", "1.9.3", "1.10.0", "2.0.0"), tags);
  }

  @Test
  void mergeAndSquashCommitsArePullRequestsOthersAreNot() {
    String log =
        "Merge pull request #921 from alice/es-fields\u001fAdd ES fields\n\nLonger text\n\u001e\n"
            + "Fix the datasets page (#922)\u001f\u001e\n"
            + "Tweak the readme\u001f\u001e\n"
            + "Merge branch 'release'\u001f\u001e\n"
            + "Merge pull request #923 from bob/no-title\u001f\u001e\n"
            + "Revert \"Fix the datasets page (#922)\" (#924)\u001fThis reverts commit 1.\u001e\n"
            + "Fix the datasets page again (#922)\u001f\u001e\n";
    assertEquals(
        List.of(
            "Add ES fields #921",
            "Fix the datasets page #922",
            "bob/no-title #923",
            "Revert \"Fix the datasets page (#922)\" #924"),
        MergedPullRequests.parse(log));
  }
}
