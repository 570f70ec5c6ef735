package dev.crewchief.activities;

/**
 * A Docker Engine API endpoint as activities receive it: {@code host} is a Docker host URI ({@code
 * unix:///var/run/docker.sock}, or {@code tcp://host:2376} with {@code tlsCertDir} holding ca.pem,
 * cert.pem and key.pem on the worker). {@code registryAuthRef} is a secret reference ({@code
 * file:/path} to a JSON {@code {"username":..,"password":..}}, or {@code env:VAR}) resolved inside
 * the activity when images are pulled, or null for an anonymous registry.
 */
public record EngineRef(String name, String host, String tlsCertDir, String registryAuthRef) {}
