package dev.crewchief.activities;

/**
 * A shell command to run on a host. {@code command} must be safe to run twice: the commands built
 * by the workflows check state first (is it running, does it exist) so that a retry is harmless.
 */
public record CommandRequest(String step, HostRef host, String command, boolean dryRun) {}
