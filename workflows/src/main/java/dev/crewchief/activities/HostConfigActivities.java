package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;

/**
 * Small, exact edits on a host over SSH (host key verified), each idempotent and read back. Failure
 * types: {@code HostUnreachable} (retryable), {@code HostAuth}, {@code NoSuchFile}, {@code
 * EditNotFound} (neither the text to replace nor its replacement is in the file: non-retryable,
 * names the file), {@code LogShowsError}, {@code LogWaitExpired}.
 */
@ActivityInterface
public interface HostConfigActivities {

  /**
   * Replaces every {@code from} with {@code to} in {@code path} ({@code sudo} when the host user
   * cannot write it). Already replaced (no {@code from}, some {@code to}) is success with {@code
   * changed} false. A copy of the file before the edit is kept beside it.
   */
  record ReplaceRequest(
      String step,
      HostRef host,
      String path,
      String from,
      String to,
      boolean sudo,
      boolean dryRun) {}

  record Edit(String path, int replaced, boolean changed, String backupPath, boolean rehearsed) {}

  @ActivityMethod(name = "HostConfig.replaceInFile")
  Edit replaceInFile(ReplaceRequest request);

  /** Ensures {@code line} is in {@code user}'s crontab exactly once (null user: the SSH user). */
  record CronRequest(String step, HostRef host, String user, String line, boolean dryRun) {}

  @ActivityMethod(name = "HostConfig.ensureCronLine")
  ActionResult ensureCronLine(CronRequest request);

  /**
   * Follows a log on the host (the runbook's {@code tail -f /var/log/cloud-init-output.log}),
   * heartbeating its length, until a line matches {@code doneRegex}; a line matching {@code
   * errorRegex} fails with the lines around it. A file not there yet is waited for.
   */
  record LogWaitRequest(
      String step,
      HostRef host,
      String path,
      String doneRegex,
      String errorRegex,
      Duration pollEvery,
      Duration limit,
      boolean dryRun) {}

  record LogWait(String matchedLine, long lines, String tail, boolean rehearsed) {}

  @ActivityMethod(name = "HostConfig.waitForLog")
  LogWait waitForLog(LogWaitRequest request);
}
