package dev.crewchief.encode;

import dev.crewchief.config.ConfigException;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import java.util.List;

/** {@code encode-release}: ENCODE's AWS release and PostgreSQL switch-over. */
public final class EncodeRunbook extends RunbookDescriptor {
  static final String TYPE = "type";
  static final String OLD_VERSION = "old-version";

  public EncodeRunbook() {
    super(
        new Spec(
            EncodeRelease.RUNBOOK,
            "ENCODE on AWS: new servers, IAM keys, days of indexing, the PostgreSQL switch-over",
            "ENCODE: the AWS release. A base backup of production to S3 and the file indexer off;"
                + " the vXX.0 tag after the merge admin's gate; the new servers by type (a cluster's"
                + " Elasticsearch data nodes then its master, or a single candidate, test or demo"
                + " server), cloud-init followed, the cluster's health until every node is seen and"
                + " a bad node replaced; the service users' IAM keys rotated and installed; the new"
                + " server's first full indexing waited for until the lag is down to minutes, and"
                + " the driver's word that the old server is quiet; the developers e-mailed; the"
                + " switch-over: the old PostgreSQL into recovery, both proxies reloaded onto the new"
                + " server and probed, the keys switched and validated, the new replica caught up"
                + " and promoted, the batch upgrade, a fresh base backup; then the old logs to S3,"
                + " the backup cron entry, Redmine's Release Ready tickets closed and, once the site"
                + " is stable, the file indexer back on. Rolled back before the promotion; after it,"
                + " a failure stops at a gate.",
            EncodeRelease.TYPE,
            List.of(EncodeReleaseImpl.class),
            EncodePlans.VERSION,
            EncodeReleaseImpl::lane,
            EncodePlans.SECTION,
            EncodePlans.EXAMPLE,
            List.of(
                StartOption.optional(
                    TYPE,
                    String.join("|", EncodePlans.TYPES),
                    "the release type: clustered or candidate switch production over; test and demo"
                        + " only deploy a server (default: clustered)",
                    "clustered"),
                StartOption.optional(
                    OLD_VERSION,
                    "YY",
                    "the version now in production, whose logs are kept (default: XX - 1)",
                    null)),
            List.of(
                new GateSpec(
                    EncodeRelease.MERGES_GATE,
                    List.of("merge-admin"),
                    "the merge admin confirms every merge is in master before the tag"),
                new GateSpec(
                    EncodeRelease.QUIET_GATE,
                    List.of("driver"),
                    "the old server is quiet and traffic low: the switch-over may start"),
                new GateSpec(
                    EncodeRelease.AFTER_PROMOTION_GATE,
                    List.of("driver"),
                    "a step after the promotion failed and was fixed by hand: retry it"),
                new GateSpec(
                    EncodeRelease.STABLE_GATE,
                    List.of("driver"),
                    "the site is stable: the file indexer may go back on"))));
  }

  @Override
  public Object plan(StartRequest r) {
    r.section(this);
    EncodeSite site = EncodePlans.site(r.config(), r.environment());
    String type = r.option(TYPE) == null ? "clustered" : r.option(TYPE);
    if (type.equals("single")) {
      throw new IllegalArgumentException(
          "--type single: say which single server: candidate (switches production over), test or"
              + " demo");
    }
    if (!EncodePlans.TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "--type must be one of " + String.join(", ", EncodePlans.TYPES) + ", not '" + type + "'");
    }
    if (type.equals("clustered") && site.config().deploy().cluster() == null) {
      throw ConfigException.at(
          r.config().source(),
          "environments." + r.environment() + ".encode.deploy.cluster",
          "--type clustered needs the cluster's settings (size, instance types, names)");
    }
    String version = r.context(this).version();
    String old = r.option(OLD_VERSION);
    if (old == null) {
      old = String.valueOf(Integer.parseInt(version) - 1);
    } else if (!old.matches("[1-9]\\d*") || Integer.parseInt(old) >= Integer.parseInt(version)) {
      throw new IllegalArgumentException(
          "--old-version must be the release number now in production, below "
              + version
              + ", not '"
              + old
              + "'");
    }
    return new EncodeRequest(r.context(this), type, old, site);
  }
}
