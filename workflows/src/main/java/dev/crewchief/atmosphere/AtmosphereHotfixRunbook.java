package dev.crewchief.atmosphere;

import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import java.util.List;

/** {@code atmosphere-hotfix}: the runbook's "Hotfixing", with no downtime. */
public final class AtmosphereHotfixRunbook extends RunbookDescriptor {
  static final String SERVICE = "service";

  public AtmosphereHotfixRunbook() {
    super(
        new Spec(
            AtmosphereHotfix.RUNBOOK,
            "Atmosphere: swap a service's container for the version's image, no downtime",
            "Atmosphere: swap a service's container for one on the version's image with no"
                + " downtime: the compose file's tag set, the image pulled, a second container started"
                + " next to the running one without recreating it and awaited until ready, the old one"
                + " removed, nginx restarted in the proxy service. Until the old container is gone, a"
                + " failure removes the new one and the old one keeps serving.",
            AtmosphereHotfix.TYPE,
            List.of(AtmosphereHotfixImpl.class),
            AtmospherePlans.VERSION,
            AtmosphereHotfixImpl::lane,
            AtmospherePlans.SECTION,
            AtmospherePlans.EXAMPLE,
            List.of(
                StartOption.optional(
                    SERVICE, "NAME", "the compose service to hotfix", "atmosphere")),
            List.of()));
  }

  @Override
  public Object plan(StartRequest r) {
    String service = r.option(SERVICE);
    AtmosphereSite site = new AtmospherePlans(r.config()).site(r.environment(), List.of(service));
    return new HotfixRequest(r.context(this), site, service);
  }
}
