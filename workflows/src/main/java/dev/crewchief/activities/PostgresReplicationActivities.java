package dev.crewchief.activities;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Duration;

/**
 * A PostgreSQL primary/standby pair as the ENCODE switch-over uses it: the old primary turned into
 * a standby, the new server's standby caught up, then promoted. SQL goes over JDBC ({@link
 * Server#jdbcUrl}); what must happen on the server's machine (the standby marker, the restart) goes
 * over SSH to {@link Server#host}.
 *
 * <p>Failure types: {@code PostgresUnreachable} (retryable), {@code PostgresAuth} and {@code
 * PostgresConfig} (non-retryable: fix the configuration), {@code PostgresNotCaughtUp} (the wait ran
 * out; non-retryable, the step's owner decides), {@code PostgresPromoteFailed}.
 */
@ActivityInterface
public interface PostgresReplicationActivities {

  /**
   * One server. {@code recoveryMode} is {@code standby.signal} (PostgreSQL 12 and later: the empty
   * file in {@code dataDir}, {@code primary_conninfo} in {@code postgresql.auto.conf}) or {@code
   * recovery.conf} (9.x: {@code recovery.done} renamed to {@code recovery.conf}, as the runbook
   * does). {@code restartCommand} restarts this server on its host (for example {@code
   * pg_ctlcluster 15 main restart}); {@code primaryConninfo} is what this server uses when it is a
   * standby of the other one (no password in it: a {@code .pgpass} on the host holds that).
   */
  record Server(
      String name,
      HostRef host,
      String jdbcUrl,
      String user,
      String passwordRef,
      String dataDir,
      String recoveryMode,
      String restartCommand,
      String primaryConninfo) {
    public String describe() {
      return name + " (" + jdbcUrl + ")";
    }
  }

  record ServerRequest(String step, Server server, boolean dryRun) {}

  /**
   * What the server says of itself. LSNs are PostgreSQL's text form ({@code 0/3000148}); {@code
   * replayLsn} is null on a primary and {@code currentLsn} null on a standby. {@code acceptsWrites}
   * is read by a write in a transaction rolled back, not guessed from {@code inRecovery}.
   */
  record RecoveryState(
      String server,
      boolean inRecovery,
      String receiveLsn,
      String replayLsn,
      String currentLsn,
      boolean acceptsWrites,
      String walReceiver) {}

  /**
   * Turns a primary into a standby of {@code server.primaryConninfo} and restarts it; returns when
   * it is back up, in recovery and refusing writes. Idempotent: a server already in recovery is
   * left as it is.
   */
  @ActivityMethod(name = "PostgresReplication.enterRecovery")
  RecoveryState enterRecovery(ServerRequest request);

  @ActivityMethod(name = "PostgresReplication.state")
  RecoveryState state(ServerRequest request);

  record CatchUpRequest(
      String step, Server from, Server to, Duration pollEvery, Duration limit, boolean dryRun) {}

  /**
   * Heartbeats until both servers are in recovery and {@code to} has replayed everything {@code
   * from} has (replay LSNs equal, or {@code to} past {@code from}'s). Returns both states.
   */
  record CatchUp(RecoveryState from, RecoveryState to, int polls, boolean rehearsed) {}

  @ActivityMethod(name = "PostgresReplication.waitCaughtUp")
  CatchUp waitCaughtUp(CatchUpRequest request);

  /**
   * Promotes a standby ({@code pg_promote()}) and returns once it is out of recovery and a write is
   * accepted. Idempotent: a server already primary is reported as such.
   */
  @ActivityMethod(name = "PostgresReplication.promote")
  RecoveryState promote(ServerRequest request);
}
