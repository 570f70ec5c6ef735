package dev.crewchief.metaspace;

import java.util.Arrays;
import java.util.List;

/** The runbook's four ways to deploy, by how much the new code's data differs from the old. */
public enum Strategy {
  IN_PLACE("in-place", "In-place deployment: no significant changes to Elasticsearch or Postgres"),
  DEPLOY_THEN_ES_UPDATE(
      "deploy-then-es-update",
      "Deployment followed by an Elasticsearch update: new fields may be populated over days"),
  REINDEX_BEFORE_DEPLOYMENT(
      "reindex-before-deployment",
      "Elasticsearch reindex before deployment: the new code needs the new fields, or the"
          + " mappings changed"),
  FORK_THE_VM(
      "fork-the-vm",
      "Fork the VM, update, then swap to the new VM: DB or infrastructure changes that need"
          + " substantial downtime");

  private final String option;
  private final String description;

  Strategy(String option, String description) {
    this.option = option;
    this.description = description;
  }

  /** The name people type ({@code --strategy}, {@code --choice}). */
  public String option() {
    return option;
  }

  public String description() {
    return description;
  }

  public static List<String> options() {
    return Arrays.stream(values()).map(Strategy::option).toList();
  }

  /** The strategy of that name, or an IllegalArgumentException listing them. */
  public static Strategy of(String option) {
    for (Strategy s : values()) {
      if (s.option.equals(option)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown strategy '" + option + "': one of " + String.join(", ", options()));
  }
}
