package dev.crewchief.activities;

import java.time.Instant;

/**
 * What a switch step's probes saw: {@code probes} answers, {@code down} of them not the service up
 * (failed, refused, or the maintenance page), the first and last of those, and the time between
 * them plus one probe interval ({@code millis}, 0 when no answer was down). {@code settled} says
 * whether the answer reached the switch's expected state before the adapter stopped watching.
 */
public record Downtime(
    int probes, int down, Instant firstDown, Instant lastDown, long millis, boolean settled) {

  /** One line for the report: "down 1.2 s (24 of 80 probes)" or "no downtime (80 probes)". */
  public String describe() {
    String seen = probes + " probe" + (probes == 1 ? "" : "s");
    String tail = settled ? "" : ", not settled when the watch ended";
    if (down == 0) {
      return "no downtime (" + seen + tail + ")";
    }
    return "down " + millis + " ms (" + down + " of " + seen + " down" + tail + ")";
  }
}
