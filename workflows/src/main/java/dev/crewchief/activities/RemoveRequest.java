package dev.crewchief.activities;

/**
 * Stop and remove one container of a service by its id. Idempotent: a container already gone is
 * fine.
 */
public record RemoveRequest(String step, ServiceRef service, String containerId, boolean dryRun) {}
