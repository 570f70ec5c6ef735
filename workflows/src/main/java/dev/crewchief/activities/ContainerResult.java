package dev.crewchief.activities;

/** The container a step created or kept, and the exact action. */
public record ContainerResult(String action, boolean rehearsed, ContainerInfo container)
    implements StepOutcome {}
