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
}
