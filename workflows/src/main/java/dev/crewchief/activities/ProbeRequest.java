package dev.crewchief.activities;

/**
 * An HTTP GET made on the host (so it sees what the host's users see), optionally with a Host
 * header, that must answer {@code expectStatus} (200 when null, as in histories recorded before it
 * existed) with a body containing {@code expect} (any body when null).
 */
public record ProbeRequest(
    String step,
    HostRef host,
    String url,
    String hostHeader,
    String expect,
    boolean dryRun,
    Integer expectStatus) {

  public ProbeRequest(
      String step, HostRef host, String url, String hostHeader, String expect, boolean dryRun) {
    this(step, host, url, hostHeader, expect, dryRun, null);
  }

  /** The status the probe expects. */
  public int status() {
    return expectStatus == null ? 200 : expectStatus;
  }
}
