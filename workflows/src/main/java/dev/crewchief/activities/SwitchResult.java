package dev.crewchief.activities;

/**
 * What a traffic switch did: its action and output as any step, and the {@link Downtime} its probes
 * measured while it switched (null when the request had no probe, or in a dry run).
 */
public record SwitchResult(String action, boolean rehearsed, String output, Downtime downtime)
    implements StepOutcome {}
