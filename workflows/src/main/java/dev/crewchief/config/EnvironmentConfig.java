package dev.crewchief.config;

import java.util.List;
import java.util.Map;

/** One environment (sandbox, staging, prod): its people, hosts, gates and runbook settings. */
public record EnvironmentConfig(
    Map<String, List<String>> approvers,
    Map<String, HostConfig> hosts,
    Map<String, GateConfig> gates,
    RandoPonyConfig randopony,
    AtmosphereConfig atmosphere) {}
