package dev.crewchief.metaspace;

import dev.crewchief.activities.ChangeReview;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runbook's review of the changes since the last release, as rules: which watched places
 * changed, what each implies, which strategy that recommends, and the next version. Pure: it reads
 * what {@code Git.reviewChanges} found.
 *
 * <p>The recommendation takes the most careful strategy any finding needs: engine migrations (DB
 * changes, run by hand) fork the VM; changed mappings need a full rebuild, so a reindex before
 * deployment; new fields can be populated after the deployment; otherwise in place. New fields the
 * new code cannot do without need the reindex too, which only a person can tell: the finding says
 * so and the strategy gate lets them choose it.
 */
public final class Review {
  private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)");

  /** One watched place that changed, its files and what it implies for the release. */
  public record Finding(String place, List<String> files, String implication) {
    public String describe() {
      return place + " changed (" + String.join(", ", files) + "): " + implication;
    }
  }

  /**
   * What the review concluded: the findings, the recommended strategy and why, the bump (patch or
   * minor) and why, and the next version after the last tag.
   */
  public record Findings(
      List<Finding> findings,
      Strategy recommended,
      String why,
      String bump,
      String bumpWhy,
      String lastTag,
      String nextVersion,
      List<String> pullRequests) {

    /** The text the strategy gate shows: findings, recommendation, pull requests. */
    public String describe() {
      StringBuilder sb = new StringBuilder();
      sb.append("Changes since ")
          .append(lastTag == null ? "the beginning (no release tag yet)" : lastTag)
          .append(": ")
          .append(pullRequests.size())
          .append(" pull request(s).\n");
      if (findings.isEmpty()) {
        sb.append("No watched place changed.\n");
      }
      for (Finding f : findings) {
        sb.append("- ").append(f.describe()).append('\n');
      }
      sb.append("Recommended strategy: ")
          .append(recommended.option())
          .append(" (")
          .append(why)
          .append(").\nNext version: ")
          .append(nextVersion)
          .append(" (")
          .append(bump)
          .append(": ")
          .append(bumpWhy)
          .append(").");
      return sb.toString();
    }
  }

  private Review() {}

  /**
   * @param bumpOption "patch", "minor" or null (then minor when a pull request's title carries one
   *     of {@code minorMarkers}, else patch)
   */
  public static Findings of(
      ChangeReview review,
      MetaspaceConfig.Watched watched,
      List<String> minorMarkers,
      String bumpOption) {
    List<Finding> findings = new ArrayList<>();
    List<String> fields = changed(review.changedFiles(), watched.esFields());
    List<String> mappings = changed(review.changedFiles(), watched.esMappings());
    List<String> engine = changed(review.changedFiles(), watched.engineMigrations());
    List<String> graphql = changed(review.changedFiles(), watched.graphqlMigrations());
    List<String> config = changed(review.changedFiles(), watched.config());
    List<String> ansible = changed(review.changedFiles(), watched.ansible());
    if (!fields.isEmpty()) {
      findings.add(
          new Finding(
              "Elasticsearch export fields",
              fields,
              "new fields: the Elasticsearch index must be updated during the deployment; check"
                  + " that sm-graphql falls back while they are not populated (a null in a"
                  + " non-nullable field fails the whole query); if the new code needs them,"
                  + " reindex before the deployment"));
    }
    if (!mappings.isEmpty()) {
      findings.add(
          new Finding(
              "Elasticsearch index mappings",
              mappings,
              "changed mappings: a full rebuild of the index is needed (reindex before"
                  + " deployment; it takes a long time)"));
    }
    if (!engine.isEmpty()) {
      findings.add(
          new Finding(
              "engine migrations",
              engine,
              "run by hand: ask the author how to run them before choosing the strategy"));
    }
    if (!graphql.isEmpty()) {
      findings.add(
          new Finding(
              "GraphQL migrations",
              graphql,
              "run when sm-graphql restarts; they do not always succeed: watch them (the"
                  + " post-deployment check reads sm-graphql's log if it does not stay up)"));
    }
    if (!config.isEmpty()) {
      findings.add(
          new Finding(
              "configuration files",
              config,
              "review them: if something goes wrong, start looking here"));
    }
    if (!ansible.isEmpty()) {
      findings.add(
          new Finding(
              "Ansible deployment scripts",
              ansible,
              "review them: if the deployment goes wrong, start looking here"));
    }
    Strategy s;
    String why;
    if (!engine.isEmpty()) {
      s = Strategy.FORK_THE_VM;
      why = "engine migrations change the database";
    } else if (!mappings.isEmpty()) {
      s = Strategy.REINDEX_BEFORE_DEPLOYMENT;
      why = "the index mappings changed";
    } else if (!fields.isEmpty()) {
      s = Strategy.DEPLOY_THEN_ES_UPDATE;
      why = "new Elasticsearch fields, which may be populated after the deployment";
    } else {
      s = Strategy.IN_PLACE;
      why = "no significant change to Elasticsearch or Postgres";
    }
    String bump;
    String bumpWhy;
    List<String> marked = marked(review.pullRequests(), minorMarkers);
    if (bumpOption != null) {
      bump = bumpOption;
      bumpWhy = "--bump " + bumpOption;
    } else if (!marked.isEmpty()) {
      bump = "minor";
      bumpWhy = "milestone or breaking change: " + String.join("; ", marked);
    } else {
      bump = "patch";
      bumpWhy = "no milestone or breaking change among the pull requests";
    }
    return new Findings(
        List.copyOf(findings),
        s,
        why,
        bump,
        bumpWhy,
        review.lastTag(),
        next(review.lastTag(), bump),
        review.pullRequests());
  }

  /** The version after {@code last} by {@code bump}; 0.1.0 / 0.0.1 when there is none yet. */
  static String next(String last, String bump) {
    if (last == null) {
      return bump.equals("minor") ? "0.1.0" : "0.0.1";
    }
    Matcher m = VERSION.matcher(last);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "the last release tag '"
              + last
              + "' is not MAJOR.MINOR.PATCH: set metaspace.repo.tagPattern");
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    int patch = Integer.parseInt(m.group(3));
    return bump.equals("minor")
        ? major + "." + (minor + 1) + ".0"
        : major + "." + minor + "." + (patch + 1);
  }

  /** The release notes: the tag message the runbook shows. */
  public static String releaseNotes(List<String> pullRequests) {
    StringBuilder sb = new StringBuilder("Release notes:\n");
    if (pullRequests.isEmpty()) {
      sb.append("  (no pull requests merged)\n");
    }
    for (String pr : pullRequests) {
      sb.append("  ").append(pr).append('\n');
    }
    return sb.toString();
  }

  private static List<String> marked(List<String> pullRequests, List<String> markers) {
    List<String> out = new ArrayList<>();
    for (String pr : pullRequests) {
      String lower = pr.toLowerCase(Locale.ROOT);
      for (String m : markers) {
        if (lower.contains(m.toLowerCase(Locale.ROOT))) {
          out.add(pr);
          break;
        }
      }
    }
    return out;
  }

  /** The changed files under any of {@code places} (a directory ends with '/', else a file). */
  static List<String> changed(List<String> files, List<String> places) {
    List<String> out = new ArrayList<>();
    if (places == null) {
      return out;
    }
    for (String f : files) {
      for (String p : places) {
        if (p.endsWith("/") ? f.startsWith(p) : f.equals(p)) {
          out.add(f);
          break;
        }
      }
    }
    return out;
  }
}
