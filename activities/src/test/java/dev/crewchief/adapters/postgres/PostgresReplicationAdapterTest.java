package dev.crewchief.adapters.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.PostgresReplicationActivities;
import dev.crewchief.activities.PostgresReplicationActivities.CatchUp;
import dev.crewchief.activities.PostgresReplicationActivities.CatchUpRequest;
import dev.crewchief.activities.PostgresReplicationActivities.RecoveryState;
import dev.crewchief.activities.PostgresReplicationActivities.Server;
import dev.crewchief.activities.PostgresReplicationActivities.ServerRequest;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.PostgresPair;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.SshHosts;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The ENCODE switch-over against a real PostgreSQL 15 pair the test builds: A, the old primary, and
 * B, a streaming standby of A made with {@code pg_basebackup -R}, both run by the sandbox's SSH
 * user so the adapter restarts them over SSH. The tests run in order, as the runbook does: A turned
 * into a standby, B caught up, B promoted. Everything is read back from the servers with a JDBC
 * connection of the test's own.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresReplicationAdapterTest {
  static final String BIN = "/usr/lib/postgresql/15/bin/";
  static final String PASSWORD = "pw-" + UUID.randomUUID().toString().replace("-", "");

  static Sandbox sandbox;
  static Path base;
  static Path secretDir;
  static int portA;
  static int portB;
  static Server a;
  static Server b;
  static SshHosts ssh;
  static PostgresReplicationActivitiesImpl repl;
  static int rowsWritten;
  static PostgresPair pair;

  @BeforeAll
  static void up() throws Exception {
    sandbox = Sandbox.get();
    String user = sandbox.user();
    base = sandbox.home().resolve("pg-repl-" + UUID.randomUUID().toString().substring(0, 8));
    pair =
        PostgresPair.start(
            PostgresPair.node(sandbox, base, "a"),
            PostgresPair.node(sandbox, base, "b"),
            "appdb",
            PASSWORD,
            "b",
            p -> {
              try (Connection c = jdbc(p.primary.port());
                  Statement st = c.createStatement()) {
                st.execute("create table orders (id serial primary key, item text not null)");
              }
              writeRows(p.primary.port(), 500);
            });
    portA = pair.primary.port();
    portB = pair.standby.port();
    Path dataA = pair.primary.data();
    Path dataB = pair.standby.data();

    secretDir = Files.createTempDirectory("crewchief-pg-repl-secret-");
    Path pw = Files.writeString(secretDir.resolve("password"), PASSWORD + "\n");
    HostRef host =
        new HostRef(
            "sandbox",
            "127.0.0.1",
            sandbox.sshPort(),
            user,
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    a = server("A", host, portA, dataA, "a.log", conninfo(portB, "a"), "file:" + pw);
    b = server("B", host, portB, dataB, "b.log", conninfo(portA, "b"), "file:" + pw);
    ssh = new SshHosts(new SecretResolver(Map.of()));
    repl =
        new PostgresReplicationActivitiesImpl(
            new SecretResolver(Map.of()), ssh, Duration.ofSeconds(60));
  }

  @AfterAll
  static void down() throws IOException {
    if (ssh != null) {
      ssh.close();
    }
    if (pair != null) {
      pair.stop();
    }
    Sandbox.run("rm", "-rf", base.toString(), secretDir.toString());
  }

  static Server server(
      String name, HostRef host, int port, Path data, String log, String conninfo, String pwRef) {
    return new Server(
        name,
        host,
        "jdbc:postgresql://127.0.0.1:" + port + "/appdb",
        "crewchief",
        pwRef,
        data.toString(),
        "standby.signal",
        BIN + "pg_ctl -D " + data + " -l " + base.resolve(log) + " -w restart -m fast",
        conninfo);
  }

  /** The connection string one server of the pair uses to reach the other on {@code port}. */
  static String conninfo(int port, String app) {
    PostgresPair.Node self = port == portA ? pair.standby : pair.primary;
    return self.conninfoTo(port == portA ? pair.primary : pair.standby, app);
  }

  // ------------------------------------------------------------------ tests

  @Test
  @Order(1)
  void atFirstAAcceptsWritesAndBFollowsIt() {
    RecoveryState sa = repl.state(new ServerRequest("check", a, false));
    RecoveryState sb = repl.state(new ServerRequest("check", b, false));
    assertFalse(sa.inRecovery());
    assertTrue(sa.acceptsWrites());
    assertNotNull(sa.currentLsn());
    assertTrue(sb.inRecovery());
    assertFalse(sb.acceptsWrites());
    assertNotNull(sb.replayLsn());
    assertTrue(sb.walReceiver().startsWith("streaming"), sb.walReceiver());
    assertFalse((sa + " " + sb).contains(PASSWORD));
    // Read back: a write on B fails, rows written on A arrive on B.
    assertFalse(tryWrite(portB));
    writeRows(portA, 200);
    await(() -> count(portB) == rowsWritten, "rows on B");
    // The probe writes nothing that stays.
    assertEquals(rowsWritten, count(portA));
  }

  @Test
  @Order(2)
  void aDryRunReadsStateAndChangesNothing() {
    int restarts = restartsRun();
    RecoveryState ra = repl.enterRecovery(new ServerRequest("old-to-standby", a, true));
    assertFalse(ra.inRecovery());
    RecoveryState rb = repl.promote(new ServerRequest("promote", b, true));
    assertTrue(rb.inRecovery());
    CatchUp c =
        repl.waitCaughtUp(
            new CatchUpRequest("catch-up", a, b, Duration.ofMillis(50), Duration.ZERO, true));
    assertTrue(c.rehearsed());
    assertEquals(restarts, restartsRun());
    assertFalse(isInRecovery(portA));
    assertTrue(isInRecovery(portB));
    assertFalse(Files.exists(base.resolve("a/standby.signal")));
  }

  @Test
  @Order(3)
  void waitingWhileAIsStillPrimaryRunsOutAsNotCaughtUp() {
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                repl.waitCaughtUp(
                    new CatchUpRequest(
                        "catch-up", a, b, Duration.ofMillis(50), Duration.ofMillis(300), false)));
    assertEquals("PostgresNotCaughtUp", f.getType());
    assertTrue(f.isNonRetryable());
    String m = f.getOriginalMessage();
    assertTrue(m.contains("A primary at ") && m.contains("B replay "), m);
    assertTrue(m.matches("(?s).*[0-9A-F]+/[0-9A-F]+.*[0-9A-F]+/[0-9A-F]+.*"), m);
  }

  @Test
  @Order(4)
  void aWrongPasswordIsPostgresAuthWithoutThePassword() throws IOException {
    String wrong = "wrong-" + UUID.randomUUID();
    Path f = Files.writeString(secretDir.resolve("wrong"), wrong);
    Server bad =
        new Server(
            a.name(),
            a.host(),
            a.jdbcUrl(),
            a.user(),
            "file:" + f,
            a.dataDir(),
            a.recoveryMode(),
            a.restartCommand(),
            a.primaryConninfo());
    ApplicationFailure e =
        assertThrows(
            ApplicationFailure.class, () -> repl.state(new ServerRequest("check", bad, false)));
    assertEquals("PostgresAuth", e.getType());
    assertTrue(e.isNonRetryable());
    assertFalse(e.getOriginalMessage().contains(wrong), e.getOriginalMessage());
    assertFalse(e.getOriginalMessage().contains(PASSWORD), e.getOriginalMessage());
    assertTrue(e.getOriginalMessage().contains("file:" + f), e.getOriginalMessage());
    // Nor does enterRecovery with it touch the host.
    int restarts = restartsRun();
    assertThrows(
        ApplicationFailure.class,
        () -> repl.enterRecovery(new ServerRequest("old-to-standby", bad, false)));
    assertEquals(restarts, restartsRun());
  }

  @Test
  @Order(5)
  void enterRecoveryTurnsAIntoAStandbyOnce() {
    writeRows(portA, 300);
    int restarts = restartsRun();
    RecoveryState s = repl.enterRecovery(new ServerRequest("old-to-standby", a, false));
    assertTrue(s.inRecovery());
    assertFalse(s.acceptsWrites());
    assertEquals(restarts + 1, restartsRun());
    // Read back: A is in recovery and a write on it fails.
    assertTrue(isInRecovery(portA));
    assertFalse(tryWrite(portA));
    assertTrue(Files.exists(base.resolve("a/standby.signal")));
    assertEquals(conninfo(portB, "a"), show(portA, "primary_conninfo"));
    // Idempotent: a second call restarts nothing.
    RecoveryState again = repl.enterRecovery(new ServerRequest("old-to-standby", a, false));
    assertTrue(again.inRecovery());
    assertEquals(restarts + 1, restartsRun());
  }

  @Test
  @Order(6)
  void waitCaughtUpSeesEqualReplayPositionsAndHeartbeats() {
    List<Progress> beats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(repl);
      env.setActivityHeartbeatListener(Progress.class, beats::add);
      CatchUp c =
          stub(env)
              .waitCaughtUp(
                  new CatchUpRequest(
                      "catch-up", a, b, Duration.ofMillis(100), Duration.ofSeconds(30), false));
      assertFalse(c.rehearsed());
      assertTrue(c.from().inRecovery());
      assertTrue(c.to().inRecovery());
      assertTrue(
          PostgresReplicationActivitiesImpl.lsn(c.to().replayLsn())
              >= PostgresReplicationActivitiesImpl.lsn(c.from().replayLsn()),
          c.toString());
      assertTrue(c.polls() >= 1);
    } finally {
      env.close();
    }
    assertFalse(beats.isEmpty());
    assertFalse(beats.toString().contains(PASSWORD));
    assertTrue(beats.get(beats.size() - 1).message().contains("A replay "), beats.toString());
    // Read back: B has every row A took.
    assertEquals(rowsWritten, count(portB));
  }

  @Test
  @Order(7)
  void promoteMakesBThePrimaryWhileAStillRefusesWrites() {
    RecoveryState s = repl.promote(new ServerRequest("promote", b, false));
    assertFalse(s.inRecovery());
    assertTrue(s.acceptsWrites());
    // Read back: a write on B succeeds, A still refuses, B has every row written to A.
    assertFalse(isInRecovery(portB));
    assertEquals(rowsWritten, count(portB));
    writeRows(portB, 10);
    assertEquals(rowsWritten, count(portB));
    assertFalse(tryWrite(portA));
    assertTrue(isInRecovery(portA));
    // A, a standby of B now, follows B onto its new timeline: B's rows arrive on A.
    await(() -> count(portA) == rowsWritten, "B's rows on A");
    // Idempotent: B is reported as primary.
    RecoveryState again = repl.promote(new ServerRequest("promote", b, false));
    assertFalse(again.inRecovery());
    assertTrue(again.acceptsWrites());
  }

  @Test
  @Order(8)
  void waitingForAPrimaryToCatchUpRunsOutAsNotCaughtUp() {
    // B is out of recovery now: the pair can never be "both in recovery".
    ActivityFailure f =
        assertThrows(
            ActivityFailure.class,
            () -> {
              TestActivityEnvironment env = TestActivityEnvironment.newInstance();
              try {
                env.registerActivitiesImplementations(repl);
                stub(env)
                    .waitCaughtUp(
                        new CatchUpRequest(
                            "catch-up",
                            a,
                            b,
                            Duration.ofMillis(50),
                            Duration.ofMillis(200),
                            false));
              } finally {
                env.close();
              }
            });
    ApplicationFailure cause = assertInstanceOf(ApplicationFailure.class, f.getCause());
    assertEquals("PostgresNotCaughtUp", cause.getType());
    assertTrue(cause.isNonRetryable());
    assertFalse(cause.getOriginalMessage().contains(PASSWORD));
  }

  @Test
  @Order(9)
  void enterRecoveryOnAStoppedServerBringsItUpAsAStandby() {
    // What a retry finds when an earlier attempt's restart stopped the server and then failed.
    as(BIN + "pg_ctl", "-D", base.resolve("a").toString(), "-m", "fast", "-w", "stop");
    int restarts = restartsRun();
    RecoveryState s = repl.enterRecovery(new ServerRequest("old-to-standby", a, false));
    assertTrue(s.inRecovery());
    assertFalse(s.acceptsWrites());
    assertEquals(restarts + 1, restartsRun());
    assertTrue(isInRecovery(portA));
    assertFalse(tryWrite(portA));
  }

  @Test
  @Order(10)
  void theRecoveryConfMarkerRenamesRecoveryDoneAndSetsPrimaryConninfoOnce() throws Exception {
    // The 9.x mode's host command, run by a real shell on a data directory of that layout.
    Path dir = Files.createTempDirectory(secretDir, "pg93-");
    Files.writeString(
        dir.resolve("recovery.done"),
        "standby_mode = 'on'\nprimary_conninfo = 'host=old'\ntrigger_file = '/tmp/x'\n");
    Server old =
        new Server(
            "old",
            a.host(),
            a.jdbcUrl(),
            a.user(),
            a.passwordRef(),
            dir.toString(),
            "recovery.conf",
            "true",
            "host=10.0.0.2 port=5432 user=repl");
    String cmd = PostgresReplicationActivitiesImpl.markerCommand(old);
    Sandbox.run("sh", "-c", cmd);
    Sandbox.run("sh", "-c", cmd);
    assertFalse(Files.exists(dir.resolve("recovery.done")));
    assertEquals(
        List.of(
            "standby_mode = 'on'",
            "trigger_file = '/tmp/x'",
            "primary_conninfo = 'host=10.0.0.2 port=5432 user=repl'"),
        Files.readAllLines(dir.resolve("recovery.conf")));
    // Neither file: the step says what is missing.
    Path empty = Files.createTempDirectory(secretDir, "pg93-empty-");
    Server none =
        new Server(
            "none",
            a.host(),
            a.jdbcUrl(),
            a.user(),
            a.passwordRef(),
            empty.toString(),
            "recovery.conf",
            "true",
            null);
    Process p =
        new ProcessBuilder("sh", "-c", PostgresReplicationActivitiesImpl.markerCommand(none))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(3, p.waitFor());
    assertTrue(out.contains("neither recovery.conf nor recovery.done"), out);
  }

  // ------------------------------------------------------------------ helpers

  static PostgresReplicationActivities stub(TestActivityEnvironment env) {
    return env.newActivityStub(
        PostgresReplicationActivities.class,
        ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .setHeartbeatTimeout(Duration.ofSeconds(10))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build());
  }

  static int restartsRun() {
    return (int)
        sandbox.commandsRun().stream()
            .filter(c -> c.contains(" restart ") && c.contains(base.toString()))
            .count();
  }

  /** Runs a command as the sandbox user (the servers' owner) on this machine. */
  static void as(String... cmd) {
    sandbox.runAs(cmd);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static Connection jdbc(int port) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port + "/appdb", "crewchief", PASSWORD);
  }

  static void writeRows(int port, int n) {
    try (Connection c = jdbc(port);
        Statement st = c.createStatement()) {
      st.execute(
          "insert into orders (item) select 'item-' || g from generate_series(1, " + n + ") g");
      rowsWritten += n;
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  /** Whether a real, committed write is accepted (the row is deleted again). */
  static boolean tryWrite(int port) {
    try (Connection c = jdbc(port);
        Statement st = c.createStatement()) {
      st.execute("insert into orders (item) values ('probe')");
      st.execute("delete from orders where item = 'probe'");
      return true;
    } catch (SQLException e) {
      assertEquals("25006", e.getSQLState(), e.getMessage());
      return false;
    }
  }

  static int count(int port) {
    try (Connection c = jdbc(port);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select count(*) from orders")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  static boolean isInRecovery(int port) {
    try (Connection c = jdbc(port);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
      rs.next();
      return rs.getBoolean(1);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  static String show(int port, String setting) {
    try (Connection c = jdbc(port);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("show " + setting)) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not reached within 30 s");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
