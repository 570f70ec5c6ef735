package dev.crewchief.randopony;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ArchiveRequest;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.InspectRequest;
import dev.crewchief.activities.PathFacts;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.RemoteHostActivities;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SwitchProbe;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.activities.SyncRequest;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.release.Release;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.List;

/**
 * The steps both RandoPony workflows share, each one activity call on the site's host. The retry
 * policies sit here, with the steps they govern.
 */
final class RandoPonySteps {
  /** Failures a retry cannot fix: wrong config, auth, a missing target, a failing command. */
  static final String[] NON_RETRYABLE = {
    "SshAuthFailed",
    "SshHostKeyMismatch",
    "SshConfigInvalid",
    "RemoteCommandFailed",
    "InvalidInput",
    "NginxConfigRejected",
    "SourceMissing",
    "SourceIncomplete",
    "RemoteToolMissing"
  };

  private static final Duration HEARTBEAT = Duration.ofSeconds(30);

  private final Release release;
  private final RandoPonySite site;
  final RandoPonyCommands commands;
  private final RemoteHostActivities host;
  private final ProxyActivities proxy;
  private final ProxyActivities prober;

  RandoPonySteps(Release release, RandoPonySite site) {
    this.release = release;
    this.site = site;
    this.commands = new RandoPonyCommands(site);
    // pip install and supervisor start can take minutes on a shared host; an unreachable host is
    // retried with backoff for a few minutes before the release gives up. The adapters heartbeat
    // every two seconds while a command runs, so a worker that dies mid-step is noticed after the
    // heartbeat timeout and the step is retried on another worker (the steps are idempotent).
    RetryOptions hostRetry = ReleaseWorkflow.remoteRetry(NON_RETRYABLE);
    this.host =
        Workflow.newActivityStub(
            RemoteHostActivities.class,
            ReleaseWorkflow.options(Duration.ofMinutes(10), HEARTBEAT, hostRetry));
    this.proxy =
        Workflow.newActivityStub(
            ProxyActivities.class,
            ReleaseWorkflow.options(Duration.ofMinutes(2), HEARTBEAT, hostRetry));
    // A probe is polled: retried every 2 seconds (coefficient 1) for up to two minutes while the
    // app comes up, rather than looping in workflow code.
    this.prober =
        Workflow.newActivityStub(
            ProxyActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(30))
                .setScheduleToCloseTimeout(Duration.ofMinutes(2))
                .setRetryOptions(
                    RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofSeconds(2))
                        .setBackoffCoefficient(1)
                        .setMaximumAttempts(60)
                        .setDoNotRetry(NON_RETRYABLE)
                        .build())
                .build());
  }

  ActionResult run(String step, String command) {
    return release.step(
        step,
        () ->
            host.runCommand(
                new CommandRequest(
                    step, site.host(), command, release.dryRun(), commands.tools())));
  }

  PathFacts inspect(String step, List<String> paths) {
    return release.step(
        step, () -> host.inspect(new InspectRequest(step, site.host(), paths, release.dryRun())));
  }

  /**
   * Uploads the source to the release's code directory as a mirror: what the source no longer has
   * is deleted there too (a stale file left behind can break the next install), except what the
   * layout excludes or protects. The source's layout is checked first, before anything is sent.
   */
  SyncResult sync(String step, String releaseId) {
    RandoPonyLayout layout = site.layout();
    return release.step(
        step,
        () ->
            host.syncDirectory(
                new SyncRequest(
                    step,
                    site.host(),
                    site.sourceDir(),
                    site.codeDir(releaseId),
                    layout.excludes(),
                    release.dryRun(),
                    true,
                    layout.protect(),
                    commands.sourceRequirements())));
  }

  ActionResult archive(String step, String baseDir, List<String> paths, String archivePath) {
    return release.step(
        step,
        () ->
            host.archiveAndDelete(
                new ArchiveRequest(
                    step, site.host(), baseDir, paths, archivePath, release.dryRun())));
  }

  /**
   * Points a domain at a release's app (or detaches it when {@code releaseId} is null), watching
   * the domain while it switches where the outcome can be seen at once: any app of the site
   * answering as the probe expects is up (its status, and its text when that names no release),
   * anything else is downtime, and the switch has settled once the release's app answers with the
   * probe's text for it (with no text: three answers with the status after the reload), or,
   * detached, the domain answers 503. A domain pointed at an app that is not started yet (the
   * promotion attaches it first, as the runbook does) is not watched: it cannot settle before the
   * app starts, and the probe after the start says when it serves.
   */
  SwitchResult site(String step, String domain, String releaseId, boolean appRunning) {
    Integer port = releaseId == null ? null : site.port(releaseId);
    RandoPonyLayout layout = site.layout();
    String settle = releaseId == null ? null : layout.probeTextFor(site.appName(), releaseId);
    SwitchProbe watch =
        releaseId != null && !appRunning
            ? null
            : new SwitchProbe(
                site.nginx().probeUrl(),
                domain,
                layout.anyReleaseText(site.appName()),
                settle,
                releaseId == null
                    ? Integer.valueOf(503)
                    : settle == null ? layout.probeStatus() : null,
                50,
                layout.probeStatus());
    return release.step(
        step,
        () ->
            proxy.switchSite(
                new SiteRequest(
                    step,
                    site.host(),
                    site.nginx(),
                    domain,
                    port,
                    release.dryRun(),
                    watch,
                    "randopony.nginx")));
  }

  /**
   * Waits until the URL answers as the layout's probe says the app serves: its status, and its text
   * when one is configured (for this release).
   */
  ActionResult probe(String step, String url, String hostHeader, String releaseId) {
    return release.step(
        step,
        () ->
            prober.probe(
                new ProbeRequest(
                    step,
                    site.host(),
                    url,
                    hostHeader,
                    site.layout().probeTextFor(site.appName(), releaseId),
                    release.dryRun(),
                    site.layout().probeStatus())));
  }
}
