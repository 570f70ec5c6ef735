package dev.crewchief.activities;

/**
 * An HTTP GET made on the host (so it sees what the host's users see), optionally with a Host
 * header, that must answer 200 with a body containing {@code expect}.
 */
public record ProbeRequest(
    String step, HostRef host, String url, String hostHeader, String expect, boolean dryRun) {}
