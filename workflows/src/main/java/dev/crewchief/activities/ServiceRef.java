package dev.crewchief.activities;

/**
 * A docker-compose service on an engine: its containers carry the compose labels {@code
 * com.docker.compose.project}, {@code com.docker.compose.service} and {@code
 * com.docker.compose.container-number}, and are found by them (names are not stable).
 */
public record ServiceRef(EngineRef engine, String project, String service) {
  public String describe() {
    return project + "/" + service + " on " + engine.name();
  }
}
