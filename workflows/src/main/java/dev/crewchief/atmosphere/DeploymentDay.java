package dev.crewchief.atmosphere;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CheckoutRequest;
import dev.crewchief.activities.CommitRequest;
import dev.crewchief.activities.ComposeFileRef;
import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.DumpRequest;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.ImageTagsRequest;
import dev.crewchief.activities.ImageTagsResult;
import dev.crewchief.activities.LinkSiteRequest;
import dev.crewchief.activities.PostgresActivities;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.SwitchProbe;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.release.Release;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runbook's "Upgrading with Atmosphere-Docker", in its order: dump both databases, maintenance
 * start in both containers, the proxy to the maintenance page, the secrets checkout on its branch,
 * containers stopped and committed to backup images, the compose checkout brought up to date and
 * its image tags set to the release, the new images pulled and the containers recreated, the
 * driver's "tested in production" gate (on the environment being released; beta is tested under the
 * release's own gate), the proxy back to the app, maintenance stop.
 *
 * <p>Undo actions are registered before the steps they undo, so a failure or rejection after the
 * containers were stopped sets the compose file's tags back, restores the backup images, then the
 * proxy, and ends maintenance only once the old version answers through the proxy. Once the new
 * version serves through the proxy the day is settled: a failing maintenance stop then fails the
 * release with what to do by hand, and does not put the old version back.
 */
final class DeploymentDay {
  static final String TEST_GATE = "tested-in-production";

  /** Change ids of {@code Workflow.getVersion}: steps added after releases were running. */
  static final String COMPOSE_FILE_CHANGE = "deployment-day-compose-file";

  static final String SETTLE_CHANGE = "deployment-day-settled-once-served";
  static final String CHECKLIST =
      "Use and test, test, test. Checklist from the runbook: apt updates/upgrades and reboot if"
          + " needed; logs rotating and not too big; unnecessary images deleted; if containers"
          + " cannot reach PostgreSQL, restart postgresql. Approve when the services are"
          + " ready-to-go: the proxy goes back to the app and maintenance ends.";

  private final Release release;
  private final DayPlan day;
  private final DockerSteps docker;
  private final PostgresActivities postgres;
  private final ProxyActivities proxy;
  private final ProxyActivities prober;
  private final GitActivities git;

  DeploymentDay(Release release, DayPlan day) {
    this.release = release;
    this.day = day;
    this.docker = new DockerSteps(release, day.site());
    RetryOptions retry = ReleaseWorkflow.remoteRetry(NON_RETRYABLE);
    // A dump of a large database takes a while; pg_dump is watched by heartbeats.
    this.postgres =
        Workflow.newActivityStub(
            PostgresActivities.class,
            ReleaseWorkflow.options(Duration.ofHours(2), Duration.ofSeconds(60), retry));
    this.proxy =
        Workflow.newActivityStub(
            ProxyActivities.class,
            ReleaseWorkflow.options(Duration.ofMinutes(2), Duration.ofSeconds(30), retry));
    // A probe is polled: every 3 seconds (coefficient 1) for up to five minutes.
    this.prober =
        Workflow.newActivityStub(
            ProxyActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(30))
                .setScheduleToCloseTimeout(Duration.ofMinutes(5))
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofSeconds(3))
                        .setBackoffCoefficient(1)
                        .setMaximumAttempts(100)
                        .setDoNotRetry(NON_RETRYABLE)
                        .build())
                .build());
    this.git =
        Workflow.newActivityStub(
            GitActivities.class,
            ReleaseWorkflow.options(Duration.ofMinutes(10), Duration.ofSeconds(60), retry));
  }

  static final String[] NON_RETRYABLE = {
    "InvalidInput",
    "ServiceNotFound",
    "ImageNotFound",
    "ContainerExecFailed",
    "BackupImageExists",
    "ContainerUnhealthy",
    "PostgresAuthFailed",
    "DatabaseMissing",
    "DumpInvalid",
    "ToolMissing",
    "SshAuthFailed",
    "SshHostKeyMismatch",
    "SshConfigInvalid",
    "NginxConfigRejected",
    "SiteConfigMissing",
    "WorkTreeDirty",
    "LocalCommitsAhead",
    "BranchMissing",
    "ComposeFileInvalid",
    "GitAuthFailed",
    "GitMissing",
    "RepoMissing"
  };

  /** Declares the day's gate on the release (production only). */
  static void declareGates(Release release, DayPlan day) {
    if (day.testGate()) {
      release.declareGate(TEST_GATE, CHECKLIST, List.of("driver"));
    }
  }

  /** Runs the day; {@code date} (yyyy-MM-dd) names the dump files and the maintenance title. */
  void run(String version, String date, String title, String message) {
    String env = day.environment();
    for (DatabaseRef db : day.databases()) {
      String file = db.name() + "-" + date + "-" + version + ".dump";
      release.step(
          "pg_dump " + db.name() + " (" + env + ") to " + day.dumpDir() + "/" + file,
          () ->
              postgres.dumpDatabase(
                  new DumpRequest(
                      "pg_dump " + db.name(), db, day.dumpDir(), file, release.dryRun())));
    }

    Map<String, String> vars = Map.of("{title}", title, "{message}", message);
    release.onRollback("end maintenance", this::endMaintenanceIfTheOldVersionAnswers);
    for (String service : day.services()) {
      docker.exec(
          "maintenance start in " + service,
          service,
          fill(day.maintenanceStart().get(service), vars));
    }

    release.onRollback("proxy back to the app", this::proxyBackToTheApp);
    linkProxy("proxy to the maintenance page", day.maintenanceConfig());
    probe("the proxy shows the maintenance page", day.maintenanceText());

    release.step(
        "secrets checkout on branch " + day.secrets().branch(),
        () ->
            git.checkoutBranch(
                new CheckoutRequest(
                    "secrets checkout", day.secrets(), day.secrets().branch(), release.dryRun())));

    Map<String, String> images = new LinkedHashMap<>();
    for (String service : day.services()) {
      images.put(service, day.site().image(service, version));
    }
    // The compose file's tags are read while the old version still runs: a file that cannot be
    // edited stops the day here, and what it names now is what a rollback puts back. Releases
    // started before the compose-file steps existed go on without them.
    boolean composeSteps =
        Workflow.getVersion(COMPOSE_FILE_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1;
    Map<String, String> composeBefore = composeSteps ? composeTagsNow(version, images) : null;

    // From here on the old containers are down: the rollback brings back what was backed up.
    Map<String, String> backups = new HashMap<>();
    release.onRollback("restore the backed-up containers", () -> restore(backups));
    oldVersionAnswers = false;
    for (String service : day.services()) {
      release.step(
          "stop " + service,
          () ->
              docker
                  .engine()
                  .stopService(
                      new ServiceRequest(
                          "stop " + service, day.site().service(service), release.dryRun())));
    }
    for (String service : day.services()) {
      String repo = "old_" + day.site().project() + "_" + service;
      String tag = "before-" + version;
      release.step(
          "commit " + service + " to the backup image " + repo + ":" + tag,
          () ->
              docker
                  .engine()
                  .commitContainer(
                      new CommitRequest(
                          "commit " + service,
                          day.site().service(service),
                          1,
                          repo,
                          tag,
                          release.dryRun())));
      backups.put(service, repo + ":" + tag);
    }
    // The runbook's steps 5 and 6 before the pull: the compose checkout brought up to date and
    // its image tags set to the release, so that later compose commands keep the new images.
    if (composeBefore != null) {
      updateComposeFile(version, images, composeBefore);
    }
    for (String image : images.values()) {
      docker.pull("pull " + image, image);
    }
    for (Map.Entry<String, String> e : images.entrySet()) {
      docker.recreate("recreate " + e.getKey() + " from " + e.getValue(), e.getKey(), e.getValue());
    }

    if (day.testGate()) {
      release.gate(TEST_GATE);
    }

    linkProxy("proxy back to the app", day.appConfig());
    probe("the proxy serves the app", day.appText());
    if (Workflow.getVersion(SETTLE_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1) {
      // The new version serves through the proxy: from here on, putting the old one back would
      // be a second outage to fix a maintenance banner.
      release.settle(
          "v"
              + version
              + " already served through the proxy on "
              + day.environment()
              + "; where maintenance is still on, end it by hand inside the container"
              + " (./manage.py maintenance stop), as the runbook says");
    }
    for (String service : day.services()) {
      docker.exec("maintenance stop in " + service, service, day.maintenanceStop().get(service));
    }
  }

  /**
   * Whether the old version is known to answer: true until its containers are stopped, and again
   * once the rollback's probe through the proxy succeeds. Maintenance is ended only then.
   */
  private boolean oldVersionAnswers = true;

  private void restore(Map<String, String> backups) {
    for (String service : day.services()) {
      String backup = backups.get(service);
      if (backup != null) {
        docker.recreate("restore " + service + " from " + backup, service, backup);
      } else {
        release.step(
            "start " + service + " again",
            () ->
                docker
                    .engine()
                    .startService(
                        new ServiceRequest(
                            "start " + service, day.site().service(service), release.dryRun())));
      }
    }
  }

  private void proxyBackToTheApp() {
    oldVersionAnswers = false;
    linkProxy("proxy back to the app", day.appConfig());
    probe("the old version answers through the proxy", day.appText());
    oldVersionAnswers = true;
  }

  private void endMaintenanceIfTheOldVersionAnswers() {
    if (!oldVersionAnswers && !release.dryRun()) {
      release.note(
          "maintenance left on: the old version did not answer through the proxy after the"
              + " rollback; end it by hand once it does");
      release.leftUndone(
          "maintenance is still on in "
              + String.join(", ", day.services())
              + " on "
              + day.environment());
      return;
    }
    for (String service : day.services()) {
      docker.exec("maintenance stop in " + service, service, day.maintenanceStop().get(service));
    }
  }

  /**
   * Points the proxy's enabled site at a config, watching the site while it switches: the app's
   * answer is up, anything else (the maintenance page, errors) is downtime, and the switch has
   * settled once the answer is the one the target serves.
   */
  private SwitchResult linkProxy(String step, String target) {
    String settle = target.equals(day.maintenanceConfig()) ? day.maintenanceText() : day.appText();
    SwitchProbe watch = new SwitchProbe(day.probeUrl(), null, day.appText(), settle, null, 50);
    return release.step(
        step,
        () ->
            proxy.linkSite(
                new LinkSiteRequest(
                    step,
                    day.proxyHost(),
                    day.nginx(),
                    day.proxyLink(),
                    target,
                    release.dryRun(),
                    watch)));
  }

  private ActionResult probe(String step, String expect) {
    return release.step(
        step,
        () ->
            prober.probe(
                new ProbeRequest(
                    step, day.proxyHost(), day.probeUrl(), null, expect, release.dryRun())));
  }

  /**
   * The image tags the compose file names before the day changes anything, or null (and a skipped
   * step saying so) when no compose file is configured.
   */
  private Map<String, String> composeTagsNow(String version, Map<String, String> images) {
    ComposeFileRef compose = day.site().compose();
    if (compose == null) {
      release.skip(
          "image tags in the compose file",
          "no compose file is configured (environments."
              + day.environment()
              + ".atmosphere.compose): it still names the old images, so a later `up -d` would"
              + " bring them back; set its image tags to "
              + version
              + " by hand");
      return null;
    }
    String step = "note the image tags " + compose.file() + " names now";
    ImageTagsResult now =
        release.step(
            step,
            () -> git.readImageTags(new ImageTagsRequest(step, compose, images, release.dryRun())));
    return now.previous() == null ? Map.of() : new LinkedHashMap<>(now.previous());
  }

  /**
   * Brings the compose checkout up to date on its branch, keeping a person's local changes in a
   * stash rather than resetting them away, then sets the services' image tags in the compose file.
   * The undo, registered first, sets the tags the file named before the day.
   */
  private void updateComposeFile(
      String version, Map<String, String> images, Map<String, String> before) {
    ComposeFileRef compose = day.site().compose();
    GitRepoRef repo = compose.repo();
    String branch = repo.branch();
    String stash =
        "crewchief " + release.context().releaseId() + ": local changes before the update";
    release.onRollback(
        "image tags in " + compose.file() + " back to what they were",
        () -> {
          if (!before.isEmpty()) {
            setImageTags(
                "image tags in " + compose.file() + " set back to " + before.values(),
                compose,
                before);
          }
        });
    String checkout = "bring the " + repo.name() + " checkout up to date on " + branch;
    release.step(
        checkout,
        () ->
            git.checkoutBranch(
                new CheckoutRequest(checkout, repo, branch, release.dryRun(), stash)));
    setImageTags("image tags in " + compose.file() + " set to " + version, compose, images);
  }

  private ImageTagsResult setImageTags(
      String step, ComposeFileRef compose, Map<String, String> images) {
    return release.step(
        step,
        () -> git.setImageTags(new ImageTagsRequest(step, compose, images, release.dryRun())));
  }

  static List<String> fill(List<String> command, Map<String, String> vars) {
    List<String> out = new ArrayList<>();
    for (String part : command) {
      String p = part;
      for (Map.Entry<String, String> v : vars.entrySet()) {
        p = p.replace(v.getKey(), v.getValue());
      }
      out.add(p);
    }
    return out;
  }
}
