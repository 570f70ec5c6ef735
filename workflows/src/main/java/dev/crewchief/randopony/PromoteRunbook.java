package dev.crewchief.randopony;

import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import java.util.List;

/** {@code randopony-promote}: the runbook's promote_staging_to_production. */
public final class PromoteRunbook extends RunbookDescriptor {
  static final String PREVIOUS = "previous";

  public PromoteRunbook() {
    super(
        new Spec(
            PromoteToProduction.RUNBOOK,
            "RandoPony: promote a staging release to production",
            "RandoPony: promote a staging release to production. After the crew chief confirms"
                + " the release ids (gate confirm-release): staging app and supervisor stopped, staging"
                + " databases and logs archived then deleted, the ini symlink switched to production, a"
                + " fresh production database (--previous none) or the old production app stopped and"
                + " its databases copied over, the domain moved to the new app, everything started and"
                + " the production domain probed. A failure, rejection or cancellation puts the old"
                + " production back.",
            PromoteToProduction.TYPE,
            List.of(PromoteToProductionImpl.class),
            RandoPonyPlans.VERSION,
            PromoteToProductionImpl::lane,
            RandoPonyPlans.SECTION,
            RandoPonyPlans.EXAMPLE,
            List.of(
                StartOption.required(
                    PREVIOUS,
                    "RELEASE",
                    "the production release whose data moves over, or 'none' for a fresh database")),
            List.of(
                new GateSpec(
                    PromoteToProduction.CONFIRM_GATE,
                    List.of("crew-chief"),
                    "confirm the release ids before staging data is deleted"))));
  }

  @Override
  public Object plan(StartRequest r) {
    String previous = r.option(PREVIOUS);
    String prev = previous == null || previous.equals("none") ? null : previous;
    if (previous == null) {
      throw new IllegalArgumentException(
          "--previous is required: the production release whose data moves over, or 'none'");
    }
    if (prev != null && !RandoPonyPlans.VERSION.matches(prev)) {
      throw new IllegalArgumentException(
          "--previous '" + previous + "' is not a RandoPony release id (e.g. 2013r1) or 'none'");
    }
    if (r.version().equals(prev)) {
      throw new IllegalArgumentException("--previous must differ from --version");
    }
    RandoPonySite site =
        RandoPonyPlans.site(
            r, this, prev == null ? List.of(r.version()) : List.of(r.version(), prev));
    return new PromoteRequest(r.context(this), site, prev);
  }
}
