package dev.crewchief.encode;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.HostConfigActivities;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.IamActivities;
import dev.crewchief.activities.IndexerActivities;
import dev.crewchief.activities.MailRequest;
import dev.crewchief.activities.PostgresReplicationActivities;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RedmineActivities;
import dev.crewchief.activities.S3Activities;
import dev.crewchief.activities.SwitchProbe;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.TagRequest;
import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The ENCODE release on AWS, in the runbook's order ("order matters"): the production database
 * backed up to S3 and the file indexer off; the tag once the merge admin says every merge is in;
 * the new servers (a cluster's data nodes, then its master, or a single server), cloud-init
 * followed, the cluster's health until every node is seen, a bad node replaced; the service users'
 * keys rotated and installed on the new server; its first full indexing waited for, days if need
 * be, until the lag is down to minutes, then the driver's word that the old server is quiet; the
 * developers told; then the switch-over: the old PostgreSQL into recovery, both proxies reloaded
 * onto the new server and probed, the keys switched and validated, the new replica caught up,
 * promoted and taking writes, the batch upgrade, a fresh base backup; afterwards the old logs to
 * S3, the backup cron entry, Redmine's Release Ready tickets closed and, once the site is stable,
 * the file indexer back on.
 *
 * <p>Before the promotion every change has its undo: proxies back, the old PostgreSQL out of
 * recovery, the keys back, the file indexer back on. After it there is no way back a program should
 * take by itself: a failure then stops at the after-promotion gate with what to do by hand.
 */
public final class EncodeReleaseImpl extends ReleaseWorkflow implements EncodeRelease {
  /** The after-promotion gate opens once: a second failure after it ends the release. */
  private boolean afterPromotionGateUsed;

  @WorkflowInit
  public EncodeReleaseImpl(EncodeRequest request) {
    super(request.context());
    release.declareGate(
        MERGES_GATE,
        "Confirm with the merge admin that every merge for this release is in master: the tag is"
            + " made from master's head next.",
        List.of("merge-admin"));
    release.declareGate(
        QUIET_GATE,
        "The new server finished its first indexing; check there is no activity on the OLD server"
            + " and that traffic is low: the switch-over (writes down) starts on approval.",
        List.of("driver"));
    release.declareGate(
        AFTER_PROMOTION_GATE,
        "A step after the promotion failed. The new server is the primary: there is no automatic"
            + " way back. Fix it by hand, then approve to retry the step, or reject to end here.",
        List.of("driver"));
    release.declareGate(
        STABLE_GATE,
        "The site on the new server is stable (the runbook says: by next morning, with no big"
            + " indexing job running): the file indexer goes back on, which restarts apache.",
        List.of("driver"));
  }

  /** One ENCODE release at a time per environment. */
  static Lane lane(String environment) {
    return Lane.of(RUNBOOK, environment);
  }

  @Override
  public ReleaseResult release(EncodeRequest request) {
    String summary =
        release.run(lane(request.context().environment()), request, () -> steps(request));
    return new ReleaseResult(summary, release.progress());
  }

  private String steps(EncodeRequest request) {
    EncodeSite site = request.site();
    EncodeSteps s = new EncodeSteps(release, site);
    EncodeConfig cfg = site.config();
    String type = request.type();
    boolean production = type.equals("clustered") || type.equals("candidate");
    String tag = "v" + s.version() + ".0";

    // 1. Pre-release: the production database backed up, the file indexer off.
    if (production) {
      s.baseBackup("the production database", site.oldServer(), "backup-before");
      release.onRollback(
          "file indexer back on on " + site.oldServer().name(),
          () -> s.fileIndexer(site.oldServer(), true));
      s.fileIndexer(site.oldServer(), false);
    } else {
      release.skip("base backup of the production database", type + " server: no switch-over");
    }

    // 2. The tag, once every merge is in.
    release.gate(MERGES_GATE);
    EncodeConfig.Repo repo = cfg.repo();
    s.step(
        "tag " + tag + " on an up-to-date " + repo.mainBranch() + ", push it",
        n ->
            s.git.tagRelease(
                new TagRequest(n, site.repo(), tag, repo.mainBranch(), tag, true, s.dry)));

    // 3. The new servers.
    String masterName = deploy(s, type, tag);
    if (!production) {
      return (s.dry ? "rehearsed: " : "")
          + "ENCODE "
          + tag
          + " "
          + type
          + " server "
          + masterName
          + " is up (no switch-over for a "
          + type
          + " server)";
    }

    // 4. Keys for the service users, installed on the new server; its file indexer off.
    List<IamActivities.Rotation> rotations = new ArrayList<>();
    for (EncodeConfig.KeyUser k : cfg.keys()) {
      IamActivities.Rotation rot =
          s.step(
              "IAM: rotate the inactive key of "
                  + k.user()
                  + ", install it on "
                  + site.newServer().name(),
              n ->
                  s.iam.rotateKey(
                      new IamActivities.RotateRequest(
                          n,
                          site.aws(),
                          k.user(),
                          new IamActivities.CredentialsFile(
                              site.newServer(), k.path(), k.section(), k.owner()),
                          s.dry)));
      rotations.add(rot);
      if (!s.dry) {
        release.note(
            "IAM "
                + k.user()
                + ": new key "
                + rot.newKeyId()
                + " (inactive) in "
                + rot.installedAt()
                + " mode "
                + rot.fileMode()
                + (rot.deletedKeyId() == null
                    ? ""
                    : ", deleted inactive key " + rot.deletedKeyId()));
      }
    }
    s.fileIndexer(site.newServer(), false);

    // 5. The new server's first full indexing, then a quiet old server.
    EncodeConfig.Indexer ix = cfg.indexer();
    IndexerActivities.Waited waited =
        s.step(
            "wait for the first full indexing on "
                + masterName
                + " (lag at most "
                + ix.maxLag()
                + ")",
            n ->
                s.indexer.waitForLag(
                    new IndexerActivities.WaitRequest(
                        n,
                        ix.url(),
                        true,
                        ix.maxLag(),
                        ix.pollEvery(),
                        cfg.longWaitLimit(),
                        s.dry)));
    if (!s.dry) {
      release.note(
          "first indexing done after "
              + waited.waited()
              + " ("
              + waited.polls()
              + " polls); lag "
              + waited.last().lag()
              + ", last bolus "
              + waited.last().lastBolus());
    }
    release.gate(QUIET_GATE);

    // 6. The developers are told that writes go down.
    EncodeConfig.Mail m = cfg.mail();
    s.step(
        "e-mail " + String.join(", ", m.to()) + ": the server will be down for writes",
        n ->
            s.mail.send(
                new MailRequest(
                    n,
                    site.mail(),
                    m.from(),
                    m.to(),
                    "ENCODE " + tag + ": production will be down for writes during the switch-over",
                    "The switch-over of production to ENCODE "
                        + tag
                        + " starts now ("
                        + s.releaseId()
                        + "). The site stays readable; writes are refused until the new server's"
                        + " database is promoted. You will not be told again unless something"
                        + " goes wrong.",
                    "<" + s.releaseId() + "-writes-down@crewchief>",
                    s.dry)));

    // 7. The switch-over.
    switchOver(s, rotations);
    // 8. After.
    after(s, request);
    return (s.dry ? "rehearsed: " : "")
        + "ENCODE "
        + tag
        + " ("
        + type
        + ") is production on "
        + site.newServer().name()
        + "; the old server is a standby";
  }

  // ---- 3. deploy ----

  /** Launches the servers of {@code type}; returns the name of the server that will serve. */
  private String deploy(EncodeSteps s, String type, String tag) {
    EncodeConfig.Deploy d = s.cfg.deploy();
    if (type.equals("clustered")) {
      EncodeConfig.Cluster c = d.cluster();
      String clusterName = s.fill(c.clusterName(), null);
      String dataName = s.fill(c.dataName(), null);
      String masterName = s.fill(c.masterName(), null);
      launch(s, dataName, c.size(), c.dataInstanceType(), clusterName, "data", tag, "data");
      launch(s, masterName, 1, c.masterInstanceType(), clusterName, "master", tag, "master");
      cloudInit(s, masterName);
      List<String> expected = new ArrayList<>();
      for (int i = 1; i <= c.size(); i++) {
        expected.add(dataName + i);
      }
      expected.add(masterName);
      clusterHealth(s, c, clusterName, dataName, expected, tag);
      return masterName;
    }
    EncodeConfig.Single single =
        switch (type) {
          case "candidate" -> d.candidate();
          case "test" -> d.test();
          default -> d.demo();
        };
    String name = s.fill(single.name(), null);
    launch(s, name, 1, single.instanceType(), null, type, tag, type);
    cloudInit(s, name);
    return name;
  }

  private List<Ec2Activities.Instance> launch(
      EncodeSteps s,
      String name,
      int count,
      String instanceType,
      String clusterName,
      String role,
      String tag,
      String tokenKey) {
    EncodeConfig.Deploy d = s.cfg.deploy();
    Map<String, String> tags = new LinkedHashMap<>(d.tags());
    tags.put("crewchief-release", s.releaseId());
    tags.put("encode-role", role);
    if (clusterName != null) {
      tags.put("elasticsearch-cluster", clusterName);
    }
    String userData =
        d.userData()
            .replace("{branch}", tag)
            .replace("{name}", name)
            .replace("{cluster}", clusterName == null ? "" : clusterName)
            .replace("{role}", role)
            .replace("{profile}", d.profile() == null ? "" : d.profile());
    String label = count == 1 ? name : name + "1.." + name + count;
    List<Ec2Activities.Instance> got =
        s.step(
            "launch "
                + label
                + " ("
                + instanceType
                + (clusterName == null ? "" : ", cluster " + clusterName)
                + ") from "
                + tag,
            n ->
                s.ec2.launch(
                    new Ec2Activities.LaunchRequest(
                        n,
                        s.site.aws(),
                        name,
                        d.imageId(),
                        instanceType,
                        count,
                        d.profile(),
                        userData,
                        tags,
                        token(s, tokenKey),
                        s.dry)));
    if (!s.dry) {
      release.note(
          "launched "
              + label
              + ": "
              + String.join(", ", got.stream().map(Ec2Activities.Instance::id).toList())
              + " (left running if the release is rolled back: terminate them by hand when done"
              + " looking)");
    }
    return got;
  }

  /** An EC2 client token (at most 64 characters): a retried launch finds its instances. */
  private static String token(EncodeSteps s, String key) {
    String t = (s.releaseId() + "-" + key).replaceAll("[^A-Za-z0-9-]", "-");
    return t.length() > 64 ? t.substring(t.length() - 64) : t;
  }

  private void cloudInit(EncodeSteps s, String name) {
    EncodeConfig.CloudInit ci = s.cfg.deploy().cloudInit();
    s.step(
        "follow " + ci.log() + " on " + name + " until cloud-init finishes",
        n ->
            s.hostConfig.waitForLog(
                new HostConfigActivities.LogWaitRequest(
                    n,
                    s.site.newServer(),
                    ci.log(),
                    ci.doneRegex(),
                    ci.errorRegex(),
                    Duration.ofSeconds(5),
                    ci.limit(),
                    s.dry)));
  }

  /**
   * The runbook's "the master can see its cluster": health until every node joined and green;
   * yellow or red with a node missing: that node is terminated and one launched with the same name
   * and cluster, the replicas set, and health checked again. A node still missing after its
   * replacement fails the release (no loop of replacements).
   */
  private void clusterHealth(
      EncodeSteps s,
      EncodeConfig.Cluster c,
      String clusterName,
      String dataName,
      List<String> expected,
      String tag) {
    EncodeConfig.Elasticsearch e = s.cfg.elasticsearch();
    ElasticsearchActivities.Health h =
        health(s, "cluster health: every node seen by the master", expected);
    if (s.dry || (h.complete() && "green".equals(h.status()))) {
      return;
    }
    release.note(
        "cluster "
            + clusterName
            + " is "
            + h.status()
            + " with "
            + h.nodes()
            + " of "
            + expected.size()
            + " nodes"
            + (h.complete() ? "" : "; missing " + String.join(", ", h.missing())));
    for (String bad : h.missing()) {
      if (!bad.startsWith(dataName)) {
        throw new IllegalArgumentException(
            "the master "
                + bad
                + " does not see itself in cluster "
                + clusterName
                + ": look at its Elasticsearch log; a master is not replaced automatically");
      }
      List<Ec2Activities.Instance> found =
          s.step(
              "find the bad node " + bad,
              n ->
                  s.ec2.findInstances(
                      new Ec2Activities.FindRequest(
                          n,
                          s.site.aws(),
                          Map.of("Name", bad, "crewchief-release", s.releaseId()))));
      for (Ec2Activities.Instance i : found) {
        s.step(
            "terminate the bad node " + bad + " (" + i.id() + ")",
            n ->
                s.ec2.terminateInstance(
                    new Ec2Activities.InstanceRequest(n, s.site.aws(), i.id(), s.dry)));
      }
      launch(s, bad, 1, c.dataInstanceType(), clusterName, "data", tag, "replace-" + bad);
    }
    s.step(
        "set number_of_replicas " + c.replicas() + " on _all",
        n ->
            s.es.setReplicas(
                new ElasticsearchActivities.ReplicasRequest(
                    n, s.site.cluster(), "_all", c.replicas(), s.dry)));
    h =
        health(
            s, "cluster health again after replacing " + String.join(", ", h.missing()), expected);
    if (!h.complete() || !"green".equals(h.status())) {
      throw new IllegalArgumentException(
          "cluster "
              + clusterName
              + " is still "
              + h.status()
              + (h.complete() ? "" : " without " + String.join(", ", h.missing()))
              + " after the replacement: look at the nodes' logs, replace by hand, then start the"
              + " release again (the tag and the servers are kept)");
    }
  }

  private ElasticsearchActivities.Health health(EncodeSteps s, String name, List<String> expected) {
    EncodeConfig.Elasticsearch e = s.cfg.elasticsearch();
    return s.step(
        name,
        n ->
            s.es.waitForHealth(
                new ElasticsearchActivities.WaitHealthRequest(
                    n,
                    s.site.cluster(),
                    expected,
                    "green",
                    e.pollEvery(),
                    e.healthLimit(),
                    s.dry)));
  }

  // ---- 7. the switch-over ----

  private void switchOver(EncodeSteps s, List<IamActivities.Rotation> rotations) {
    EncodeSite site = s.site;
    PostgresReplicationActivities.Server oldPg = site.oldPostgres();
    PostgresReplicationActivities.Server newPg = site.newPostgres();

    release.onRollback(
        "old PostgreSQL out of recovery (primary again)",
        () ->
            s.step(
                "old PostgreSQL out of recovery (primary again)",
                n ->
                    s.pg.promote(
                        new PostgresReplicationActivities.ServerRequest(n, oldPg, s.dry))));
    long writesDown = io.temporal.workflow.Workflow.currentTimeMillis();
    PostgresReplicationActivities.RecoveryState old =
        s.step(
            "old PostgreSQL into recovery (standby) and restarted",
            n ->
                s.pg.enterRecovery(
                    new PostgresReplicationActivities.ServerRequest(n, oldPg, s.dry)));
    if (!s.dry && old.acceptsWrites()) {
      throw new IllegalArgumentException(
          "the old PostgreSQL still accepts writes after entering recovery: stopped before the"
              + " proxies are switched");
    }

    List<EncodeConfig.Proxy> proxies = s.cfg.proxies();
    for (int i = 0; i < proxies.size(); i++) {
      EncodeConfig.Proxy p = proxies.get(i);
      HostRef h = site.proxies().get(i);
      release.onRollback(
          "proxy " + p.host() + " back to " + p.from(),
          () ->
              switchProxy(
                  s, "proxy " + p.host() + " back to " + p.from(), h, p, p.to(), p.from(), null));
      SwitchResult r =
          switchProxy(
              s,
              "switch proxy " + p.host() + " to " + p.to() + " (reload)",
              h,
              p,
              p.from(),
              p.to(),
              s.fill(p.probeText(), null));
      if (r.downtime() != null) {
        release.note("proxy " + p.host() + ": " + r.downtime().describe());
      }
    }

    for (IamActivities.Rotation rot : rotations) {
      String previous =
          rot.keys() == null
              ? null
              : rot.keys().stream()
                  .filter(
                      k ->
                          "Active".equalsIgnoreCase(k.status())
                              && !k.keyId().equals(rot.newKeyId()))
                  .map(IamActivities.KeyInfo::keyId)
                  .findFirst()
                  .orElse(null);
      release.onRollback(
          "IAM keys of " + rot.userName() + " back",
          () -> {
            if (previous == null) {
              release.leftUndone(
                  "IAM "
                      + rot.userName()
                      + ": no previously active key was recorded; make the right"
                      + " key active by hand");
              return;
            }
            s.step(
                "IAM keys of " + rot.userName() + " back (" + previous + " active)",
                n ->
                    s.iam.activateOnly(
                        new IamActivities.ActivateRequest(
                            n, site.aws(), rot.userName(), previous, s.dry)));
          });
      s.step(
          "IAM: "
              + rot.userName()
              + "'s new key "
              + rot.newKeyId()
              + " active, the others inactive",
          n ->
              s.iam.activateOnly(
                  new IamActivities.ActivateRequest(
                      n, site.aws(), rot.userName(), rot.newKeyId(), s.dry)));
    }
    for (EncodeConfig.KeyUser k : s.cfg.keys()) {
      s.step(
          "validate " + k.user() + "'s installed key on " + site.newServer().name(),
          n ->
              s.iam.validateInstalledKey(
                  new IamActivities.ValidateRequest(
                      n,
                      site.aws(),
                      k.user(),
                      new IamActivities.CredentialsFile(
                          site.newServer(), k.path(), k.section(), k.owner()),
                      s.dry)));
    }

    PostgresReplicationActivities.CatchUp caught =
        s.step(
            "wait until the new server's replica has replayed everything the old one has",
            n ->
                s.pgLong.waitCaughtUp(
                    new PostgresReplicationActivities.CatchUpRequest(
                        n, oldPg, newPg, Duration.ofSeconds(2), s.cfg.longWaitLimit(), s.dry)));
    if (!s.dry) {
      release.note(
          "replicas matched: old replayed "
              + caught.from().replayLsn()
              + ", new replayed "
              + caught.to().replayLsn());
    }
    promote(s, newPg);
    if (!s.dry) {
      long up = io.temporal.workflow.Workflow.currentTimeMillis();
      release.note(
          "writes were unavailable for "
              + Duration.ofMillis(up - writesDown)
              + ": from "
              + java.time.Instant.ofEpochMilli(writesDown)
              + " (the old PostgreSQL into recovery) to "
              + java.time.Instant.ofEpochMilli(up)
              + " (the new one promoted and accepting writes)");
    }
    release.settle(
        "the new server's PostgreSQL is the primary: there is no automatic way back from here");

    afterPromotion(
        s,
        "batch upgrade on " + site.newServer().name(),
        () ->
            s.job(
                "batch upgrade on " + site.newServer().name(),
                site.newServer(),
                "batchupgrade",
                s.cfg.batchUpgrade()));
    afterPromotion(
        s,
        "base backup of the new primary",
        () -> s.baseBackup("the new primary", site.newServer(), "backup-after"));
  }

  /**
   * A proxy reloaded from one server to the other, watched through it every 50 ms: settled once
   * three answers in a row contain {@code settleText} (the new server's text), or, without one (the
   * way back, or no probeText configured), three answers with status 200.
   */
  private SwitchResult switchProxy(
      EncodeSteps s,
      String name,
      HostRef h,
      EncodeConfig.Proxy p,
      String from,
      String to,
      String settleText) {
    SwitchProbe probe =
        new SwitchProbe(
            p.probeUrl(),
            p.probeHost(),
            null,
            settleText,
            settleText == null ? Integer.valueOf(200) : null,
            50);
    return s.step(
        name,
        n ->
            s.proxy.switchUpstream(
                new ProxyActivities.UpstreamSwitchRequest(
                    n,
                    h,
                    new dev.crewchief.config.NginxConfig(
                        null, null, p.pidFile(), p.test(), p.reload(), p.probeUrl()),
                    p.configPath(),
                    from,
                    to,
                    probe,
                    s.dry)));
  }

  /**
   * The promotion. A failure of the step itself does not prove nothing happened (a timeout after
   * pg_promote ran, say): the new server is asked, and if it is out of recovery the release does
   * not roll back (two primaries would be worse than any failure) but stops at the after-promotion
   * gate.
   */
  private void promote(EncodeSteps s, PostgresReplicationActivities.Server newPg) {
    try {
      PostgresReplicationActivities.RecoveryState st =
          s.step(
              "promote the new server's PostgreSQL; wait until it accepts writes",
              n -> s.pg.promote(new PostgresReplicationActivities.ServerRequest(n, newPg, s.dry)));
      if (!s.dry) {
        release.note("promoted: " + newPg.describe() + " is primary at " + st.currentLsn());
      }
    } catch (ActivityFailure e) {
      PostgresReplicationActivities.RecoveryState st;
      try {
        st =
            s.step(
                "is the new server's PostgreSQL promoted after all?",
                n -> s.pg.state(new PostgresReplicationActivities.ServerRequest(n, newPg, s.dry)));
      } catch (ActivityFailure unknown) {
        release.settle("the promotion's outcome is unknown: nothing is rolled back automatically");
        release.leftUndone(
            "the new server's PostgreSQL could not be asked whether it was promoted: check"
                + " pg_is_in_recovery() on both servers; if the new one is still in recovery, promote"
                + " the old one back and switch the proxies back by hand");
        throw e;
      }
      if (st.inRecovery()) {
        throw e;
      }
      release.settle("the new server's PostgreSQL was promoted although the step failed");
      release.note(
          "the promotion step failed (" + e.getCause() + ") but the new server is primary");
    }
  }

  /**
   * A step after the promotion: on failure the release waits at the after-promotion gate (once)
   * with what failed; approved, the step is retried once more; rejected, the release ends failed,
   * nothing undone.
   */
  private <T> T afterPromotion(EncodeSteps s, String what, Supplier<T> body) {
    try {
      return body.get();
    } catch (ActivityFailure | IllegalArgumentException e) {
      if (afterPromotionGateUsed) {
        throw e;
      }
      afterPromotionGateUsed = true;
      release.note(
          what
              + " failed after the promotion: "
              + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage())
              + ". The new server is the primary and the proxies point at it; fix it by hand and"
              + " approve "
              + AFTER_PROMOTION_GATE
              + " to retry, or reject to end the release here (nothing is undone).");
      release.gate(AFTER_PROMOTION_GATE);
      return body.get();
    }
  }

  // ---- 8. after ----

  private void after(EncodeSteps s, EncodeRequest request) {
    EncodeSite site = s.site;
    EncodeConfig cfg = s.cfg;
    EncodeConfig.Logs logs = cfg.logs();
    String oldVersion = request.oldVersion();
    String prefix = s.fill(logs.prefix(), oldVersion) + "/" + lastSegment(logs.dir());
    afterPromotion(
        s,
        "old logs to S3",
        () ->
            s.step(
                "copy "
                    + logs.dir()
                    + " of "
                    + site.oldServer().name()
                    + " to s3://"
                    + logs.bucket()
                    + "/"
                    + prefix,
                n ->
                    s.s3.copyFromHost(
                        new S3Activities.CopyRequest(
                            n,
                            site.aws(),
                            site.oldServer(),
                            logs.dir(),
                            logs.bucket(),
                            prefix,
                            s.dry))));
    afterPromotion(
        s,
        "backup cron entry",
        () ->
            s.step(
                "backup cron entry on "
                    + site.newServer().name()
                    + " ("
                    + cfg.cronUser()
                    + "'s crontab)",
                n ->
                    s.hostConfig.ensureCronLine(
                        new HostConfigActivities.CronRequest(
                            n, site.newServer(), cfg.cronUser(), cfg.backupCron(), s.dry))));
    EncodeConfig.Redmine rm = cfg.redmine();
    if (rm == null) {
      release.skip("Redmine: close the Release Ready tickets", "encode.redmine is not configured");
    } else {
      RedmineActivities.Closed closed =
          afterPromotion(
              s,
              "Redmine tickets",
              () ->
                  s.step(
                      "Redmine: "
                          + rm.fromStatus()
                          + " tickets of "
                          + rm.project()
                          + " to "
                          + rm.toStatus(),
                      n ->
                          s.redmine.closeTickets(
                              new RedmineActivities.CloseRequest(
                                  n,
                                  rm.url(),
                                  rm.apiKey(),
                                  rm.project(),
                                  rm.fromStatus(),
                                  rm.toStatus(),
                                  "Released in ENCODE v"
                                      + s.version()
                                      + ".0 ("
                                      + s.releaseId()
                                      + ")",
                                  s.dry))));
      if (!s.dry) {
        release.note("Redmine: closed " + closed.closed() + " of " + closed.found());
      }
    }
    if (release.permits(STABLE_GATE)) {
      afterPromotion(
          s,
          "file indexer on",
          () -> {
            s.fileIndexer(site.newServer(), true);
            return null;
          });
    } else {
      release.note(
          "the file indexer stays off on "
              + site.newServer().name()
              + ": turn it on by hand when the site is stable");
    }
  }

  private static String lastSegment(String dir) {
    String d = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
    return d.substring(d.lastIndexOf('/') + 1);
  }
}
