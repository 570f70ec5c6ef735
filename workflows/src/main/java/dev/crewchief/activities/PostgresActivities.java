package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * A PostgreSQL server, reached from the worker with the PostgreSQL client tools. Failure types:
 * {@code PostgresUnreachable} and {@code DumpFailed} (retried); {@code PostgresAuthFailed}, {@code
 * DatabaseMissing}, {@code ToolMissing}, {@code DumpInvalid}, {@code SecretUnresolved}, {@code
 * InvalidInput} (not retryable; the message says what to change).
 */
@ActivityInterface
public interface PostgresActivities {
  /**
   * Back up one database with {@code pg_dump} in custom format ({@code -Fc}) to {@code
   * directory/fileName} on the worker, then verify it: the file is non-empty and {@code pg_restore
   * --list} reads its table of contents, which must name the dumped database. The dump is written
   * to {@code fileName.part} and renamed into place only once verified. Idempotent: when the file
   * already exists and verifies, it is kept and nothing is dumped again, so the file name (dated,
   * from the release id) decides what a retry does. Heartbeats while the dump runs.
   */
  @ActivityMethod(name = "Postgres.dumpDatabase")
  DumpResult dumpDatabase(DumpRequest request);
}
