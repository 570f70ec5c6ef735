package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;

/** {@code atmosphere-release}: the runbook's whole calendar. */
public final class AtmosphereReleaseRunbook extends RunbookDescriptor {
  static final String WINDOW = "window";
  static final String CREW_CHIEF = "crew-chief";
  static final String DRIVER = "driver";

  public AtmosphereReleaseRunbook() {
    super(
        new Spec(
            AtmosphereRelease.RUNBOOK,
            "Atmosphere: the whole release calendar, notice to deployment day",
            "Atmosphere: the whole release calendar. The maintenance notice goes out the notice"
                + " lead (config) before the window and at least two working days before it; the"
                + " changelog is cut and tagged and the images awaited; deployment day runs on the beta"
                + " environment, the crew chief approves tested-on-beta, and in the window deployment day"
                + " runs on this environment, with the driver's tested-in-production gate.",
            AtmosphereRelease.TYPE,
            List.of(AtmosphereReleaseImpl.class, AtmosphereDeploymentDayImpl.class),
            AtmospherePlans.VERSION,
            AtmospherePlans::containers,
            AtmospherePlans.SECTION,
            AtmospherePlans.EXAMPLE,
            List.of(
                StartOption.required(
                    WINDOW,
                    "TIME",
                    "start of the maintenance window, ISO-8601 UTC, e.g. 2026-12-10T16:00:00Z"),
                StartOption.required(
                    CREW_CHIEF, "NAME", "who owns this release (passes tested-on-beta)"),
                StartOption.required(
                    DRIVER, "NAME", "who performs and tests it (passes tested-in-production)")),
            List.of(
                new GateSpec(
                    AtmosphereRelease.BETA_GATE,
                    List.of("crew-chief"),
                    "the crew chief has seen the release work on beta"),
                new GateSpec(
                    DeploymentDay.TEST_GATE,
                    List.of("driver"),
                    "the driver has tested the new version in production"))));
  }

  @Override
  public Object plan(StartRequest r) {
    Instant window;
    try {
      window = Instant.parse(r.option(WINDOW));
    } catch (DateTimeParseException | NullPointerException e) {
      throw new IllegalArgumentException(
          "--window '"
              + r.option(WINDOW)
              + "' is not an ISO-8601 UTC time such as 2026-12-10T16:00:00Z");
    }
    if (!window.isAfter(r.now())) {
      throw new IllegalArgumentException(
          "--window "
              + window
              + " is in the past (it is now "
              + r.now()
              + "); the earliest possible window is "
              + MaintenanceCalendar.earliestWindow(r.now()));
    }
    Instant deadline = MaintenanceCalendar.noticeDeadline(window);
    if (r.now().isAfter(deadline)) {
      throw new IllegalArgumentException(
          "--window "
              + window
              + " is too soon: the maintenance notice must go out two working days before it ("
              + deadline
              + "); the earliest possible window is "
              + MaintenanceCalendar.earliestWindow(r.now()));
    }
    String crewChief = r.option(CREW_CHIEF);
    String driver = r.option(DRIVER);
    // The release's own crew chief and driver are the people its gates accept.
    ReleaseContext ctx =
        r.context(this)
            .withApprovers(Map.of("crew-chief", List.of(crewChief), "driver", List.of(driver)));
    return new AtmospherePlans(r.config()).release(ctx, crewChief, driver, window);
  }
}
