package dev.crewchief.randopony;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code promote_staging_to_production}, step by step in the runbook's order, with both branches
 * (no previous production release, or one whose data moves over). The hosting control panel's
 * domain API is modelled as switching the domain's nginx server block between apps.
 *
 * <p>Every step that changes something registers its undo first, so a failure, a rejected gate or a
 * cancellation puts the old production back: old app and supervisor started, the domain on the old
 * app, staging data restored from its archive.
 */
public final class PromoteToProductionImpl extends ReleaseWorkflow implements PromoteToProduction {
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  @WorkflowInit
  public PromoteToProductionImpl(PromoteRequest request) {
    super(request.context());
    String prev = request.previousRelease();
    release.declareGate(
        CONFIRM_GATE,
        "Confirm the release identifiers: promote staging release "
            + request.context().version()
            + " to production, "
            + (prev == null
                ? "with a fresh production database (no previous production release)"
                : "moving the data of production release " + prev)
            + ". Staging data and logs will be archived, then deleted.",
        List.of("crew-chief"));
  }

  /** One promotion at a time per environment. */
  static Lane lane(String environment) {
    return Lane.of(RUNBOOK, environment);
  }

  @Override
  public ReleaseResult promote(PromoteRequest request) {
    String summary =
        release.run(lane(request.context().environment()), request, () -> promoteSteps(request));
    return new ReleaseResult(summary, release.progress());
  }

  private String promoteSteps(PromoteRequest request) {
    String rel = request.context().version();
    String prev = request.previousRelease();
    RandoPonySite site = request.site();
    RandoPonyValidation.check(rel, site);
    if (prev != null) {
      RandoPonyValidation.check(prev, site);
      if (prev.equals(rel)) {
        throw new IllegalArgumentException(
            "the previous production release must differ from the release promoted (" + rel + ")");
      }
    }
    RandoPonySteps steps = new RandoPonySteps(release, site);
    RandoPonyCommands cmd = steps.commands;
    String app = site.appDir(rel);
    String domain = site.productionDomain();

    release.gate(CONFIRM_GATE);

    release.onRollback(
        "start staging app", () -> steps.run("start staging app", cmd.startApp(rel)));
    steps.run("stop staging app", cmd.stopApp(rel));
    release.onRollback(
        "start staging supervisor",
        () -> steps.run("start staging supervisor", cmd.startSupervisor(rel)));
    steps.run("stop staging supervisor and celery", cmd.stopSupervisor(rel));

    String stamp = STAMP.format(Instant.ofEpochMilli(Workflow.currentTimeMillis()));
    String archive =
        site.archiveDir() + "/" + site.appName() + rel + "-staging-" + stamp + ".tar.gz";
    List<String> stagingData = new ArrayList<>();
    stagingData.add(RandoPonySite.database("staging"));
    stagingData.add(RandoPonySite.CELERY_DB);
    stagingData.addAll(RandoPonySite.LOGS);
    release.onRollback(
        "restore staging data from " + archive,
        () -> steps.run("restore staging data", cmd.restoreArchive(rel, archive)));
    steps.archive("archive then delete staging databases and logs", app, stagingData, archive);
    release.note("staging data and logs archived in " + archive);

    release.onRollback(
        "staging.ini back in place",
        () -> steps.run("staging.ini back in place", cmd.linkConfig(rel, "staging")));
    steps.run(
        "replace staging.ini symlink by production.ini, bin/start uses production.ini",
        cmd.linkConfig(rel, "production"));

    if (prev == null) {
      release.skip("stop old production app", "no previous production release");
      steps.run("create production database", cmd.initDatabase(rel, "production"));
    } else {
      release.onRollback(
          "start old production app",
          () -> steps.run("start old production app", cmd.startApp(prev)));
      steps.run("stop old production app " + prev, cmd.stopApp(prev));
      release.onRollback(
          "start old production supervisor",
          () -> steps.run("start old production supervisor", cmd.startSupervisor(prev)));
      steps.run("stop old production supervisor and celery", cmd.stopSupervisor(prev));
      release.onRollback(
          "production domain back to " + prev,
          () -> steps.site("production domain back to " + prev, domain, prev, false));
      steps.site("detach production domain from " + prev, domain, null, true);
      release.onRollback(
          "remove copied databases",
          () -> steps.run("remove copied databases", cmd.removeCopiedDatabases(rel)));
      steps.run("copy production and celery databases from " + prev, cmd.copyDatabases(prev, rel));
    }

    release.onRollback(
        "detach production domain from " + rel,
        () -> steps.site("detach production domain from " + rel, domain, null, true));
    steps.site("attach production domain to " + rel, domain, rel, false);
    release.onRollback("stop new app", () -> steps.run("stop new app", cmd.stopApp(rel)));
    steps.run("start app", cmd.startApp(rel));
    release.onRollback(
        "stop new supervisor", () -> steps.run("stop new supervisor", cmd.stopSupervisor(rel)));
    steps.run("start production supervisor and celery", cmd.startSupervisor(rel));
    steps.probe("production domain serves " + rel, site.nginx().probeUrl(), domain, rel);
    steps.run(
        "record production release",
        "echo "
            + q(rel)
            + " > "
            + q(site.webappsDir() + "/." + site.appName() + "-production-release"));
    return (request.context().dryRun() ? "rehearsed: " : "")
        + site.appName()
        + rel
        + " is production at "
        + domain
        + (prev == null ? " with a fresh database" : " with the data of " + prev);
  }
}
