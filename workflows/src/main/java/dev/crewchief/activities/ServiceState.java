package dev.crewchief.activities;

import java.util.List;

/** The containers of a service, by container number; {@code known} is false in a dry run. */
public record ServiceState(ServiceRef service, boolean known, List<ContainerInfo> containers) {}
