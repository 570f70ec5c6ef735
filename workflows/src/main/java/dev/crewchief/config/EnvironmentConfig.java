package dev.crewchief.config;

import java.util.List;
import java.util.Map;

/**
 * One environment (sandbox, staging, prod): its people, hosts, gates and notification channels,
 * which every runbook shares, and the runbooks' own settings by section key ({@code randopony},
 * {@code atmosphere}), each already read into its runbook's record.
 *
 * @param approvers role name to the people who hold it
 * @param people person to their e-mail address and SSH public key (both optional)
 * @param sections a runbook section's key to its settings (see dev.crewchief.runbook)
 */
public record EnvironmentConfig(
    Map<String, List<String>> approvers,
    Map<String, HostConfig> hosts,
    Map<String, GateConfig> gates,
    Map<String, PersonConfig> people,
    NotifyConfig notifications,
    Map<String, Object> sections) {

  /** A runbook's settings, or null when the environment has none. */
  public <T> T section(String key, Class<T> type) {
    Object v = sections == null ? null : sections.get(key);
    return v == null ? null : type.cast(v);
  }
}
