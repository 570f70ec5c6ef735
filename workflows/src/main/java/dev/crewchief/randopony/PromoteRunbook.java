package dev.crewchief.randopony;

import dev.crewchief.release.Lane;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.runbook.VersionFormat;
import java.util.List;

/** {@code randopony-promote}: the runbook's promote_staging_to_production. */
public final class PromoteRunbook implements Runbook {
  static final String PREVIOUS = "previous";

  @Override
  public String name() {
    return PromoteToProduction.RUNBOOK;
  }

  @Override
  public String summary() {
    return "RandoPony: promote a staging release to production";
  }

  @Override
  public String description() {
    return "RandoPony: promote a staging release to production. After the crew chief confirms"
        + " the release ids (gate confirm-release): staging app and supervisor stopped, staging"
        + " databases and logs archived then deleted, the ini symlink switched to production, a"
        + " fresh production database (--previous none) or the old production app stopped and"
        + " its databases copied over, the domain moved to the new app, everything started and"
        + " the production domain probed. A failure, rejection or cancellation puts the old"
        + " production back.";
  }

  @Override
  public String workflowType() {
    return PromoteToProduction.TYPE;
  }

  @Override
  public List<Class<?>> workflowImplementations() {
    return List.of(PromoteToProductionImpl.class);
  }

  @Override
  public VersionFormat versionFormat() {
    return RandoPonyPlans.VERSION;
  }

  @Override
  public Lane lane(String environment) {
    return PromoteToProductionImpl.lane(environment);
  }

  @Override
  public ConfigSection<?> configSection() {
    return RandoPonyPlans.SECTION;
  }

  @Override
  public String exampleConfig() {
    return RandoPonyPlans.EXAMPLE;
  }

  @Override
  public List<StartOption> options() {
    return List.of(
        StartOption.required(
            PREVIOUS,
            "RELEASE",
            "the production release whose data moves over, or 'none' for a fresh database"));
  }

  @Override
  public List<GateSpec> gates() {
    return List.of(
        new GateSpec(
            PromoteToProduction.CONFIRM_GATE,
            List.of("crew-chief"),
            "confirm the release ids before staging data is deleted"));
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
