package dev.crewchief.runbook;

import java.util.List;

/** A gate of a runbook and the roles that pass it unless the environment configures others. */
public record GateSpec(String name, List<String> defaultRoles, String purpose) {}
