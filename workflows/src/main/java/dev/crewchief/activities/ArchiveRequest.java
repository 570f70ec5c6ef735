package dev.crewchief.activities;

import java.util.List;

/**
 * Delete files, after keeping a compressed archive of them. {@code paths} are relative to {@code
 * baseDir}; missing ones are skipped. Idempotent: when the archive already exists the files it
 * holds are not archived again.
 */
public record ArchiveRequest(
    String step,
    HostRef host,
    String baseDir,
    List<String> paths,
    String archivePath,
    boolean dryRun) {}
