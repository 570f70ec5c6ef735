package dev.crewchief.runbook;

/**
 * A runbook's settings under {@code environments.ENV.KEY}, read into {@code type} (a record) when
 * the config file is loaded, so that a mistake in them is found before anything starts. Several
 * runbooks of one team share a section (randopony, atmosphere).
 */
public record ConfigSection<T>(String key, Class<T> type) {}
