package dev.crewchief.runbook;

import dev.crewchief.config.ConfigException;
import dev.crewchief.config.EnvironmentConfig;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.release.ReleaseContext;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One start of a release, as the CLI (or another client) asks for it: the loaded config, the common
 * options, the runbook's own options by name, and the time of asking (for plans that name today's
 * date or check a window).
 *
 * @param searchAttributes the Crew Chief search attributes the server has registered
 */
public record StartRequest(
    LoadedConfig config,
    String environment,
    String version,
    boolean dryRun,
    String startedBy,
    Map<String, String> options,
    List<String> searchAttributes,
    Instant now) {

  /** The value of a runbook option, or null when it was not given and has no default. */
  public String option(String name) {
    return options == null ? null : options.get(name);
  }

  public EnvironmentConfig env() {
    return config.environment(environment);
  }

  /** The section of this environment, or a config error naming it and the example to copy. */
  public <T> T section(Runbook runbook) {
    ConfigSection<?> s = runbook.configSection();
    Object value = env().sections().get(s.key());
    if (value == null) {
      throw ConfigException.at(
          config.source(),
          "environments." + environment + "." + s.key(),
          "missing: this environment has no "
              + s.key()
              + " settings (see "
              + runbook.exampleConfig()
              + ")");
    }
    @SuppressWarnings("unchecked")
    T typed = (T) s.type().cast(value);
    return typed;
  }

  /** The release's context with the environment's people, gates and notification channels. */
  public ReleaseContext context(Runbook runbook) {
    return ReleaseContexts.of(this, runbook.name());
  }
}
