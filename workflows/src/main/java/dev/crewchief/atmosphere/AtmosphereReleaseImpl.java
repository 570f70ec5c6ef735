package dev.crewchief.atmosphere;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CutReleaseRequest;
import dev.crewchief.activities.DockerActivities;
import dev.crewchief.activities.GitActivities;
import dev.crewchief.activities.MailActivities;
import dev.crewchief.activities.MailRequest;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.activities.WebhookActivities;
import dev.crewchief.activities.WebhookRequest;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.release.SearchAttributes;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The Atmosphere release over its whole calendar: the maintenance notice sent on time by a durable
 * timer (a start too late for two working days' notice is refused with the earliest possible
 * window), the window on the status page, the release candidate (changelog cut and tagged, then a
 * wait for its images), deployment day on beta as a child workflow and the crew chief's "tested on
 * beta" gate, a wait for the window, and deployment day on production with the driver's "tested in
 * production" gate.
 */
public final class AtmosphereReleaseImpl extends ReleaseWorkflow implements AtmosphereRelease {
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter WHEN =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

  static final String AWAIT_IMAGE_CHANGE = "release-await-image";

  @WorkflowInit
  public AtmosphereReleaseImpl(AtmosphereReleaseRequest request) {
    super(request.context());
    if (request.beta() != null) {
      release.declareGate(
          BETA_GATE,
          "Test the release on "
              + request.beta().environment()
              + ", then approve to go on to production in the window.",
          List.of("crew-chief"));
    }
    DeploymentDay.declareGates(release, request.production());
  }

  @Override
  public ReleaseResult release(AtmosphereReleaseRequest request) {
    String summary =
        release.run(
            AtmospherePlans.containers(request.context().environment()),
            request,
            () -> steps(request));
    return new ReleaseResult(summary, release.progress());
  }

  private String steps(AtmosphereReleaseRequest r) {
    ReleaseContext ctx = r.context();
    String version = ctx.version();
    AtmosphereValidation.version(version);
    if (r.window() == null || r.production() == null || r.notice() == null) {
      throw new IllegalArgumentException(
          "a release needs a window, a production plan and a notice");
    }
    Instant now = now();
    Instant deadline = MaintenanceCalendar.noticeDeadline(r.window());
    if (now.isAfter(deadline)) {
      throw new IllegalArgumentException(
          "too late for the maintenance notice: it must go out two working days before the window"
              + " ("
              + WHEN.format(deadline)
              + " for a window at "
              + WHEN.format(r.window())
              + "); the earliest possible window is "
              + WHEN.format(MaintenanceCalendar.earliestWindow(now)));
    }
    release.note("crew chief: " + r.crewChief() + ", driver: " + r.driver());
    String title = DayPlan.maintenanceTitle(DAY.format(r.window()), version);
    String message = r.maintenanceMessage();

    // Two weeks prior: the notice, on time.
    Instant sendAt = MaintenanceCalendar.sendAt(r.window(), leadOf(r.notice()), now);
    if (sendAt.isAfter(now)) {
      release.step(
          "wait until " + WHEN.format(sendAt) + " to send the maintenance notice",
          () -> {
            Workflow.sleep(Duration.between(now(), sendAt));
            return null;
          });
    }
    MailActivities mail =
        Workflow.newActivityStub(
            MailActivities.class,
            ReleaseWorkflow.options(
                Duration.ofMinutes(2),
                Duration.ofSeconds(30),
                ReleaseWorkflow.remoteRetry("InvalidInput", "MailAuthFailed", "MailRejected")));
    NoticePlan n = r.notice();
    String noticeBody =
        message
            + "\n\nMaintenance window: "
            + WHEN.format(r.window())
            + "\nRelease: v"
            + version
            + "\nCrew chief: "
            + r.crewChief();
    release.step(
        "e-mail the maintenance notice to " + String.join(", ", n.to()),
        () ->
            mail.send(
                new MailRequest(
                    "maintenance notice",
                    n.server(),
                    n.from(),
                    n.to(),
                    "Scheduled maintenance: " + title,
                    noticeBody,
                    "<" + ctx.releaseId() + ".notice@crewchief>",
                    ctx.dryRun())));
    if (n.statusPageUrl() != null && !n.statusPageUrl().isBlank()) {
      WebhookActivities webhook =
          Workflow.newActivityStub(
              WebhookActivities.class,
              ReleaseWorkflow.options(
                  Duration.ofMinutes(2),
                  Duration.ofSeconds(30),
                  ReleaseWorkflow.remoteRetry("InvalidInput", "WebhookRejected")));
      String json =
          "{\"title\":\""
              + title.replace("\"", "'")
              + "\",\"start\":\""
              + r.window()
              + "\",\"message\":\""
              + message.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
              + "\"}";
      release.step(
          "record the maintenance window on the status page",
          () ->
              webhook.post(
                  new WebhookRequest(
                      "status page",
                      n.statusPageUrl(),
                      n.statusPageAuthRef(),
                      ctx.releaseId() + "-window",
                      json,
                      ctx.dryRun())));
    }

    // Week prior: the release candidate, and its images.
    CandidatePlan c = r.candidate();
    if (c != null) {
      GitActivities git =
          Workflow.newActivityStub(
              GitActivities.class,
              ReleaseWorkflow.options(
                  Duration.ofMinutes(10),
                  Duration.ofSeconds(60),
                  ReleaseWorkflow.remoteRetry(
                      "InvalidInput",
                      "TagConflict",
                      "NothingToRelease",
                      "WorkTreeDirty",
                      "WrongBranch",
                      "PushRejected",
                      "ReleaseExists",
                      "ChangelogMissing",
                      "ChangelogInvalid",
                      "RepoMissing",
                      "GitAuthFailed")));
      String tag = r.production().site().tagPrefix() + version;
      release.step(
          "changelog: Unreleased becomes " + version + ", committed and tagged " + tag,
          () ->
              git.cutRelease(
                  new CutReleaseRequest(
                      "cut release",
                      c.repo(),
                      c.changelogFile(),
                      version,
                      tag,
                      DAY.format(now()),
                      c.authorName(),
                      c.authorEmail(),
                      c.repo().remote() != null,
                      ctx.dryRun())));
      // The image is built from the tag by CI: polled every minute (an image not there yet is
      // retried, not fatal) until it appears or the wait runs out.
      DockerActivities poller =
          Workflow.newActivityStub(
              DockerActivities.class,
              ActivityOptions.newBuilder()
                  .setStartToCloseTimeout(DockerSteps.PULL_LIMIT.plus(Duration.ofMinutes(1)))
                  .setHeartbeatTimeout(DockerSteps.HEARTBEAT)
                  .setScheduleToCloseTimeout(
                      c.imageWait() == null ? Duration.ofDays(1) : c.imageWait())
                  .setRetryOptions(
                      RetryOptions.newBuilder()
                          .setInitialInterval(Duration.ofMinutes(1))
                          .setBackoffCoefficient(1)
                          .setDoNotRetry("InvalidInput")
                          .build())
                  .build());
      // Releases started before awaitImage existed poll with pullImage, whose "not found" is
      // final: they keep it on replay.
      boolean await = Workflow.getVersion(AWAIT_IMAGE_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1;
      for (String service : r.production().services()) {
        String image = r.production().site().image(service, version);
        PullRequest pull =
            new PullRequest(
                "wait for " + image, r.production().site().engine(), image, false, ctx.dryRun());
        release.step(
            "wait until the image " + image + " exists",
            () -> await ? poller.awaitImage(pull) : poller.pullImage(pull));
      }
    }

    // Beta first, as a child release of its own; then the crew chief's word.
    String date = DAY.format(r.window());
    if (r.beta() != null) {
      ReleaseContext betaCtx =
          ctx.forRelease(AtmosphereDeploymentDay.RUNBOOK, r.beta().environment());
      AtmosphereDeploymentDay beta =
          Workflow.newChildWorkflowStub(
              AtmosphereDeploymentDay.class,
              ChildWorkflowOptions.newBuilder()
                  .setWorkflowId(ctx.releaseId() + "-beta")
                  // Found by `crewchief list --runbook atmosphere-deploy --env BETA` and the UI.
                  .setTypedSearchAttributes(SearchAttributes.identity(betaCtx))
                  // Cancelling the release cancels the beta day, which rolls itself back.
                  .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
                  .build());
      release.step(
          "deployment day on " + r.beta().environment() + " (child " + ctx.releaseId() + "-beta)",
          () ->
              new ActionResult(
                  beta.deploy(
                          new AtmosphereDeploymentDay.DayRequest(
                              betaCtx, r.beta(), date, title, message))
                      .summary(),
                  ctx.dryRun(),
                  ""));
      release.gate(BETA_GATE);
    }

    // Deployment day, in the window.
    if (r.window().isAfter(now())) {
      release.step(
          "wait for the maintenance window at " + WHEN.format(r.window()),
          () -> {
            Workflow.sleep(Duration.between(now(), r.window()));
            return null;
          });
    }
    new DeploymentDay(release, r.production()).run(version, date, title, message);
    return (ctx.dryRun() ? "rehearsed: " : "")
        + "Atmosphere v"
        + version
        + " is live on "
        + r.production().environment();
  }

  private static Duration leadOf(NoticePlan n) {
    return n.lead() == null ? Duration.ofDays(14) : n.lead();
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
