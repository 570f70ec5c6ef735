package dev.crewchief.randopony;

import dev.crewchief.runbook.RunbookDescriptor;
import dev.crewchief.runbook.StartRequest;
import java.util.List;

/** {@code randopony-staging}: the runbook's initial staging deployment and later updates. */
public final class StagingDeployRunbook extends RunbookDescriptor {
  public StagingDeployRunbook() {
    super(
        new Spec(
            StagingDeploy.RUNBOOK,
            "RandoPony: deploy a release to its staging app (first deployment or update)",
            "RandoPony: deploy a release to its staging app. A first deployment uploads the code,"
                + " creates the virtualenv and installs the app, removes the template files, sets"
                + " the port, tightens the credentials to 400, links staging.ini, creates the"
                + " staging database and starts the app and supervisor; an update uploads what"
                + " changed, reinstalls and restarts. Then the staging domain is attached and"
                + " probed.",
            StagingDeploy.TYPE,
            List.of(StagingDeployImpl.class),
            RandoPonyPlans.VERSION,
            StagingDeployImpl::lane,
            RandoPonyPlans.SECTION,
            RandoPonyPlans.EXAMPLE,
            List.of(),
            List.of()));
  }

  @Override
  public Object plan(StartRequest r) {
    RandoPonySite site = RandoPonyPlans.site(r, this, List.of(r.version()));
    return new StagingDeployRequest(r.context(this), site);
  }
}
