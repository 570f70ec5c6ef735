package dev.crewchief.config;

/**
 * The nginx on a host that serves the sites: where the per-domain server blocks live, the address
 * they listen on, and the commands that test and reload it.
 */
public record NginxConfig(
    String sitesDir,
    String listen,
    String pidFile,
    String testCommand,
    String reloadCommand,
    String probeUrl) {}
