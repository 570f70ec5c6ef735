package dev.crewchief.randopony;

import dev.crewchief.activities.PathFacts;
import dev.crewchief.release.Lane;
import dev.crewchief.release.ReleaseResult;
import dev.crewchief.release.ReleaseWorkflow;
import io.temporal.workflow.WorkflowInit;
import java.util.List;

/**
 * Initial staging deployment and later updates ({@code init_staging} / {@code deploy_staging}).
 * Whether this is the first deployment is read off the host, so one workflow serves both.
 */
public final class StagingDeployImpl extends ReleaseWorkflow implements StagingDeploy {

  /** The release exists before the first signal or update can arrive. */
  @WorkflowInit
  public StagingDeployImpl(StagingDeployRequest request) {
    super(request.context());
  }

  /** One staging deployment at a time per environment. */
  static Lane lane(String environment) {
    return Lane.of(RUNBOOK, environment);
  }

  @Override
  public ReleaseResult deploy(StagingDeployRequest request) {
    String summary =
        release.run(
            lane(request.context().environment()),
            request,
            () -> {
              String rel = request.context().version();
              RandoPonySite site = request.site();
              RandoPonyValidation.check(rel, site);
              RandoPonySteps steps = new RandoPonySteps(release, site);
              String app = site.appDir(rel);

              PathFacts facts =
                  steps.inspect(
                      "inspect staging app",
                      List.of(
                          app,
                          site.venv(rel) + "/bin/python",
                          app + "/" + RandoPonySite.database("staging"),
                          app + "/production.ini"));
              boolean first;
              if (!facts.known()) {
                first = true;
                release.note("dry run: the host was not inspected; rehearsing a first deployment");
              } else {
                if (!facts.exists(app)) {
                  throw new IllegalArgumentException(
                      "app directory "
                          + app
                          + " does not exist on "
                          + site.host().describe()
                          + ": create the app "
                          + site.appName()
                          + rel
                          + " in the hosting control panel first");
                }
                if (facts.exists(app + "/production.ini")) {
                  throw new IllegalArgumentException(
                      "release "
                          + rel
                          + " has been promoted to production: deploy a new release to staging");
                }
                first = !facts.exists(app + "/" + RandoPonySite.database("staging"));
              }
              release.note(first ? "first deployment of " + rel : "update of " + rel);

              steps.sync("upload code (changed files, removed ones deleted)", rel);
              if (first || !facts.exists(site.venv(rel) + "/bin/python")) {
                steps.run("create virtualenv", steps.commands.createVirtualenv(rel));
              } else {
                release.skip("create virtualenv", "exists");
              }
              steps.run("install app into virtualenv", steps.commands.installApp(rel));
              if (first) {
                steps.run("delete template app files", steps.commands.removeTemplateFiles(rel));
              } else {
                release.skip("delete template app files", "done at the first deployment");
              }
              steps.run("set app port in ini files", steps.commands.setPort(rel));
              String credentials = steps.commands.tightenCredentials(rel);
              if (credentials == null) {
                release.skip("credentials to mode 400", "randopony.credentialFiles is empty");
              } else {
                steps.run("credentials to mode 400", credentials);
              }
              steps.run(
                  "symlink staging.ini and app dir, bin/start uses staging.ini",
                  steps.commands.linkConfig(rel, "staging"));
              if (first) {
                steps.run("create staging database", steps.commands.initDatabase(rel, "staging"));
                steps.run("start app", steps.commands.startApp(rel));
              } else {
                release.skip("create staging database", "exists");
                steps.run("stop app", steps.commands.stopApp(rel));
                steps.run("start app", steps.commands.startApp(rel));
              }
              steps.probe(
                  "app answers on its port", "http://127.0.0.1:" + site.port(rel) + "/", null, rel);
              if (!first) {
                steps.run("stop staging supervisor", steps.commands.stopSupervisor(rel));
              }
              steps.run("start staging supervisor and celery", steps.commands.startSupervisor(rel));
              steps.site("attach staging domain", site.stagingDomain(), rel, true);
              steps.probe(
                  "staging domain serves the app",
                  site.nginx().probeUrl(),
                  site.stagingDomain(),
                  rel);
              return (request.context().dryRun() ? "rehearsed: " : "")
                  + site.appName()
                  + rel
                  + " deployed to staging at "
                  + site.stagingDomain();
            });
    return new ReleaseResult(summary, release.progress());
  }
}
