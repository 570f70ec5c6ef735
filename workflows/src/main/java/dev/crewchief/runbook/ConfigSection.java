package dev.crewchief.runbook;

import dev.crewchief.config.LoadedConfig;

/**
 * A runbook's settings under {@code environments.ENV.KEY}, read into {@code type} (a record) when
 * the config file is loaded, and checked there by {@code check} (what its runbooks' plans will
 * need, as far as it can be known before a start), so that a mistake in them is found before
 * anything starts, by the worker as by the CLI. Several runbooks of one team share a section
 * (randopony, atmosphere).
 */
public record ConfigSection<T>(String key, Class<T> type, Check check) {

  /** Checks an environment's section; throws a ConfigException naming the key to fix. */
  @FunctionalInterface
  public interface Check {
    void check(LoadedConfig config, String environment);
  }

  public ConfigSection(String key, Class<T> type) {
    this(key, type, (config, environment) -> {});
  }
}
