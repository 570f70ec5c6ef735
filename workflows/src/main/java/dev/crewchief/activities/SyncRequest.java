package dev.crewchief.activities;

import java.util.List;

/**
 * Upload a directory of the worker's machine to a host, sending only files whose content changed
 * (compared by SHA-256). {@code excludes} are path segments to skip, such as {@code .git}.
 */
public record SyncRequest(
    String step,
    HostRef host,
    String localDir,
    String remoteDir,
    List<String> excludes,
    boolean dryRun) {}
