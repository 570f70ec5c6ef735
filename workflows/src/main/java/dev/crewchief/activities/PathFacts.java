package dev.crewchief.activities;

import java.util.List;

/**
 * The answer to {@link InspectRequest}. {@code known} is false in a dry run that could not look,
 * and then {@code existing} is empty.
 */
public record PathFacts(boolean known, List<String> existing) {
  public boolean exists(String path) {
    return existing.contains(path);
  }
}
