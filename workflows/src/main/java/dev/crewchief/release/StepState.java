package dev.crewchief.release;

import java.time.Instant;

/** One step as the workflow saw it. {@code detail} is the action taken or the failure. */
public record StepState(
    String name, StepStatus status, Instant startedAt, Instant endedAt, String detail) {}
