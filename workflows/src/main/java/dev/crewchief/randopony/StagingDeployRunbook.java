package dev.crewchief.randopony;

import dev.crewchief.release.Lane;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.GateSpec;
import dev.crewchief.runbook.Runbook;
import dev.crewchief.runbook.StartOption;
import dev.crewchief.runbook.StartRequest;
import dev.crewchief.runbook.VersionFormat;
import java.util.List;

/** {@code randopony-staging}: the runbook's initial staging deployment and later updates. */
public final class StagingDeployRunbook implements Runbook {
  @Override
  public String name() {
    return StagingDeploy.RUNBOOK;
  }

  @Override
  public String summary() {
    return "RandoPony: deploy a release to its staging app (first deployment or update)";
  }

  @Override
  public String description() {
    return "RandoPony: deploy a release to its staging app. A first deployment uploads the code,"
        + " creates the virtualenv and installs the app, removes the template files, sets the"
        + " port, tightens the credentials to 400, links staging.ini, creates the staging"
        + " database and starts the app and supervisor; an update uploads what changed,"
        + " reinstalls and restarts. Then the staging domain is attached and probed.";
  }

  @Override
  public String workflowType() {
    return StagingDeploy.TYPE;
  }

  @Override
  public List<Class<?>> workflowImplementations() {
    return List.of(StagingDeployImpl.class);
  }

  @Override
  public VersionFormat versionFormat() {
    return RandoPonyPlans.VERSION;
  }

  @Override
  public Lane lane(String environment) {
    return StagingDeployImpl.lane(environment);
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
    return List.of();
  }

  @Override
  public List<GateSpec> gates() {
    return List.of();
  }

  @Override
  public Object plan(StartRequest r) {
    RandoPonySite site = RandoPonyPlans.site(r, this, List.of(r.version()));
    return new StagingDeployRequest(r.context(this), site);
  }
}
