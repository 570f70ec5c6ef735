package dev.crewchief.atmosphere;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/**
 * The runbook's notice rule: the maintenance notice must go out at least two working days (Monday
 * to Friday, UTC) before the window. Pure functions, so the workflow stays deterministic.
 */
final class MaintenanceCalendar {
  static final int NOTICE_WORKING_DAYS = 2;

  private MaintenanceCalendar() {}

  /** The latest moment the notice may go out for this window. */
  static Instant noticeDeadline(Instant window) {
    return shift(window, -NOTICE_WORKING_DAYS);
  }

  /** The earliest window whose notice can still go out at {@code now}. */
  static Instant earliestWindow(Instant now) {
    return shift(now, NOTICE_WORKING_DAYS);
  }

  /** When to send: {@code lead} before the window, or now if that is already past. */
  static Instant sendAt(Instant window, Duration lead, Instant now) {
    Instant planned = window.minus(lead);
    return planned.isBefore(now) ? now : planned;
  }

  /** Moves by whole working days, keeping the time of day. */
  static Instant shift(Instant from, int workingDays) {
    ZonedDateTime t = from.atZone(ZoneOffset.UTC);
    int step = workingDays < 0 ? -1 : 1;
    int left = Math.abs(workingDays);
    while (left > 0) {
      t = t.plusDays(step);
      if (t.getDayOfWeek() != DayOfWeek.SATURDAY && t.getDayOfWeek() != DayOfWeek.SUNDAY) {
        left--;
      }
    }
    return t.toInstant();
  }
}
