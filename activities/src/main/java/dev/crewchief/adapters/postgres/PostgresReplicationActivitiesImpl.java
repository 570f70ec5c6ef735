package dev.crewchief.adapters.postgres;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.PostgresReplicationActivities;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.ExecResult;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.activity.Activity;
import io.temporal.failure.ApplicationFailure;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PostgresReplicationActivities} with SQL over JDBC and the host side (the standby marker,
 * the restart) over SSH through {@link SshHosts}, host keys verified.
 *
 * <p>State is always read from the server, never inferred: {@code pg_is_in_recovery()}, the LSN
 * functions, {@code pg_stat_wal_receiver}, and whether a write is accepted, tried in a transaction
 * that is rolled back ({@code CREATE TEMP TABLE}, refused by a standby and by a read-only
 * transaction). Servers before 10 are read with their {@code xlog} function names; promoting needs
 * {@code pg_promote()} (12 and later).
 *
 * <p>{@code enterRecovery} in {@code standby.signal} mode sets {@code primary_conninfo} with {@code
 * ALTER SYSTEM} (when one is configured) while the server still runs as a primary, creates {@code
 * dataDir/standby.signal} and runs the restart command; in {@code recovery.conf} mode it renames
 * {@code recovery.done} to {@code recovery.conf} as the runbook does (replacing its {@code
 * primary_conninfo} line when one is configured) and restarts. Both are safe to repeat, and a
 * server found in recovery is left alone.
 *
 * <p>The password is resolved inside the activity and given to the driver only; messages carry the
 * password reference, and any server message is scrubbed of the password before it is quoted.
 */
public final class PostgresReplicationActivitiesImpl implements PostgresReplicationActivities {
  private static final Logger log =
      LoggerFactory.getLogger(PostgresReplicationActivitiesImpl.class);
  private static final Pattern LSN = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);

  private final SecretResolver secrets;
  private final SshHosts ssh;
  private final Duration readyWithin;

  public PostgresReplicationActivitiesImpl(SecretResolver secrets, SshHosts ssh) {
    this(secrets, ssh, Duration.ofMinutes(3));
  }

  /**
   * @param readyWithin how long a restarted or promoted server may take to be up in the expected
   *     state before the step fails (the activity's own timeouts bound it too)
   */
  public PostgresReplicationActivitiesImpl(
      SecretResolver secrets, SshHosts ssh, Duration readyWithin) {
    this.secrets = secrets;
    this.ssh = ssh;
    this.readyWithin = readyWithin;
  }

  // ---------------------------------------------------------------- activities

  @Override
  public RecoveryState state(ServerRequest r) {
    Server s = validate(r.server(), false);
    return read(s, password(s));
  }

  @Override
  public RecoveryState enterRecovery(ServerRequest r) {
    Server s = validate(r.server(), true);
    if (r.dryRun()) {
      ssh.rehearse(s.host());
      return read(s, password(s));
    }
    String password = password(s);
    Optional<RecoveryState> before = tryRead(s, password);
    if (before.isPresent() && before.get().inRecovery()) {
      log.info("step '{}': {} is already in recovery, left as it is", r.step(), s.describe());
      return awaitStandby(s, password);
    }
    if (before.isPresent() && !blank(s.primaryConninfo()) && isSignalMode(s)) {
      // Written while the server is still a primary: ALTER SYSTEM writes postgresql.auto.conf
      // atomically, which a hand-edited file on the host would not be.
      setPrimaryConninfo(s, password);
    }
    // A server that does not answer may be one an earlier attempt stopped: the host side is
    // repeated (it is idempotent) and the restart brings it up as a standby.
    log.info("step '{}': turning {} into a standby and restarting it", r.step(), s.describe());
    try (SshHosts.Connection c = ssh.lease(s.host())) {
      onHost(
          c,
          s,
          markerCommand(s),
          "marking " + s.dataDir() + " for recovery",
          new Progress(0, 0, "", "marking " + s.name() + " for recovery"));
      onHost(
          c,
          s,
          s.restartCommand(),
          "restarting " + s.name() + " (" + s.restartCommand() + ")",
          new Progress(0, 0, "", "restarting " + s.name() + " as a standby"));
    }
    RecoveryState after = awaitStandby(s, password);
    log.info("step '{}': {} is in recovery and refuses writes", r.step(), s.describe());
    return after;
  }

  @Override
  public CatchUp waitCaughtUp(CatchUpRequest r) {
    Server from = validate(r.from(), false);
    Server to = validate(r.to(), false);
    String pf = password(from);
    String pt = password(to);
    if (r.dryRun()) {
      return new CatchUp(read(from, pf), read(to, pt), 1, true);
    }
    Duration every = r.pollEvery() == null || r.pollEvery().isNegative() ? POLL : r.pollEvery();
    Duration limit = r.limit() == null ? Duration.ofMinutes(10) : r.limit();
    int polls = 0;
    try {
      Optional<Progress> last = Activity.getExecutionContext().getHeartbeatDetails(Progress.class);
      polls = last.map(p -> (int) p.done()).orElse(0);
    } catch (IllegalStateException notInActivity) {
      // Called directly: nothing to resume.
    }
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      RecoveryState a = read(from, pf);
      RecoveryState b = read(to, pt);
      polls++;
      String where = describeLag(a, b);
      ActivityIo.heartbeat(new Progress(polls, 0, "polls", where));
      if (caughtUp(a, b)) {
        log.info("step '{}': {} after {} polls", r.step(), where, polls);
        return new CatchUp(a, b, polls, false);
      }
      if (System.nanoTime() - deadline >= 0) {
        throw ApplicationFailure.newNonRetryableFailure(
            "not caught up within "
                + limit
                + " ("
                + polls
                + " polls): "
                + where
                + "; both must be in recovery with "
                + to.name()
                + "'s replay LSN at or past "
                + from.name()
                + "'s",
            "PostgresNotCaughtUp");
      }
      pause(every);
    }
  }

  @Override
  public RecoveryState promote(ServerRequest r) {
    Server s = validate(r.server(), false);
    String password = password(s);
    RecoveryState before = read(s, password);
    if (r.dryRun() || !before.inRecovery()) {
      if (!r.dryRun()) {
        log.info("step '{}': {} is already out of recovery", r.step(), s.describe());
        return awaitPrimary(s, password);
      }
      return before;
    }
    log.info("step '{}': promoting {}", r.step(), s.describe());
    ActivityIo.heartbeat(new Progress(0, 0, "", "promoting " + s.name()));
    try (Connection c = connect(s, password);
        Statement st = c.createStatement()) {
      if (serverVersion(c) < 120000) {
        throw ApplicationFailure.newNonRetryableFailure(
            s.describe()
                + " is older than PostgreSQL 12 and has no pg_promote(): promote it on its host"
                + " (pg_ctlcluster VERSION main promote)",
            "PostgresConfig");
      }
      try (ResultSet rs = st.executeQuery("select pg_promote(true, 60)")) {
        rs.next();
        if (!rs.getBoolean(1)) {
          // The server may yet finish; the wait below decides.
          log.warn("pg_promote on {} did not finish within 60 s", s.describe());
        }
      }
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "user "
                + s.user()
                + " may not call pg_promote() on "
                + s.describe()
                + ": use a superuser or GRANT EXECUTE ON FUNCTION pg_promote TO "
                + s.user(),
            "PostgresConfig");
      }
      // Promotion may have happened even so (a lost connection): the wait below reads it.
      log.warn("pg_promote on {}: {}", s.describe(), scrub(e.getMessage(), password));
    }
    RecoveryState after = awaitPrimary(s, password);
    log.info("step '{}': {} is primary and accepts writes", r.step(), s.describe());
    return after;
  }

  // ---------------------------------------------------------------- waits

  private RecoveryState awaitStandby(Server s, String password) {
    return await(
        s,
        password,
        st -> st.inRecovery() && !st.acceptsWrites(),
        "in recovery and refusing writes",
        "PostgresUnreachable");
  }

  private RecoveryState awaitPrimary(Server s, String password) {
    return await(
        s,
        password,
        st -> !st.inRecovery() && st.acceptsWrites(),
        "out of recovery and accepting writes",
        "PostgresPromoteFailed");
  }

  private RecoveryState await(
      Server s,
      String password,
      java.util.function.Predicate<RecoveryState> done,
      String what,
      String failureType) {
    long deadline = System.nanoTime() + readyWithin.toNanos();
    String last = "no answer yet";
    int polls = 0;
    while (true) {
      polls++;
      try {
        RecoveryState st = read(s, password);
        if (done.test(st)) {
          return st;
        }
        last = "in recovery " + st.inRecovery() + ", accepts writes " + st.acceptsWrites();
      } catch (ApplicationFailure f) {
        if (!"PostgresUnreachable".equals(f.getType())) {
          throw f;
        }
        last = f.getOriginalMessage();
      }
      ActivityIo.heartbeat(
          new Progress(polls, 0, "polls", "waiting for " + s.name() + " to be " + what));
      if (System.nanoTime() - deadline >= 0) {
        throw ApplicationFailure.newFailure(
            s.describe() + " was not " + what + " within " + readyWithin + ": " + last,
            failureType);
      }
      pause(POLL);
    }
  }

  private static boolean caughtUp(RecoveryState a, RecoveryState b) {
    if (!a.inRecovery() || !b.inRecovery() || a.replayLsn() == null || b.replayLsn() == null) {
      return false;
    }
    return Long.compareUnsigned(lsn(b.replayLsn()), lsn(a.replayLsn())) >= 0;
  }

  private static String describeLag(RecoveryState a, RecoveryState b) {
    String al = a.inRecovery() ? "replay " + a.replayLsn() : "primary at " + a.currentLsn();
    String bl = b.inRecovery() ? "replay " + b.replayLsn() : "primary at " + b.currentLsn();
    String lag = "";
    String aPos = a.inRecovery() ? a.replayLsn() : a.currentLsn();
    if (aPos != null && b.replayLsn() != null) {
      lag = ", " + Math.max(0, lsn(aPos) - lsn(b.replayLsn())) + " bytes behind";
    }
    return a.server() + " " + al + ", " + b.server() + " " + bl + lag;
  }

  /** A text LSN ({@code 16/B374D848}) as the 64-bit position it names. */
  static long lsn(String text) {
    Matcher m = LSN.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not an LSN: " + text);
    }
    return (Long.parseLong(m.group(1), 16) << 32) | Long.parseLong(m.group(2), 16);
  }

  // ---------------------------------------------------------------- SQL

  private Optional<RecoveryState> tryRead(Server s, String password) {
    try {
      return Optional.of(read(s, password));
    } catch (ApplicationFailure f) {
      if ("PostgresUnreachable".equals(f.getType())) {
        log.info(
            "{} does not answer ({}): treated as stopped", s.describe(), f.getOriginalMessage());
        return Optional.empty();
      }
      throw f;
    }
  }

  private RecoveryState read(Server s, String password) {
    try (Connection c = connect(s, password)) {
      boolean old = serverVersion(c) < 100000;
      String recv = old ? "pg_last_xlog_receive_location()" : "pg_last_wal_receive_lsn()";
      String replay = old ? "pg_last_xlog_replay_location()" : "pg_last_wal_replay_lsn()";
      String current = old ? "pg_current_xlog_location()" : "pg_current_wal_lsn()";
      boolean inRecovery;
      String receiveLsn;
      String replayLsn;
      String currentLsn = null;
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery(
                  "select pg_is_in_recovery(), " + recv + "::text, " + replay + "::text")) {
        rs.next();
        inRecovery = rs.getBoolean(1);
        receiveLsn = rs.getString(2);
        replayLsn = rs.getString(3);
      }
      if (!inRecovery) {
        try (Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("select " + current + "::text")) {
          rs.next();
          currentLsn = rs.getString(1);
        }
        replayLsn = null;
      }
      String receiver = inRecovery && !old ? walReceiver(c) : null;
      boolean writes = acceptsWrites(c, s, password);
      return new RecoveryState(
          s.name(), inRecovery, receiveLsn, replayLsn, currentLsn, writes, receiver);
    } catch (SQLException e) {
      throw classify(s, e, password);
    }
  }

  /** "streaming from host=... port=..." as pg_stat_wal_receiver shows it, or null. */
  private static String walReceiver(Connection c) throws SQLException {
    // conninfo there is the obfuscated form (password masked), safe to report.
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select status, sender_host, sender_port, latest_end_lsn::text"
                    + " from pg_stat_wal_receiver")) {
      if (!rs.next()) {
        return null;
      }
      return rs.getString(1)
          + " from "
          + rs.getString(2)
          + ":"
          + rs.getString(3)
          + " (latest end "
          + rs.getString(4)
          + ")";
    }
  }

  /** Tries a write in a transaction that is rolled back: the server's own answer. */
  private static boolean acceptsWrites(Connection c, Server s, String password)
      throws SQLException {
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      st.execute("create temp table crewchief_write_probe (x int)");
      st.execute("insert into crewchief_write_probe values (1)");
      return true;
    } catch (SQLException e) {
      // 25006 read_only_sql_transaction: a standby, or default_transaction_read_only.
      if ("25006".equals(e.getSQLState())) {
        return false;
      }
      if ("42501".equals(e.getSQLState())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "user "
                + s.user()
                + " may not create a temporary table on "
                + s.describe()
                + ", which is how a write is tried: GRANT TEMPORARY on the database to it ("
                + scrub(e.getMessage(), password)
                + ")",
            "PostgresConfig");
      }
      throw e;
    } finally {
      c.rollback();
      c.setAutoCommit(true);
    }
  }

  private static void setPrimaryConninfo(Server s, String password) {
    try (Connection c = connect(s, password);
        Statement st = c.createStatement()) {
      st.execute("alter system set primary_conninfo = " + literal(s.primaryConninfo()));
      // Read back what the file now says (pg_file_settings shows postgresql.auto.conf).
      try (ResultSet rs =
          st.executeQuery(
              "select setting from pg_file_settings where name = 'primary_conninfo'"
                  + " and sourcefile like '%postgresql.auto.conf' order by seqno desc limit 1")) {
        if (!rs.next() || !s.primaryConninfo().equals(rs.getString(1))) {
          throw ApplicationFailure.newFailure(
              "primary_conninfo of " + s.describe() + " did not read back as written",
              "PostgresConfig");
        }
      }
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        throw ApplicationFailure.newNonRetryableFailure(
            "user "
                + s.user()
                + " may not ALTER SYSTEM on "
                + s.describe()
                + ": use a superuser, or leave primaryConninfo empty and set it on the host",
            "PostgresConfig");
      }
      throw classify(s, e, password);
    }
  }

  private static String literal(String v) {
    return "'" + v.replace("'", "''") + "'";
  }

  private static int serverVersion(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select current_setting('server_version_num')::int")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static Connection connect(Server s, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", s.user());
    p.setProperty("password", password);
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", "120");
    p.setProperty("ApplicationName", "crewchief");
    return DriverManager.getConnection(s.jdbcUrl(), p);
  }

  private static ApplicationFailure classify(Server s, SQLException e, String password) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String why = scrub(e.getMessage(), password);
    if (state.startsWith("28")) {
      return ApplicationFailure.newNonRetryableFailure(
          s.describe()
              + " refused the login of "
              + s.user()
              + ": check the user, the password in "
              + s.passwordRef()
              + " and pg_hba.conf ("
              + why
              + ")",
          "PostgresAuth");
    }
    if (state.equals("3D000")) {
      return ApplicationFailure.newNonRetryableFailure(
          "the database in " + s.jdbcUrl() + " does not exist: configure jdbcUrl (" + why + ")",
          "PostgresConfig");
    }
    if (state.startsWith("08") || state.equals("57P03") || state.startsWith("57P")) {
      return ApplicationFailure.newFailure(
          "cannot reach " + s.describe() + ": " + why, "PostgresUnreachable");
    }
    return ApplicationFailure.newFailure(
        "SQL on " + s.describe() + " failed (" + state + "): " + why, "PostgresUnreachable");
  }

  private static String scrub(String message, String password) {
    if (message == null) {
      return "";
    }
    return password.isEmpty() ? message : message.replace(password, "<password>");
  }

  // ---------------------------------------------------------------- host side

  private static boolean isSignalMode(Server s) {
    return "standby.signal".equals(s.recoveryMode());
  }

  /** The idempotent shell command that marks the data directory for recovery. */
  static String markerCommand(Server s) {
    String dir = s.dataDir().replaceAll("/+$", "");
    if (isSignalMode(s)) {
      String signal = q(dir + "/standby.signal");
      return "touch " + signal + " && test -f " + signal;
    }
    String conf = q(dir + "/recovery.conf");
    String done = q(dir + "/recovery.done");
    StringBuilder cmd =
        new StringBuilder(
            "if [ ! -f "
                + conf
                + " ]; then if [ -f "
                + done
                + " ]; then mv "
                + done
                + " "
                + conf
                + "; else echo 'neither recovery.conf nor recovery.done in "
                + dir.replace("'", "")
                + ": write one' >&2; exit 3; fi; fi");
    if (!blank(s.primaryConninfo())) {
      String line = "primary_conninfo = '" + s.primaryConninfo().replace("'", "''") + "'";
      cmd.append(" && { grep -v '^[[:space:]]*primary_conninfo' ")
          .append(conf)
          .append("; printf '%s\\n' ")
          .append(q(line))
          .append("; } > ")
          .append(conf)
          .append(".new && mv ")
          .append(conf)
          .append(".new ")
          .append(conf);
    }
    return cmd.toString();
  }

  /**
   * Runs a command on the server's host, failing {@code RemoteCommandFailed} on a non-zero exit;
   * heartbeats {@code progress} (not the command) while it runs.
   */
  private void onHost(SshHosts.Connection c, Server s, String command, String what, Progress p) {
    ExecResult r = ssh.exec(c, command, COMMAND_TIMEOUT, p);
    if (r.exitStatus() != 0) {
      String out = (r.stderr().isBlank() ? r.stdout() : r.stderr()).strip();
      throw ApplicationFailure.newFailure(
          what
              + " on "
              + s.host().describe()
              + " failed (exit "
              + r.exitStatus()
              + "): "
              + (out.length() > 1500 ? "..." + out.substring(out.length() - 1500) : out),
          "RemoteCommandFailed");
    }
  }

  // ---------------------------------------------------------------- inputs

  private static Server validate(Server s, boolean hostSide) {
    if (s == null) {
      throw config("no server given");
    }
    if (blank(s.jdbcUrl()) || !s.jdbcUrl().startsWith("jdbc:postgresql:")) {
      throw config(
          "server " + s.name() + " needs a jdbcUrl of the form jdbc:postgresql://host:port/db");
    }
    if (s.jdbcUrl().toLowerCase().contains("password")) {
      // Not repeated: it may carry the password itself.
      throw config(
          "the jdbcUrl of server "
              + s.name()
              + " carries a password: remove it and configure passwordRef instead");
    }
    if (blank(s.user())) {
      throw config("server " + s.name() + " has no user: configure user");
    }
    if (!SecretResolver.wellFormed(s.passwordRef())) {
      throw config(
          "the password reference of server "
              + s.name()
              + " is not of the form file:/path or env:NAME: configure a reference, never the"
              + " password itself");
    }
    if (hostSide) {
      if (s.host() == null) {
        throw config("server " + s.name() + " has no host: configure the SSH host it runs on");
      }
      if (!isSignalMode(s) && !"recovery.conf".equals(s.recoveryMode())) {
        throw config(
            "server "
                + s.name()
                + " has recoveryMode '"
                + s.recoveryMode()
                + "': configure standby.signal (PostgreSQL 12+) or recovery.conf (9.x)");
      }
      if (blank(s.dataDir()) || !s.dataDir().startsWith("/")) {
        throw config("server " + s.name() + " needs an absolute dataDir");
      }
      if (blank(s.restartCommand())) {
        throw config("server " + s.name() + " has no restartCommand: configure how to restart it");
      }
      if (s.primaryConninfo() != null && s.primaryConninfo().toLowerCase().contains("password")) {
        throw config(
            "the primaryConninfo of server "
                + s.name()
                + " carries a password: keep it in a .pgpass on the host instead");
      }
    }
    return s;
  }

  private String password(Server s) {
    String value = secrets.resolve(s.passwordRef(), "the password of " + s.describe());
    String password = value.replaceAll("[\r\n]+$", "");
    if (password.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "secret " + s.passwordRef() + " for the password of " + s.describe() + " is empty",
          "SecretUnresolved");
    }
    return password;
  }

  private static ApplicationFailure config(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "PostgresConfig");
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(Math.max(1, d.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure("interrupted while waiting", "PostgresUnreachable");
    }
  }
}
