package dev.crewchief.release;

import dev.crewchief.atmosphere.AtmosphereDeploymentDayImpl;
import dev.crewchief.atmosphere.AtmosphereHotfixImpl;
import dev.crewchief.atmosphere.AtmosphereReleaseImpl;
import dev.crewchief.randopony.PromoteToProductionImpl;
import dev.crewchief.randopony.StagingDeployImpl;

/**
 * Every release workflow implementation, in one list: the worker registers these, and the replay
 * tests replay recorded histories against them, so a new runbook cannot be left out of either.
 */
public final class ReleaseWorkflows {
  private ReleaseWorkflows() {}

  public static Class<?>[] implementations() {
    return new Class<?>[] {
      StagingDeployImpl.class,
      PromoteToProductionImpl.class,
      AtmosphereHotfixImpl.class,
      AtmosphereReleaseImpl.class,
      AtmosphereDeploymentDayImpl.class
    };
  }
}
