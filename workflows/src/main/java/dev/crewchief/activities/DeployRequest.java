package dev.crewchief.activities;

import java.time.Duration;

/**
 * Run a service's containers from {@code image}, each created from the configuration of the
 * container it follows (command, environment, mounts, network, labels) with only the image changed.
 * The new container is ready when its healthcheck reports healthy or, without one, when {@code
 * probeUrl} (if given) answers 2xx; the activity heartbeats while it waits, up to {@code ready}.
 */
public record DeployRequest(
    String step,
    ServiceRef service,
    String image,
    String probeUrl,
    Duration ready,
    boolean dryRun) {}
