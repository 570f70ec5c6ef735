package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseContext;
import java.time.Instant;

/**
 * A whole Atmosphere release, from the notice two weeks ahead to the end of maintenance. The
 * context's approvers are the release's own crew chief and driver.
 */
public record AtmosphereReleaseRequest(
    ReleaseContext context,
    String crewChief,
    String driver,
    Instant window,
    String maintenanceMessage,
    NoticePlan notice,
    CandidatePlan candidate,
    DayPlan beta,
    DayPlan production)
    implements dev.crewchief.release.ReleaseInput {}
