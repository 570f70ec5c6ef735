package dev.crewchief.metaspace;

import dev.crewchief.activities.BranchSync;
import dev.crewchief.activities.BranchSyncRequest;
import dev.crewchief.activities.ChangeReview;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.CiActivities;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.FileContent;
import dev.crewchief.activities.FileRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.HttpProbeActivities;
import dev.crewchief.activities.ReviewRequest;
import dev.crewchief.activities.SupervisorActivities;
import dev.crewchief.activities.TagRequest;
import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The METASPACE production release, in the runbook's order: review of the changes (and the strategy
 * it recommends, confirmed or changed at the strategy gate), CI green on master, branches and tag,
 * the Ansible config checkout, then the chosen strategy, each exactly as the runbook lists it, with
 * post-deployment checks of supervisor's programs and the system services.
 *
 * <p>Each step that changes what users see registers its undo first: the alias goes back to the old
 * index while that exists, the Elastic IP back to the old VM while it runs, read-only mode and
 * dataset processing back to normal. Git is not undone: a pushed tag names what was attempted.
 */
public final class MetaspaceReleaseImpl extends ReleaseWorkflow implements MetaspaceRelease {

  @WorkflowInit
  public MetaspaceReleaseImpl(MetaspaceRequest request) {
    super(request.context());
    release.declareGate(
        STRATEGY_GATE,
        "Confirm the deployment strategy once the review of the changes is done.",
        List.of("driver"),
        available(request.site()));
    release.declareGate(
        DROP_INDEX_GATE,
        "The new index serves: drop the old one (it cannot be swapped back to afterwards).",
        List.of("driver"));
    release.declareGate(
        CONFIRM_GATE,
        "Confirm everything is working on the new instance (the Elastic IP points at it); read-only"
            + " mode ends on approval, and the old instance is stopped.",
        List.of("driver"));
    release.declareGate(
        TERMINATE_GATE,
        "The migration to the new instance has succeeded: terminate the old instance.",
        List.of("driver"));
  }

  /** The strategies this environment is configured for: the strategy gate offers these only. */
  static List<String> available(MetaspaceSite site) {
    List<String> unavailable = MetaspacePlans.unavailable(site);
    return Strategy.options().stream()
        .filter(o -> unavailable.stream().noneMatch(u -> u.startsWith(o + " ")))
        .toList();
  }

  /** One METASPACE release at a time per environment. */
  static Lane lane(String environment) {
    return Lane.of(RUNBOOK, environment);
  }

  @Override
  public ReleaseResult release(MetaspaceRequest request) {
    String summary =
        release.run(lane(request.context().environment()), request, () -> steps(request));
    return new ReleaseResult(summary, release.progress());
  }

  private String steps(MetaspaceRequest request) {
    MetaspaceSite site = request.site();
    MetaspaceConfig cfg = site.config();
    MetaspaceSteps s = new MetaspaceSteps(release, site);
    String version = s.version();
    MetaspaceConfig.Repo repo = cfg.repo();

    // 1. Review of the changes since the last release.
    ChangeReview changes =
        release.step(
            "review changes " + repo.releaseBranch() + "..." + repo.mainBranch(),
            () ->
                s.git.reviewChanges(
                    new ReviewRequest(
                        "review changes " + repo.releaseBranch() + "..." + repo.mainBranch(),
                        site.repo(),
                        repo.releaseBranch(),
                        repo.mainBranch(),
                        repo.tagPattern())));
    Review.Findings findings =
        Review.of(changes, cfg.watched(), cfg.minorMarkers(), request.bump());
    for (Review.Finding f : findings.findings()) {
      release.note("review: " + f.describe());
    }
    if (!findings.nextVersion().equals(version)) {
      throw new IllegalArgumentException(
          "version "
              + version
              + " is not the next release: after "
              + (findings.lastTag() == null ? "no tag" : findings.lastTag())
              + " comes "
              + findings.nextVersion()
              + " ("
              + findings.bump()
              + ": "
              + findings.bumpWhy()
              + "); start the release with --version "
              + findings.nextVersion()
              + (request.bump() == null ? ", or give --bump patch|minor" : ""));
    }
    Strategy proposed =
        request.strategy() == null ? findings.recommended() : Strategy.of(request.strategy());
    List<String> offered = available(site);
    String unavailableNote = "";
    if (!offered.contains(proposed.option())) {
      unavailableNote =
          "\nThis environment cannot run "
              + proposed.option()
              + ": "
              + String.join("; ", MetaspacePlans.unavailable(site))
              + ". Configure it and start again, or choose one of "
              + String.join(", ", offered)
              + ".";
      release.note("the recommended " + proposed.option() + " is not configured here");
      proposed = Strategy.of(offered.get(0));
    }
    String description =
        findings.describe()
            + unavailableNote
            + (proposed == findings.recommended()
                ? ""
                : "\nThe release was started with --strategy "
                    + proposed.option()
                    + " (instead of the recommended "
                    + findings.recommended().option()
                    + ").")
            + "\nApprove to deploy with "
            + proposed.option()
            + "; to choose another strategy, approve with --choice and the reason.";
    release.propose(STRATEGY_GATE, description, proposed.option());
    release.gate(STRATEGY_GATE);
    Strategy strategy = Strategy.of(release.chosen(STRATEGY_GATE));
    release.note("strategy: " + strategy.option() + " (" + strategy.description() + ")");

    // 2. CI must be green on master's head.
    MetaspaceConfig.Ci ci = cfg.ci();
    release.step(
        "CI green on " + repo.mainBranch() + " at " + shortSha(changes.mainHead()),
        () ->
            s.ci.awaitGreen(
                new CiActivities.CiRequest(
                    "CI green on " + repo.mainBranch() + " at " + shortSha(changes.mainHead()),
                    ci.provider(),
                    ci.apiUrl(),
                    ci.project(),
                    repo.mainBranch(),
                    changes.mainHead(),
                    ci.required(),
                    ci.token(),
                    ci.waitLimit(),
                    ci.pollEvery(),
                    s.dry)));

    // 3. Branches and tag.
    BranchSync sync =
        release.step(
            "merge "
                + repo.releaseBranch()
                + " into "
                + repo.mainBranch()
                + ", fast-forward "
                + repo.releaseBranch()
                + ", push both",
            () ->
                s.git.syncReleaseBranches(
                    new BranchSyncRequest(
                        "merge "
                            + repo.releaseBranch()
                            + " into "
                            + repo.mainBranch()
                            + ", fast-forward "
                            + repo.releaseBranch()
                            + ", push both",
                        site.repo(),
                        repo.releaseBranch(),
                        repo.mainBranch(),
                        changes.mainHead(),
                        true,
                        s.dry)));
    if (sync.merged()) {
      release.note(
          "merging "
              + repo.releaseBranch()
              + " into "
              + repo.mainBranch()
              + " made a merge commit: a hotfix was not merged back into "
              + repo.mainBranch()
              + " (now it is)");
    }
    String notes = Review.releaseNotes(findings.pullRequests());
    release.step(
        "tag " + version + " with the release notes, push it",
        () ->
            s.git.tagRelease(
                new TagRequest(
                    "tag " + version + " with the release notes, push it",
                    site.repo(),
                    version,
                    repo.releaseBranch(),
                    notes,
                    true,
                    s.dry)));
    MetaspaceConfig.Ansible a = cfg.ansible();
    release.step(
        "update the Ansible config checkout (" + a.branch() + ")",
        () ->
            s.git.checkoutBranch(
                new CheckoutRequest(
                    "update the Ansible config checkout (" + a.branch() + ")",
                    site.ansibleRepo(),
                    a.branch(),
                    s.dry)));

    // 4. The strategy.
    String how =
        switch (strategy) {
          case IN_PLACE -> inPlace(s);
          case DEPLOY_THEN_ES_UPDATE -> deployThenUpdate(s);
          case REINDEX_BEFORE_DEPLOYMENT -> reindexBefore(s, changes.mainHead());
          case FORK_THE_VM -> forkTheVm(s);
        };
    return (s.dry ? "rehearsed: " : "")
        + "METASPACE "
        + version
        + " deployed ("
        + strategy.option()
        + "): "
        + how;
  }

  // ---- in place ----

  private String inPlace(MetaspaceSteps s) {
    s.announce("Slack: starting deployment", startText(s, Strategy.IN_PLACE));
    Promise<HttpProbeActivities.PeriodWatch> watch = startWatch(s);
    s.deploy("Ansible web deployment of " + s.version(), s.site.host());
    postChecks(s, s.site.host());
    endWatch(s, watch);
    s.announce("Slack: deployment successful", doneText(s));
    return "Ansible web deployment";
  }

  // ---- deploy, then the ES update ----

  private String deployThenUpdate(MetaspaceSteps s) {
    s.announce("Slack: starting deployment", startText(s, Strategy.DEPLOY_THEN_ES_UPDATE));
    Promise<HttpProbeActivities.PeriodWatch> watch = startWatch(s);
    s.deploy("Ansible web deployment of " + s.version(), s.site.host());
    postChecks(s, s.site.host());
    endWatch(s, watch);
    // The deployment is done and serves: what follows only fills in the new fields.
    release.settle("the new version serves; the Elasticsearch update only fills in new fields");
    String full = command(s, s.cfg.commands().fullUpdate(), "metaspace.commands.fullUpdate", null);
    s.job("full in-place Elasticsearch update (days allowed)", "full-update", full);
    s.announce("Slack: deployment successful", doneText(s) + "; the Elasticsearch update has run");
    return "Ansible web deployment, then the full in-place Elasticsearch update";
  }

  // ---- reindex before deployment ----

  /**
   * @param reviewedHead master's head as reviewed: a rehearsal, which tags nothing, reads the index
   *     definition there (where the tag would be, unless a hotfix is merged in first)
   */
  private String reindexBefore(MetaspaceSteps s, String reviewedHead) {
    MetaspaceConfig cfg = s.cfg;
    MetaspaceConfig.Elasticsearch e = cfg.elasticsearch();
    MetaspaceConfig.Commands c = cfg.commands();
    ElasticsearchActivities.Cluster cluster = s.site.cluster();
    String version = s.version();
    String dir = c.tempDir().replace("{tag}", version);
    String newIndex = e.indexPrefix() + version.replace('.', '-');
    HostRef host = s.site.host();

    release.onRollback(
        "remove the temp dir " + dir,
        () -> s.run("remove the temp dir " + dir, host, "rm -rf " + q(dir), "rm"));
    // The directory is this release's own: one left by an earlier attempt (a retried step, a
    // release that crashed before its cleanup) is removed, or the checkout would refuse it.
    s.run(
        "check out " + version + " into " + dir + " on the host",
        host,
        "rm -rf "
            + q(dir)
            + " && "
            + c.checkout().replace("{tag}", version).replace("{dir}", q(dir)),
        "metaspace.commands.checkout");

    ElasticsearchActivities.IndexState state =
        release.step(
            "Elasticsearch status of alias " + e.alias(),
            () ->
                s.es.status(
                    new ElasticsearchActivities.StatusRequest(
                        "Elasticsearch status of alias " + e.alias(),
                        cluster,
                        e.alias(),
                        e.indexPrefix() + "*")));
    String oldIndex;
    if (state.serving().size() != 1) {
      throw new IllegalArgumentException(
          "alias "
              + e.alias()
              + " must point at exactly one index, it points at "
              + (state.serving().isEmpty() ? "none" : String.join(", ", state.serving()))
              + ": fix the alias by hand (the runbook's manage_es_index status)");
    } else {
      oldIndex = state.serving().get(0);
    }
    if (oldIndex.equals(newIndex)) {
      throw new IllegalArgumentException(
          "alias " + e.alias() + " already serves " + newIndex + ": this version was reindexed");
    }

    String definitionAt = s.dry ? reviewedHead : version;
    FileContent definition =
        release.step(
            "read the index definition of " + version + " (" + e.definitionFile() + ")",
            () ->
                s.git.readFile(
                    new FileRequest(
                        "read the index definition of " + version + " (" + e.definitionFile() + ")",
                        s.site.repo(),
                        definitionAt,
                        e.definitionFile())));
    release.onRollback(
        "drop the new index " + newIndex,
        () ->
            release.step(
                "drop the new index " + newIndex,
                () ->
                    s.es.deleteIndex(
                        new ElasticsearchActivities.DeleteIndexRequest(
                            "drop the new index " + newIndex,
                            cluster,
                            newIndex,
                            e.alias(),
                            s.dry))));
    release.step(
        "create the inactive index " + newIndex,
        () ->
            s.es.createIndex(
                new ElasticsearchActivities.CreateIndexRequest(
                    "create the inactive index " + newIndex,
                    cluster,
                    newIndex,
                    definition.text(),
                    s.dry)));

    Instant reindexStart = Instant.ofEpochMilli(Workflow.currentTimeMillis());
    boolean byCommand = "command".equals(e.reindex());
    if (byCommand) {
      s.job(
          "reindex into " + newIndex + " with the new code (days allowed)",
          "reindex",
          command(s, c.reindex(), "metaspace.commands.reindex", newIndex).replace("{dir}", q(dir)));
    } else {
      release.step(
          "reindex " + oldIndex + " into " + newIndex + " (days allowed)",
          () ->
              s.esLong.reindex(
                  new ElasticsearchActivities.ReindexRequest(
                      "reindex " + oldIndex + " into " + newIndex + " (days allowed)",
                      cluster,
                      oldIndex,
                      newIndex,
                      null,
                      e.requestsPerSecond(),
                      Duration.ofSeconds(5),
                      s.dry)));
    }

    release.onRollback(
        "dataset processing back on",
        () -> s.adminSwitch("dataset processing back on", "processing", true));
    s.adminSwitch("turn dataset processing off", "processing", false);

    String since = reindexStart.toString();
    if (byCommand) {
      s.job(
          "partial update of " + newIndex + " for datasets created since " + since,
          "partial-update",
          command(s, c.partialUpdate(), "metaspace.commands.partialUpdate", newIndex)
              .replace("{since}", q(since))
              .replace("{dir}", q(dir)));
    } else {
      String query = "{\"range\": {\"" + e.createdField() + "\": {\"gte\": \"" + since + "\"}}}";
      release.step(
          "partial update of " + newIndex + " for datasets created since " + since,
          () ->
              s.esLong.reindex(
                  new ElasticsearchActivities.ReindexRequest(
                      "partial update of " + newIndex + " for datasets created since " + since,
                      cluster,
                      oldIndex,
                      newIndex,
                      query,
                      null,
                      Duration.ofSeconds(5),
                      s.dry)));
    }

    s.announce("Slack: starting deployment", startText(s, Strategy.REINDEX_BEFORE_DEPLOYMENT));
    Promise<HttpProbeActivities.PeriodWatch> watch = startWatch(s);
    release.onRollback(
        "alias " + e.alias() + " back to " + oldIndex,
        () ->
            release.step(
                "alias " + e.alias() + " back to " + oldIndex,
                () ->
                    s.es.swapAlias(
                        new ElasticsearchActivities.SwapRequest(
                            "alias " + e.alias() + " back to " + oldIndex,
                            cluster,
                            e.alias(),
                            newIndex,
                            oldIndex,
                            s.dry))));
    release.step(
        "swap alias " + e.alias() + ": " + oldIndex + " -> " + newIndex + " (atomic)",
        () ->
            s.es.swapAlias(
                new ElasticsearchActivities.SwapRequest(
                    "swap alias " + e.alias() + ": " + oldIndex + " -> " + newIndex + " (atomic)",
                    cluster,
                    e.alias(),
                    oldIndex,
                    newIndex,
                    s.dry)));
    s.deploy("Ansible web deployment of " + version, host);
    s.adminSwitch("turn dataset processing back on", "processing", true);
    postChecks(s, host);
    endWatch(s, watch);
    if (c.fullUpdate() == null) {
      release.skip(
          "full incremental update of " + newIndex, "metaspace.commands.fullUpdate is not set");
    } else {
      s.job(
          "full incremental update of " + newIndex,
          "full-update",
          command(s, c.fullUpdate(), "metaspace.commands.fullUpdate", newIndex));
    }
    s.announce("Slack: deployment successful", doneText(s) + "; the Elasticsearch update ran");

    // The old index goes only once the new one is seen serving, and after the gate (or delay).
    ElasticsearchActivities.IndexState after =
        release.step(
            "the new index serves through " + e.alias(),
            () ->
                s.es.status(
                    new ElasticsearchActivities.StatusRequest(
                        "the new index serves through " + e.alias(),
                        cluster,
                        e.alias(),
                        e.indexPrefix() + "*")));
    if (!s.dry && !after.serving().equals(List.of(newIndex))) {
      throw new IllegalArgumentException(
          "alias "
              + e.alias()
              + " points at "
              + after.serving()
              + ", not "
              + newIndex
              + ": someone changed it during the release; look before dropping anything");
    }
    boolean drop =
        gateOrDelay(DROP_INDEX_GATE, e.dropOldIndexAfter(), "dropping the old index " + oldIndex);
    release.settle("the new index " + newIndex + " serves and the deployment is checked");
    if (drop) {
      release.step(
          "drop the old index " + oldIndex,
          () ->
              s.es.deleteIndex(
                  new ElasticsearchActivities.DeleteIndexRequest(
                      "drop the old index " + oldIndex, cluster, oldIndex, e.alias(), s.dry)));
    } else {
      release.skip("drop the old index " + oldIndex, "not allowed at gate " + DROP_INDEX_GATE);
      release.note(
          "the old index "
              + oldIndex
              + " is kept: drop it by hand once it is no longer needed (manage_es_index --inactive"
              + " drop)");
    }
    s.run("remove the temp dir " + dir, host, "rm -rf " + q(dir), "rm");
    return "reindexed into "
        + newIndex
        + ", alias "
        + e.alias()
        + " swapped, "
        + oldIndex
        + (drop ? " dropped" : " kept");
  }

  // ---- fork the VM ----

  private String forkTheVm(MetaspaceSteps s) {
    MetaspaceConfig cfg = s.cfg;
    MetaspaceConfig.Aws aws = cfg.aws();
    Ec2Activities.Aws where = s.site.aws();
    String oldId = aws.instanceId();
    String version = s.version();

    s.announce("Slack: starting deployment", startText(s, Strategy.FORK_THE_VM));
    Promise<HttpProbeActivities.PeriodWatch> watch = startWatch(s);
    release.onRollback(
        "read-only mode off", () -> s.adminSwitch("read-only mode off", "readOnly", false));
    s.adminSwitch("turn read-only mode on", "readOnly", true);

    Ec2Activities.Image image =
        release.step(
            "snapshot " + oldId + " as an image",
            () ->
                s.ec2.createImage(
                    new Ec2Activities.ImageRequest(
                        "snapshot " + oldId + " as an image",
                        where,
                        oldId,
                        s.releaseId(),
                        false,
                        s.dry)));
    String newName = "metaspace-" + version;
    // Registered before the launch, so that a launch that failed half-way is accounted for: its
    // copy may exist (the launch is idempotent by client token) without the release knowing its
    // id, and the rollback then says what to look for instead of claiming it undid everything.
    String[] launched = new String[1];
    release.onRollback(
        "terminate the new instance",
        () -> {
          if (launched[0] == null) {
            release.leftUndone(
                "the copy's launch did not finish: terminate any instance launched from image "
                    + image.id()
                    + " with client token "
                    + s.releaseId()
                    + " (turn its termination protection off first)");
            return;
          }
          release.step(
              "termination protection off on " + launched[0],
              () ->
                  s.ec2.setTerminationProtection(
                      new Ec2Activities.ProtectionRequest(
                          "termination protection off on " + launched[0],
                          where,
                          launched[0],
                          false,
                          s.dry)));
          release.step(
              "terminate the new instance " + launched[0],
              () ->
                  s.ec2.terminateInstance(
                      new Ec2Activities.InstanceRequest(
                          "terminate the new instance " + launched[0], where, launched[0], s.dry)));
        });
    Ec2Activities.Instance copy =
        release.step(
            "launch a copy of " + oldId + " from the image, termination protection on",
            () ->
                s.ec2.launchLike(
                    new Ec2Activities.LaunchLikeRequest(
                        "launch a copy of " + oldId + " from the image, termination protection on",
                        where,
                        oldId,
                        image.id(),
                        newName,
                        s.releaseId(),
                        s.dry)));
    launched[0] = copy.id();
    HostRef newHost = newHost(s, copy);

    MetaspaceConfig.Ansible a = cfg.ansible();
    String inventory = a.checkout() + "/" + a.inventory();
    dev.crewchief.activities.AnsibleActivities.InventoryChange pointed =
        release.step(
            "Ansible inventory: " + a.inventoryHost() + " -> " + newHost.address(),
            () ->
                s.ansible.pointInventory(
                    new dev.crewchief.activities.AnsibleActivities.InventoryRequest(
                        "Ansible inventory: " + a.inventoryHost() + " -> " + newHost.address(),
                        inventory,
                        a.inventoryHost(),
                        newHost.address(),
                        s.dry)));
    release.onRollback(
        "Ansible inventory back to " + pointed.previous(),
        () -> revertInventory(s, inventory, pointed.previous()));

    s.deploy("Ansible web deployment of " + version + " to the new instance", newHost);
    if (cfg.commands().migrate() == null) {
      release.skip(
          "apply the migrations on the new instance", "metaspace.commands.migrate is not set");
    } else {
      s.run(
          "apply the migrations on the new instance",
          newHost,
          cfg.commands().migrate().replace("{tag}", version),
          "metaspace.commands.migrate");
    }
    postChecks(s, newHost);

    release.onRollback(
        "Elastic IP " + aws.elasticIp() + " back to " + oldId,
        () ->
            release.step(
                "Elastic IP " + aws.elasticIp() + " back to " + oldId,
                () ->
                    s.ec2.moveAddress(
                        new Ec2Activities.AddressRequest(
                            "Elastic IP " + aws.elasticIp() + " back to " + oldId,
                            where,
                            aws.elasticIp(),
                            oldId,
                            s.dry))));
    release.step(
        "move Elastic IP " + aws.elasticIp() + " to " + copy.id(),
        () ->
            s.ec2.moveAddress(
                new Ec2Activities.AddressRequest(
                    "move Elastic IP " + aws.elasticIp() + " to " + copy.id(),
                    where,
                    aws.elasticIp(),
                    copy.id(),
                    s.dry)));

    release.gate(CONFIRM_GATE);
    s.adminSwitch("turn read-only mode off", "readOnly", false);
    endWatch(s, watch);
    // Writes now land on the new instance: going back to the old one would lose them.
    release.settle("read-only mode is off on the new instance: writes land there");
    release.step(
        "stop the old instance " + oldId,
        () ->
            s.ec2.stopInstance(
                new Ec2Activities.InstanceRequest(
                    "stop the old instance " + oldId, where, oldId, s.dry)));
    s.announce("Slack: deployment successful", doneText(s) + " on the new instance " + copy.id());

    if (!gateOrDelay(
        TERMINATE_GATE, cfg.fork().terminateOldAfter(), "terminating the old instance " + oldId)) {
      release.skip("terminate the old instance " + oldId, "not allowed at gate " + TERMINATE_GATE);
      release.note(
          "the old instance "
              + oldId
              + " is stopped, not terminated (termination protection on): terminate it by hand,"
              + " then revert the Ansible inventory change");
      return "forked " + oldId + " to " + copy.id() + ", Elastic IP moved, old instance stopped";
    }
    release.step(
        "termination protection off on " + oldId,
        () ->
            s.ec2.setTerminationProtection(
                new Ec2Activities.ProtectionRequest(
                    "termination protection off on " + oldId, where, oldId, false, s.dry)));
    release.step(
        "terminate the old instance " + oldId,
        () ->
            s.ec2.terminateInstance(
                new Ec2Activities.InstanceRequest(
                    "terminate the old instance " + oldId, where, oldId, s.dry)));
    revertInventory(s, inventory, pointed.previous());
    return "forked "
        + oldId
        + " to "
        + copy.id()
        + ", Elastic IP "
        + aws.elasticIp()
        + " moved, old instance terminated";
  }

  private void revertInventory(MetaspaceSteps s, String inventory, String previous) {
    MetaspaceConfig.Ansible a = s.cfg.ansible();
    if (previous == null) {
      release.skip("revert the Ansible inventory", "it had no address for " + a.inventoryHost());
      return;
    }
    release.step(
        "revert the Ansible inventory: " + a.inventoryHost() + " -> " + previous,
        () ->
            s.ansible.pointInventory(
                new dev.crewchief.activities.AnsibleActivities.InventoryRequest(
                    "revert the Ansible inventory: " + a.inventoryHost() + " -> " + previous,
                    inventory,
                    a.inventoryHost(),
                    previous,
                    s.dry)));
  }

  /** How the new instance is reached: a configured host, or its private IP as the old one. */
  private static HostRef newHost(MetaspaceSteps s, Ec2Activities.Instance copy) {
    if (s.site.newHost() != null) {
      return s.site.newHost();
    }
    HostRef old = s.site.host();
    String address = copy.privateIp() == null ? "(the new instance)" : copy.privateIp();
    return new HostRef(
        copy.id(), address, old.port(), old.user(), old.privateKeyRef(), old.knownHosts());
  }

  // ---- shared ----

  /**
   * The runbook's post-deployment checks: supervisor's programs (one restart each, then the log
   * tail), then the system services.
   */
  private void postChecks(MetaspaceSteps s, HostRef on) {
    MetaspaceConfig.Supervisor sv = s.cfg.supervisor();
    SupervisorActivities.ProgramsResult programs =
        release.step(
            "supervisor programs RUNNING on " + on.name(),
            () ->
                s.supervisor.checkPrograms(
                    new SupervisorActivities.ProgramsRequest(
                        "supervisor programs RUNNING on " + on.name(),
                        on,
                        sv.supervisorctl(),
                        sv.programs(),
                        sv.settle(),
                        10000,
                        s.dry)));
    if (!programs.restarted().isEmpty()) {
      release.note(
          "post-deployment: restarted once and then RUNNING: "
              + String.join(", ", programs.restarted()));
    }
    MetaspaceConfig.Services services = s.cfg.services();
    if (services == null || services.names() == null || services.names().isEmpty()) {
      release.skip("system services", "metaspace.services.names is empty");
      return;
    }
    for (String service : services.names()) {
      s.run(
          "system service " + service + " active on " + on.name(),
          on,
          services.check().replace("{service}", service),
          "metaspace.services.check");
    }
  }

  private Promise<HttpProbeActivities.PeriodWatch> startWatch(MetaspaceSteps s) {
    HttpProbeActivities.PeriodWatchRequest req = s.watchRequest("watch the site");
    if (req == null) {
      return null;
    }
    release.note("watching " + req.url() + " until " + s.version() + " serves");
    return Async.function(s.probe::watchPeriod, req);
  }

  /** The watch's measure in the report, and the runbook's rule checked against it. */
  private void endWatch(MetaspaceSteps s, Promise<HttpProbeActivities.PeriodWatch> watch) {
    if (watch == null) {
      release.skip(
          "read-only and downtime measured", "metaspace.probe is not configured: nothing measured");
      return;
    }
    MetaspaceConfig.Probe p = s.cfg.probe();
    HttpProbeActivities.PeriodWatch w =
        release.step("read-only and downtime measured on " + p.url(), watch::get);
    release.note("measured: " + w.describe());
    if (!w.rehearsed() && w.longestSilentMillis() > p.maxSilent().toMillis()) {
      release.note(
          "RULE BROKEN: the site was down "
              + w.longestSilentMillis()
              + " ms without a visible message; the runbook allows "
              + p.maxSilent().toSeconds()
              + " s");
    } else if (!w.rehearsed()) {
      release.note(
          "rule kept: no downtime without a visible message longer than "
              + p.maxSilent().toSeconds()
              + " s");
    }
  }

  /** The gate's leave to destroy, or the configured delay instead of the gate. */
  private boolean gateOrDelay(String gate, Duration delay, String what) {
    if (delay == null) {
      return release.permits(gate);
    }
    release.skip("gate: " + gate, "configured delay of " + delay + " instead");
    release.step(
        "wait " + delay + " before " + what,
        () -> {
          Workflow.sleep(delay);
          return "waited " + delay;
        });
    return true;
  }

  private static String command(MetaspaceSteps s, String template, String key, String index) {
    if (template == null) {
      throw new IllegalArgumentException(key + " is not set: configure the app's command");
    }
    String t = template.replace("{tag}", s.version());
    return index == null ? t : t.replace("{index}", q(index));
  }

  private static String startText(MetaspaceSteps s, Strategy strategy) {
    return "Starting the deployment of METASPACE "
        + s.version()
        + " ("
        + strategy.option()
        + ", "
        + s.releaseId()
        + ")";
  }

  private static String doneText(MetaspaceSteps s) {
    return "METASPACE " + s.version() + " deployed successfully";
  }

  private static String shortSha(String sha) {
    return sha == null ? "(unknown)" : sha.length() > 10 ? sha.substring(0, 10) : sha;
  }

  private static String q(String s) {
    return dev.crewchief.release.Shell.q(s);
  }
}
