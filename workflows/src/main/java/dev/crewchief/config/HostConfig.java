package dev.crewchief.config;

/**
 * An SSH host as configured. {@code privateKey} is a secret reference ({@code file:/path} or {@code
 * env:VAR}), never the key itself; {@code knownHosts} is the path of an OpenSSH known_hosts file
 * that must list the host's key, because host keys are always verified.
 */
public record HostConfig(
    String address, Integer port, String user, String privateKey, String knownHosts) {}
