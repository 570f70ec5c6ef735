package dev.crewchief.activities;

/**
 * A finished host job: its exit status, last progress, output's tail, and whether it was resumed.
 */
public record JobResult(
    String jobId,
    int exitCode,
    long done,
    long total,
    String outputTail,
    long tookMillis,
    boolean resumed,
    boolean rehearsed) {}
