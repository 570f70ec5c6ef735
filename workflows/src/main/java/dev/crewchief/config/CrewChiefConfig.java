package dev.crewchief.config;

import java.util.Map;

/** The whole {@code crewchief.yaml}. {@code source} is where it was read from, for messages. */
public record CrewChiefConfig(String taskQueue, Map<String, EnvironmentConfig> environments) {

  public static final String DEFAULT_TASK_QUEUE = "crewchief";

  public String taskQueueOrDefault() {
    return taskQueue == null || taskQueue.isBlank() ? DEFAULT_TASK_QUEUE : taskQueue;
  }
}
