package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** The nginx proxy on a host. */
@ActivityInterface
public interface ProxyActivities {
  /**
   * Switch a domain's server block to an app, or detach it; then reload nginx. With a probe, the
   * result carries the downtime seen while switching.
   */
  @ActivityMethod(name = "Proxy.switchSite")
  SwitchResult switchSite(SiteRequest request);

  /**
   * Point an enabled-site symlink at another config file; then test and reload nginx. With a probe,
   * the result carries the downtime seen while switching.
   */
  @ActivityMethod(name = "Proxy.linkSite")
  SwitchResult linkSite(LinkSiteRequest request);

  /**
   * Check that a URL answers as expected. Fails with the retryable type {@code ProbeFailed} until
   * it does, so the stub's retry policy is the polling loop.
   */
  @ActivityMethod(name = "Proxy.probe")
  ActionResult probe(ProbeRequest request);

  /**
   * The ENCODE proxy switch: in {@code configPath} on the proxy host, every {@code from} (the old
   * server's address) becomes {@code to}; the config is tested ({@code nginx.testCommand}) and
   * nginx <em>reloaded</em> ({@code nginx.reloadCommand}). The adapter refuses, before touching
   * anything, a reload command that would restart or stop nginx (type {@code RestartRefused}): a
   * restart drops every connection. Then {@code probe} is watched until it settles; the result
   * carries the measured downtime. Idempotent: already switched is success, not changed.
   */
  record UpstreamSwitchRequest(
      String step,
      HostRef host,
      dev.crewchief.config.NginxConfig nginx,
      String configPath,
      String from,
      String to,
      SwitchProbe probe,
      boolean dryRun) {}

  @ActivityMethod(name = "Proxy.switchUpstream")
  SwitchResult switchUpstream(UpstreamSwitchRequest request);
}
