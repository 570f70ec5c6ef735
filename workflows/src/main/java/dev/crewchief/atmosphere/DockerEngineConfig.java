package dev.crewchief.atmosphere;

/**
 * A Docker engine as configured: {@code host} a Docker host URI (unix:///var/run/docker.sock,
 * tcp://host:2376), {@code tlsCertDir} a directory on the worker with ca.pem, cert.pem and key.pem,
 * {@code registryAuth} a secret reference (file:/path or env:VAR) to registry credentials, never
 * the credentials themselves.
 */
public record DockerEngineConfig(String host, String tlsCertDir, String registryAuth) {}
