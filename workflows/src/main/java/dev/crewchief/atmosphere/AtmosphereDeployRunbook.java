package dev.crewchief.atmosphere;

import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseContext;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.runbook.VersionFormat;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** {@code atmosphere-deploy}: the runbook's "Upgrading with Atmosphere-Docker" alone. */
public final class AtmosphereDeployRunbook implements Runbook {
  static final String DRIVER = "driver";
  static final String MESSAGE = "message";

  @Override
  public String name() {
    return AtmosphereDeploymentDay.RUNBOOK;
  }

  @Override
  public String summary() {
    return "Atmosphere: deployment day alone on one environment, with the driver's gate";
  }

  @Override
  public String description() {
    return "Atmosphere: deployment day alone on one environment, e.g. atmobeta, or production"
        + " outside the release calendar (the runbook's \"Upgrading with Atmosphere-Docker\"):"
        + " both databases dumped, maintenance started, the proxy on the maintenance page, the"
        + " secrets checkout on its branch, containers stopped and committed to backup images,"
        + " the compose file's image tags set, new images pulled and containers recreated, the"
        + " driver's tested-in-production gate, the proxy back to the app, maintenance stopped."
        + " A failure or a rejection after the containers stopped restores the backups.";
  }

  @Override
  public String workflowType() {
    return AtmosphereDeploymentDay.TYPE;
  }

  @Override
  public List<Class<?>> workflowImplementations() {
    return List.of(AtmosphereDeploymentDayImpl.class);
  }

  @Override
  public VersionFormat versionFormat() {
    return AtmospherePlans.VERSION;
  }

  @Override
  public Lane lane(String environment) {
    return AtmospherePlans.containers(environment);
  }

  @Override
  public ConfigSection<?> configSection() {
    return AtmospherePlans.SECTION;
  }

  @Override
  public String exampleConfig() {
    return AtmospherePlans.EXAMPLE;
  }

  @Override
  public List<StartOption> options() {
    return List.of(
        StartOption.required(
            DRIVER, "NAME", "who performs and tests it (passes tested-in-production)"),
        StartOption.optional(
            MESSAGE,
            "TEXT",
            "the maintenance message (default: the environment's atmosphere.release.message)",
            null));
  }

  @Override
  public List<GateSpec> gates() {
    return List.of(
        new GateSpec(
            DeploymentDay.TEST_GATE,
            List.of("driver"),
            "the driver has tested the new version in production"));
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
