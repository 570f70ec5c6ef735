package dev.crewchief.atmosphere;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Two working days' notice, counted Monday to Friday in UTC. */
class MaintenanceCalendarTest {
  @Test
  void aTuesdayWindowNeedsTheNoticeOutByFriday() {
    // 2026-12-15 is a Tuesday.
    assertEquals(
        Instant.parse("2026-12-11T16:00:00Z"),
        MaintenanceCalendar.noticeDeadline(Instant.parse("2026-12-15T16:00:00Z")));
  }

  @Test
  void aMondayWindowNeedsTheNoticeOutByThursdayAcrossTheWeekend() {
    // 2026-12-14 is a Monday.
    assertEquals(
        Instant.parse("2026-12-10T09:00:00Z"),
        MaintenanceCalendar.noticeDeadline(Instant.parse("2026-12-14T09:00:00Z")));
  }

  @Test
  void fromAFridayTheEarliestWindowIsTuesday() {
    assertEquals(
        Instant.parse("2026-12-15T10:30:00Z"),
        MaintenanceCalendar.earliestWindow(Instant.parse("2026-12-11T10:30:00Z")));
  }

  @Test
  void theNoticeGoesOutTwoWeeksAheadOrAtOnceWhenThatIsPast() {
    Instant window = Instant.parse("2026-12-30T16:00:00Z");
    Instant early = Instant.parse("2026-12-01T00:00:00Z");
    assertEquals(
        Instant.parse("2026-12-16T16:00:00Z"),
        MaintenanceCalendar.sendAt(window, Duration.ofDays(14), early));
    Instant late = Instant.parse("2026-12-20T08:00:00Z");
    assertEquals(late, MaintenanceCalendar.sendAt(window, Duration.ofDays(14), late));
  }
}
