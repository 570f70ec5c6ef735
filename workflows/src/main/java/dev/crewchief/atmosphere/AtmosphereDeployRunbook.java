package dev.crewchief.atmosphere;

import dev.crewchief.release.ReleaseContext;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** {@code atmosphere-deploy}: the runbook's "Upgrading with Atmosphere-Docker" alone. */
public final class AtmosphereDeployRunbook extends RunbookDescriptor {
  static final String DRIVER = "driver";
  static final String MESSAGE = "message";

  public AtmosphereDeployRunbook() {
    super(
        new Spec(
            AtmosphereDeploymentDay.RUNBOOK,
            "Atmosphere: deployment day alone on one environment, with the driver's gate",
            "Atmosphere: deployment day alone on one environment, e.g. atmobeta, or production"
                + " outside the release calendar (the runbook's \"Upgrading with Atmosphere-Docker\"):"
                + " both databases dumped, maintenance started, the proxy on the maintenance page, the"
                + " secrets checkout on its branch, containers stopped and committed to backup images,"
                + " the compose file's image tags set, new images pulled and containers recreated, the"
                + " driver's tested-in-production gate, the proxy back to the app, maintenance stopped."
                + " A failure or a rejection after the containers stopped restores the backups.",
            AtmosphereDeploymentDay.TYPE,
            List.of(AtmosphereDeploymentDayImpl.class),
            AtmospherePlans.VERSION,
            AtmospherePlans::containers,
            AtmospherePlans.SECTION,
            AtmospherePlans.EXAMPLE,
            List.of(
                StartOption.required(
                    DRIVER, "NAME", "who performs and tests it (passes tested-in-production)"),
                StartOption.optional(
                    MESSAGE,
                    "TEXT",
                    "the maintenance message (default: the environment's atmosphere.release.message)",
                    null)),
            List.of(
                new GateSpec(
                    DeploymentDay.TEST_GATE,
                    List.of("driver"),
                    "the driver has tested the new version in production"))));
  }

  @Override
  public Object plan(StartRequest r) {
    String driver = r.option(DRIVER);
    // The driver named here is the one person the day's gate accepts.
    ReleaseContext ctx = r.context(this).withApprovers(Map.of("driver", List.of(driver)));
    String today = r.now().atZone(ZoneOffset.UTC).toLocalDate().toString();
    return new AtmospherePlans(r.config()).deploymentDay(ctx, driver, r.option(MESSAGE), today);
  }
}
