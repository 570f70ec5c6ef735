package dev.crewchief.activities;

import dev.crewchief.config.NginxConfig;

/**
 * Point a domain's nginx server block at an app's port, or detach it ({@code upstreamPort} null) so
 * that it answers 503. The block is written, tested with nginx's own check, and nginx reloaded
 * (never restarted); a config nginx rejects is put back and fails the step.
 */
public record SiteRequest(
    String step,
    HostRef host,
    NginxConfig nginx,
    String domain,
    Integer upstreamPort,
    boolean dryRun) {}
