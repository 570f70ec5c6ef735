package dev.crewchief.atmosphere;

import dev.crewchief.release.Lane;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.runbook.VersionFormat;
import java.util.List;

/** {@code atmosphere-hotfix}: the runbook's "Hotfixing", with no downtime. */
public final class AtmosphereHotfixRunbook implements Runbook {
  static final String SERVICE = "service";

  @Override
  public String name() {
    return AtmosphereHotfix.RUNBOOK;
  }

  @Override
  public String summary() {
    return "Atmosphere: swap a service's container for the version's image, no downtime";
  }

  @Override
  public String description() {
    return "Atmosphere: swap a service's container for one on the version's image with no"
        + " downtime: the compose file's tag set, the image pulled, a second container started"
        + " next to the running one without recreating it and awaited until ready, the old one"
        + " removed, nginx restarted in the proxy service. Until the old container is gone, a"
        + " failure removes the new one and the old one keeps serving.";
  }

  @Override
  public String workflowType() {
    return AtmosphereHotfix.TYPE;
  }

  @Override
  public List<Class<?>> workflowImplementations() {
    return List.of(AtmosphereHotfixImpl.class);
  }

  @Override
  public VersionFormat versionFormat() {
    return AtmospherePlans.VERSION;
  }

  @Override
  public Lane lane(String environment) {
    return AtmosphereHotfixImpl.lane(environment);
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
        StartOption.optional(SERVICE, "NAME", "the compose service to hotfix", "atmosphere"));
  }

  @Override
  public List<GateSpec> gates() {
    return List.of();
  }

  @Override
  public Object plan(StartRequest r) {
    String service = r.option(SERVICE);
    AtmosphereSite site = new AtmospherePlans(r.config()).site(r.environment(), List.of(service));
    return new HotfixRequest(r.context(this), site, service);
  }
}
