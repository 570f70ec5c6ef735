package dev.crewchief.activities;

/**
 * One container of a service. {@code state} is the engine's (running, exited, ...); {@code health}
 * is the healthcheck's status (healthy, unhealthy, starting) or "none" without a healthcheck.
 */
public record ContainerInfo(
    String id, String name, int number, String image, String state, String health) {}
