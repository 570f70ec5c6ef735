package dev.crewchief.metaspace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ChangeReview;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The review's rules: what each watched place implies, the strategy and the version it gives. */
class ReviewTest {
  static Review.Findings review(List<String> files, List<String> prs, String bump) {
    return Review.of(
        new ChangeReview(files, prs, "1.7.5", "aaa", "bbb"),
        MetaspaceFixtures.watched(),
        List.of("[Milestone]", "[Breaking]"),
        bump);
  }

  @Test
  void nothingWatchedChangedIsInPlaceAndAPatch() {
    Review.Findings f = review(List.of("README.md"), List.of("[Task] Task name #921"), null);
    assertEquals(Strategy.IN_PLACE, f.recommended());
    assertTrue(f.findings().isEmpty());
    assertEquals("1.7.6", f.nextVersion());
    assertEquals("patch", f.bump());
  }

  @Test
  void newFieldsRecommendTheUpdateAfterDeploymentAndWarnAboutGraphqlFallbacks() {
    Review.Findings f = review(List.of("metaspace/engine/sm/engine/es_export.py"), List.of(), null);
    assertEquals(Strategy.DEPLOY_THEN_ES_UPDATE, f.recommended());
    assertEquals(1, f.findings().size());
    assertTrue(f.findings().get(0).implication().contains("sm-graphql falls back"));
    assertTrue(f.findings().get(0).implication().contains("reindex before the deployment"));
  }

  @Test
  void changedMappingsNeedAFullRebuildEvenWithNewFields() {
    Review.Findings f =
        review(
            List.of(
                "metaspace/engine/sm/engine/es_export.py", "metaspace/engine/sm/engine/es_core.py"),
            List.of(),
            null);
    assertEquals(Strategy.REINDEX_BEFORE_DEPLOYMENT, f.recommended());
    assertEquals("the index mappings changed", f.why());
  }

  @Test
  void engineMigrationsForkTheVmAndSayToAskTheAuthor() {
    Review.Findings f =
        review(
            List.of(
                "metaspace/engine/migrations/r1.8_add_column.py",
                "metaspace/engine/sm/engine/es_core.py"),
            List.of(),
            null);
    assertEquals(Strategy.FORK_THE_VM, f.recommended());
    assertTrue(f.describe().contains("ask the author"), f.describe());
  }

  @Test
  void graphqlMigrationsConfigAndAnsibleAreFindingsThatChangeNoStrategy() {
    Review.Findings f =
        review(
            List.of(
                "metaspace/graphql/src/migrations/1600000000000-Foo.ts",
                "metaspace/engine/conf/config.json",
                "ansible/aws/roles/web/tasks/main.yml"),
            List.of(),
            null);
    assertEquals(Strategy.IN_PLACE, f.recommended());
    assertEquals(
        List.of("GraphQL migrations", "configuration files", "Ansible deployment scripts"),
        f.findings().stream().map(Review.Finding::place).toList());
    assertTrue(f.findings().get(0).implication().contains("watch them"));
  }

  @Test
  void aMilestonePullRequestMakesItMinorUnlessTheBumpIsGiven() {
    List<String> prs = List.of("[Task] Task name #921", "[Milestone] Dataset groups #930");
    Review.Findings f = review(List.of(), prs, null);
    assertEquals("minor", f.bump());
    assertEquals("1.8.0", f.nextVersion());
    assertTrue(f.bumpWhy().contains("#930"));
    assertEquals("1.7.6", review(List.of(), prs, "patch").nextVersion());
    assertEquals("1.8.0", review(List.of(), List.of(), "minor").nextVersion());
  }

  @Test
  void releaseNotesAreTheMergedPullRequests() {
    assertEquals(
        "Release notes:\n  [Task] Task name #921\n  [Bug] Bug name #922\n",
        Review.releaseNotes(List.of("[Task] Task name #921", "[Bug] Bug name #922")));
  }

  @Test
  void aLastTagOfAnotherFormIsAClearError() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Review.next("v1.7", "patch"));
    assertTrue(e.getMessage().contains("tagPattern"));
    assertEquals("0.0.1", Review.next(null, "patch"));
  }
}
