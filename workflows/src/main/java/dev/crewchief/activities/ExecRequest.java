package dev.crewchief.activities;

import java.util.List;

/**
 * A command to run inside the running container of a service ({@code number} 0: the lowest numbered
 * running one). A non-zero exit fails the step with type {@code ContainerExecFailed} unless {@code
 * allowFailure}.
 */
public record ExecRequest(
    String step,
    ServiceRef service,
    int number,
    List<String> command,
    boolean allowFailure,
    boolean dryRun) {}
