package dev.crewchief.release;

import dev.crewchief.config.GateConfig;
import java.util.List;
import java.util.Map;

/**
 * What every release knows about itself, resolved from config by the CLI and carried in the
 * workflow input so that the history shows exactly which people and rules applied. It holds no
 * secret: hosts carry key references only.
 *
 * @param approvers role name to the people who hold it
 * @param gates gate name to its policy; a gate missing here uses {@link GateConfig} defaults
 * @param searchAttributes the Crew Chief search attributes the server has registered; the workflow
 *     upserts only these, since an unregistered one fails the workflow task
 */
public record ReleaseContext(
    String runbook,
    String environment,
    String version,
    boolean dryRun,
    String startedBy,
    Map<String, List<String>> approvers,
    Map<String, GateConfig> gates,
    List<String> searchAttributes) {

  public String releaseId() {
    return ReleaseIds.workflowId(runbook, environment, version);
  }

  /** The same release with other approvers (a release's own crew chief and driver, say). */
  public ReleaseContext withApprovers(Map<String, List<String>> people) {
    return new ReleaseContext(
        runbook, environment, version, dryRun, startedBy, people, gates, searchAttributes);
  }
}
