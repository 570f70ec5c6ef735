package dev.crewchief.activities;

import dev.crewchief.config.NginxConfig;

/**
 * Point an enabled-site symlink ({@code link}, e.g. /etc/nginx/sites-enabled/proxy.conf) at another
 * config file ({@code target}: the maintenance page's or the app's), as the runbook does with
 * {@code ln -sf}; then nginx's own test and a reload (never a restart). A config nginx rejects puts
 * the old link back and fails the step. Idempotent: a link already on the target is only reloaded.
 * With a {@code probe}, the switch is watched and its downtime measured (see {@link SwitchProbe}).
 */
public record LinkSiteRequest(
    String step,
    HostRef host,
    NginxConfig nginx,
    String link,
    String target,
    boolean dryRun,
    SwitchProbe probe) {

  /** A switch that is not watched. */
  public LinkSiteRequest(
      String step, HostRef host, NginxConfig nginx, String link, String target, boolean dryRun) {
    this(step, host, nginx, link, target, dryRun, null);
  }
}
