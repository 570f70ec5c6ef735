package dev.crewchief.activities;

/** A step acting on all containers of one service. */
public record ServiceRequest(String step, ServiceRef service, boolean dryRun) {}
