package dev.crewchief.metaspace;

import dev.crewchief.config.ConfigException;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import java.util.List;

/** {@code metaspace-release}: METASPACE's production release process. */
public final class MetaspaceRunbook extends RunbookDescriptor {
  static final String STRATEGY = "strategy";
  static final String BUMP = "bump";

  public MetaspaceRunbook() {
    super(
        new Spec(
            MetaspaceRelease.RUNBOOK,
            "METASPACE: review, CI, branches and tag, then one of the four deployment strategies",
            "METASPACE: the production release. The changes since the last release are reviewed"
                + " (Elasticsearch fields and mappings, GraphQL and engine migrations, config and"
                + " Ansible files) and a strategy is recommended, which the strategy gate confirms"
                + " or changes; master's CI must be green; release is merged into master and"
                + " fast-forwarded, the version tagged with the release notes and pushed, the"
                + " Ansible config checkout updated; then in-place, deploy then Elasticsearch"
                + " update, reindex before deployment (inactive index, reindex, processing off,"
                + " partial update, atomic alias swap, deploy, processing on, full update, old"
                + " index dropped after a gate), or fork the VM (read-only, image, copy with"
                + " termination protection, deploy, Elastic IP moved, confirmed-working gate,"
                + " old VM stopped and, after a gate, terminated); supervisor's programs and the"
                + " system services are checked after the deployment.",
            MetaspaceRelease.TYPE,
            List.of(MetaspaceReleaseImpl.class),
            MetaspacePlans.VERSION,
            MetaspaceReleaseImpl::lane,
            MetaspacePlans.SECTION,
            MetaspacePlans.EXAMPLE,
            List.of(
                StartOption.optional(
                    STRATEGY,
                    "STRATEGY",
                    "propose this strategy at the strategy gate instead of the review's"
                        + " recommendation: "
                        + String.join(", ", Strategy.options()),
                    null),
                StartOption.optional(
                    BUMP,
                    "patch|minor",
                    "the version bump (default: minor when a pull request is a milestone or"
                        + " breaking change, else patch); --version must be the version it gives",
                    null)),
            List.of(
                new GateSpec(
                    MetaspaceRelease.STRATEGY_GATE,
                    List.of("driver"),
                    "the releaser confirms the recommended strategy or chooses another, with a"
                        + " reason"),
                new GateSpec(
                    MetaspaceRelease.DROP_INDEX_GATE,
                    List.of("driver"),
                    "the new index serves: the old one may be dropped"),
                new GateSpec(
                    MetaspaceRelease.CONFIRM_GATE,
                    List.of("driver"),
                    "everything works on the forked VM: read-only mode may end"),
                new GateSpec(
                    MetaspaceRelease.TERMINATE_GATE,
                    List.of("driver"),
                    "the migration succeeded: the old VM may be terminated"))));
  }

  @Override
  public Object plan(StartRequest r) {
    r.section(this);
    MetaspaceSite site = MetaspacePlans.site(r.config(), r.environment());
    String strategy = r.option(STRATEGY);
    if (strategy != null) {
      Strategy s = Strategy.of(strategy);
      for (String u : MetaspacePlans.unavailable(site)) {
        if (u.startsWith(s.option() + " ")) {
          throw ConfigException.at(
              r.config().source(),
              "environments." + r.environment() + ".metaspace",
              "--strategy " + u);
        }
      }
    }
    String bump = r.option(BUMP);
    if (bump != null && !List.of("patch", "minor").contains(bump)) {
      throw new IllegalArgumentException("--bump must be patch or minor, not '" + bump + "'");
    }
    return new MetaspaceRequest(r.context(this), bump, strategy, site);
  }
}
