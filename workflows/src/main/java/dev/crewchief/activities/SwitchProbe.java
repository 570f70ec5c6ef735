package dev.crewchief.activities;

/**
 * How a traffic switch is watched while it happens: the adapter asks {@code url} (on the proxy's
 * host, with {@code hostHeader} when set) every {@code intervalMillis} from just before the switch
 * until the answer has settled, and counts every answer that is not the service up as downtime.
 *
 * @param upText an answer with status {@code upStatus} whose body contains this is the service up;
 *     anything else (an error, a refused connection, the maintenance page) is downtime. Null: the
 *     status alone says the service is up (for an app whose pages say nothing the probe can count
 *     on)
 * @param settleText the switch has settled once three answers in a row contain this (the app's text
 *     when switching to the app, the maintenance text when switching to the maintenance page)
 * @param settleStatus or, when set instead of {@code settleText}, three answers in a row with this
 *     HTTP status (503 for a detached domain)
 * @param upStatus the status of an answer that is the service up; 200 when null (as in histories
 *     recorded before it existed)
 */
public record SwitchProbe(
    String url,
    String hostHeader,
    String upText,
    String settleText,
    Integer settleStatus,
    int intervalMillis,
    Integer upStatus) {

  public SwitchProbe(
      String url,
      String hostHeader,
      String upText,
      String settleText,
      Integer settleStatus,
      int intervalMillis) {
    this(url, hostHeader, upText, settleText, settleStatus, intervalMillis, null);
  }

  /** The status of an answer that is the service up. */
  public int upStatusOr200() {
    return upStatus == null ? 200 : upStatus;
  }
}
