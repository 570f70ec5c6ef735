package dev.crewchief.activities;

import dev.crewchief.config.NginxConfig;

/**
 * Point a domain's nginx server block at an app's port, or detach it ({@code upstreamPort} null) so
 * that it answers 503. The block is written, tested with nginx's own check, and nginx reloaded
 * (never restarted); a config nginx rejects is put back and fails the step. With a {@code probe},
 * the switch is watched and its downtime measured (see {@link SwitchProbe}). {@code settings} is
 * where the nginx settings are in the config (e.g. {@code randopony.nginx}), for the message that
 * names the setting to change when a command of theirs is not found on the host; null when not
 * known (and in histories recorded before it existed).
 */
public record SiteRequest(
    String step,
    HostRef host,
    NginxConfig nginx,
    String domain,
    Integer upstreamPort,
    boolean dryRun,
    SwitchProbe probe,
    String settings) {

  /** A switch watched by {@code probe}, its settings' place in the config unknown. */
  public SiteRequest(
      String step,
      HostRef host,
      NginxConfig nginx,
      String domain,
      Integer upstreamPort,
      boolean dryRun,
      SwitchProbe probe) {
    this(step, host, nginx, domain, upstreamPort, dryRun, probe, null);
  }

  /** A switch that is not watched. */
  public SiteRequest(
      String step,
      HostRef host,
      NginxConfig nginx,
      String domain,
      Integer upstreamPort,
      boolean dryRun) {
    this(step, host, nginx, domain, upstreamPort, dryRun, null, null);
  }
}
