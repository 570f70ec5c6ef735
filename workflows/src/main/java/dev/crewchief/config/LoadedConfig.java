package dev.crewchief.config;

import java.util.TreeSet;

/** A config with the file it came from, so that every error can name that file. */
public record LoadedConfig(String source, CrewChiefConfig config) {

  /** The named environment, or an error listing the known ones. */
  public EnvironmentConfig environment(String name) {
    EnvironmentConfig env = config.environments().get(name);
    if (env == null) {
      throw ConfigException.at(
          source,
          "environments." + name,
          "unknown environment '"
              + name
              + "'; known: "
              + String.join(", ", new TreeSet<>(config.environments().keySet())));
    }
    return env;
  }
}
