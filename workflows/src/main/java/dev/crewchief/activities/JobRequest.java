package dev.crewchief.activities;

import java.time.Duration;

/**
 * A long job on a host (a days-long reindex, a full index update) run in the background, detached
 * from the SSH session (the runbook's tmux), and followed to its end. {@code jobId} (derived from
 * the release id and the step) names its directory {@code ~/.crewchief/jobs/ID} holding its pid,
 * output and exit status: a retried attempt (the worker restarted, the connection lost) finds the
 * job running or finished and follows it instead of starting it again. {@code progressRegex} finds
 * progress in the output, with named groups {@code done} and {@code total} (the last match counts);
 * null for none. A job that exits non-zero fails with {@code RemoteJobFailed} and its output's tail
 * (not retryable: starting it again is a decision).
 */
public record JobRequest(
    String step,
    HostRef host,
    String jobId,
    String command,
    String progressRegex,
    Duration pollEvery,
    boolean dryRun) {}
