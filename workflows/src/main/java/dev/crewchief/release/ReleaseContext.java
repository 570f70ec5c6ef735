package dev.crewchief.release;

import dev.crewchief.activities.NotifyChannels;
import dev.crewchief.config.GateConfig;
import java.util.List;
import java.util.Map;

/**
 * What every release knows about itself, resolved from config by the CLI and carried in the
 * workflow input so that the history shows exactly which people and rules applied. It holds no
 * secret: hosts and channels carry references only.
 *
 * @param approvers role name to the people who hold it
 * @param gates gate name to its policy; a gate missing here uses {@link GateConfig} defaults
 * @param searchAttributes the Crew Chief search attributes the server has registered; the workflow
 *     upserts only these, since an unregistered one fails the workflow task
 * @param people the environment's people: e-mail addresses and public keys (null for releases
 *     started before people were configured)
 * @param notifications where notifications go besides the worker's log (null: the log only)
 */
public record ReleaseContext(
    String runbook,
    String environment,
    String version,
    boolean dryRun,
    String startedBy,
    Map<String, List<String>> approvers,
    Map<String, GateConfig> gates,
    List<String> searchAttributes,
    Map<String, Person> people,
    NotifyChannels notifications) {

  /** A context without people's details or notification channels. */
  public ReleaseContext(
      String runbook,
      String environment,
      String version,
      boolean dryRun,
      String startedBy,
      Map<String, List<String>> approvers,
      Map<String, GateConfig> gates,
      List<String> searchAttributes) {
    this(
        runbook,
        environment,
        version,
        dryRun,
        startedBy,
        approvers,
        gates,
        searchAttributes,
        null,
        null);
  }

  public String releaseId() {
    return ReleaseIds.workflowId(runbook, environment, version);
  }

  /** The same release with other approvers (a release's own crew chief and driver, say). */
  public ReleaseContext withApprovers(Map<String, List<String>> roles) {
    return new ReleaseContext(
        runbook,
        environment,
        version,
        dryRun,
        startedBy,
        roles,
        gates,
        searchAttributes,
        people,
        notifications);
  }

  /** The same people and rules for another release (a release's beta day, say). */
  public ReleaseContext forRelease(String otherRunbook, String otherEnvironment) {
    return new ReleaseContext(
        otherRunbook,
        otherEnvironment,
        version,
        dryRun,
        startedBy,
        approvers,
        gates,
        searchAttributes,
        people,
        notifications);
  }

  /** The roles that pass a gate: the environment's configured ones, else the runbook's. */
  public List<String> rolesAt(String gate, List<String> defaultRoles) {
    GateConfig configured = gates == null ? null : gates.get(gate);
    return configured == null || configured.roles() == null || configured.roles().isEmpty()
        ? defaultRoles
        : configured.roles();
  }

  /** Whether the environment configures this gate to take signed decisions only. */
  public boolean signedAt(String gate) {
    GateConfig configured = gates == null ? null : gates.get(gate);
    return configured != null && configured.signatureRequired();
  }

  /** The people holding any of the roles, each once, in the order the roles list them. */
  public List<String> holders(List<String> roles) {
    List<String> people = new java.util.ArrayList<>();
    for (String role : roles) {
      List<String> held = approvers == null ? null : approvers.get(role);
      if (held != null) {
        for (String p : held) {
          if (!people.contains(p)) {
            people.add(p);
          }
        }
      }
    }
    return people;
  }

  /** A person's details, or null. */
  public Person person(String name) {
    return people == null || name == null ? null : people.get(name);
  }
}
