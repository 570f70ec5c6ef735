package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.DumpRequest;
import dev.crewchief.activities.DumpResult;
import dev.crewchief.activities.PostgresActivities;
import dev.crewchief.adapters.postgres.PostgresActivitiesImpl;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The PostgreSQL adapter against a real PostgreSQL 15 (deploy/sandbox/postgres.sh). */
class PostgresAdapterTest {
  static PostgresServer pg;
  static PostgresActivitiesImpl postgres;

  @TempDir Path dumps;

  @BeforeAll
  static void up() {
    pg = PostgresServer.get();
    postgres = adapter(new SecretResolver(Map.of()));
  }

  static PostgresActivitiesImpl adapter(SecretResolver secrets) {
    return new PostgresActivitiesImpl(secrets, pg.bin("pg_dump"), pg.bin("pg_restore"));
  }

  static DatabaseRef db(String database, String passwordRef) {
    return new DatabaseRef("atmosphere", "127.0.0.1", pg.port(), database, pg.user(), passwordRef);
  }

  static DatabaseRef db(String database) {
    return db(database, "file:" + pg.passwordFile());
  }

  DumpRequest request(DatabaseRef db, String fileName) {
    return new DumpRequest("backup-" + db.database(), db, dumps.toString(), fileName, false);
  }

  @Test
  void dumpsBothDatabasesRestorably() throws IOException {
    Map<String, Map<String, String>> rows =
        Map.of(
            "atmo_prod", Map.of("identity", "3", "instance", "100"),
            "troposphere", Map.of("maintenance_record", "1", "user_preferences", "2"));
    for (String database : rows.keySet()) {
      String name = database + "-2019-06-16-release-atmosphere-prod-36-1.dump";
      DumpResult r = postgres.dumpDatabase(request(db(database), name));

      Path file = dumps.resolve(name);
      assertFalse(r.rehearsed());
      assertEquals(file.toString(), r.file());
      assertTrue(Files.isRegularFile(file));
      assertTrue(r.bytes() > 0);
      assertEquals(Files.size(file), r.bytes());
      assertEquals(2, r.tables(), r.toString());
      assertFalse(Files.exists(dumps.resolve(name + ".part")));
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      assertFalse(r.toString().contains(pg.password()));
      assertTrue(r.action().contains("--format=custom"), r.action());

      String listing =
          PostgresServer.exec(Map.of(), pg.bin("pg_restore"), "--list", file.toString());
      assertTrue(listing.contains("dbname: " + database), listing);

      // Restorable: into a fresh database, with the rows back.
      String restored = "restored_" + database + "_" + System.nanoTime();
      pg.client("createdb", restored);
      pg.client("pg_restore", "--exit-on-error", "--no-owner", "-d", restored, file.toString());
      for (Map.Entry<String, String> t : rows.get(database).entrySet()) {
        assertEquals(
            t.getValue(), pg.query(restored, "SELECT count(*) FROM " + t.getKey()), t.getKey());
      }
      pg.client("dropdb", restored);
    }
  }

  @Test
  void retryWithTheSameFileNameKeepsTheFile() throws IOException {
    DumpRequest req = request(db("atmo_prod"), "atmo-2019-06-16-36-1.dump");
    DumpResult first = postgres.dumpDatabase(req);
    Path file = Path.of(first.file());
    byte[] bytes = Files.readAllBytes(file);
    FileTime modified = Files.getLastModifiedTime(file);

    DumpResult again = postgres.dumpDatabase(req);
    assertEquals(first.file(), again.file());
    assertEquals(first.bytes(), again.bytes());
    assertEquals(first.tables(), again.tables());
    assertTrue(again.action().startsWith("kept "), again.action());
    assertArrayEquals(bytes, Files.readAllBytes(file));
    assertEquals(modified, Files.getLastModifiedTime(file));

    // A file of that name that is not a dump of this database was not written by the step:
    // it is refused, not overwritten.
    DumpRequest other = request(db("troposphere"), "atmo-2019-06-16-36-1.dump");
    ApplicationFailure f = assertFailure("DumpInvalid", () -> postgres.dumpDatabase(other));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("atmo_prod"), f.getOriginalMessage());
    Path junk = dumps.resolve("junk.dump");
    Files.writeString(junk, "-- plain SQL, not a custom-format dump\n");
    assertFailure(
        "DumpInvalid", () -> postgres.dumpDatabase(request(db("atmo_prod"), "junk.dump")));
    assertEquals("-- plain SQL, not a custom-format dump\n", Files.readString(junk));
  }

  @Test
  void wrongPasswordIsAuthFailedNonRetryable() {
    String wrong = "not-the-password-" + System.nanoTime();
    PostgresActivitiesImpl a = adapter(new SecretResolver(Map.of("ATMO_DB_PASSWORD", wrong)));
    ApplicationFailure f =
        assertFailure(
            "PostgresAuthFailed",
            () -> a.dumpDatabase(request(db("atmo_prod", "env:ATMO_DB_PASSWORD"), "x.dump")));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("env:ATMO_DB_PASSWORD"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(wrong));
    assertFalse(f.getOriginalMessage().contains(pg.password()));
    assertFalse(Files.exists(dumps.resolve("x.dump")));
    assertFalse(Files.exists(dumps.resolve("x.dump.part")));
  }

  @Test
  void unknownDatabaseIsDatabaseMissing() {
    ApplicationFailure f =
        assertFailure(
            "DatabaseMissing", () -> postgres.dumpDatabase(request(db("atmo_nope"), "n.dump")));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("atmo_nope"), f.getOriginalMessage());
    assertFalse(f.getOriginalMessage().contains(pg.password()));
  }

  @Test
  void nothingListeningIsUnreachableAndRetryable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    DatabaseRef gone =
        new DatabaseRef(
            "gone", "127.0.0.1", port, "atmo_prod", "atmo_app", "file:" + pg.passwordFile());
    ApplicationFailure f =
        assertFailure("PostgresUnreachable", () -> postgres.dumpDatabase(request(gone, "g.dump")));
    assertFalse(f.isNonRetryable());
    assertFalse(f.getOriginalMessage().contains(pg.password()));
  }

  @Test
  void missingPgDumpIsToolMissing() {
    PostgresActivitiesImpl a =
        new PostgresActivitiesImpl(
            new SecretResolver(Map.of()), "/nonexistent/pg_dump", pg.bin("pg_restore"));
    ApplicationFailure f =
        assertFailure("ToolMissing", () -> a.dumpDatabase(request(db("atmo_prod"), "t.dump")));
    assertTrue(f.isNonRetryable());
  }

  @Test
  void dryRunTouchesNothingAndShowsTheCommandWithoutThePassword() throws IOException {
    Path dir = dumps.resolve("not-created");
    // The password resolves (the real dump needs it) but is neither used nor shown.
    DumpRequest req =
        new DumpRequest(
            "backup", db("atmo_prod", "env:REHEARSED_PASSWORD"), dir.toString(), "a.dump", true);
    DumpResult r =
        new PostgresActivitiesImpl(new SecretResolver(Map.of("REHEARSED_PASSWORD", "pw-1234")))
            .dumpDatabase(req);
    assertTrue(r.rehearsed());
    assertFalse(r.toString().contains("pw-1234"), r.toString());
    assertEquals(dir.resolve("a.dump").toString(), r.file());
    assertEquals(0, r.bytes());
    assertTrue(r.action().startsWith("PGPASSWORD=<env:REHEARSED_PASSWORD> pg_dump "), r.action());
    assertTrue(r.action().contains("--port=" + pg.port()), r.action());
    assertTrue(r.action().contains("--file=" + dir.resolve("a.dump.part")), r.action());
    assertFalse(Files.exists(dir));

    // A password the real dump could not find fails the rehearsal, naming the reference.
    DumpRequest unset =
        new DumpRequest(
            "backup", db("atmo_prod", "env:UNSET_PASSWORD"), dir.toString(), "a.dump", true);
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> new PostgresActivitiesImpl(new SecretResolver(Map.of())).dumpDatabase(unset));
    assertEquals("SecretUnresolved", f.getType());
    assertTrue(f.getOriginalMessage().contains("env:UNSET_PASSWORD"), f.getOriginalMessage());
    assertFalse(Files.exists(dir));

    DumpResult withFile =
        postgres.dumpDatabase(
            new DumpRequest("backup", db("atmo_prod"), dumps.toString(), "b.dump", true));
    assertFalse(withFile.action().contains(pg.password()), withFile.action());
    try (var files = Files.list(dumps)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void heartbeatsWhileTheDumpRunsAsAnActivity() throws IOException {
    // A pg_dump that takes a few seconds to start, so that the adapter heartbeats at least once.
    Path slow = dumps.resolve("slow-pg_dump");
    Files.writeString(slow, "#!/bin/sh\nsleep 3\nexec " + pg.bin("pg_dump") + " \"$@\"\n");
    slow.toFile().setExecutable(true);
    Path out = dumps.resolve("out");
    List<String> heartbeats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(
          new PostgresActivitiesImpl(
              new SecretResolver(Map.of()), slow.toString(), pg.bin("pg_restore")));
      env.setActivityHeartbeatListener(String.class, heartbeats::add);
      PostgresActivities stub =
          env.newActivityStub(
              PostgresActivities.class,
              ActivityOptions.newBuilder()
                  .setStartToCloseTimeout(Duration.ofMinutes(1))
                  .setHeartbeatTimeout(Duration.ofSeconds(10))
                  .build());
      DumpResult r =
          stub.dumpDatabase(
              new DumpRequest("backup", db("troposphere"), out.toString(), "t.dump", false));
      assertEquals(2, r.tables());
      assertFalse(heartbeats.isEmpty());
      assertTrue(heartbeats.get(0).startsWith("pg_dump of "), heartbeats.get(0));
      assertFalse(heartbeats.toString().contains(pg.password()));
    } finally {
      env.close();
    }
  }

  @Test
  void invalidInputIsRefusedWithoutEchoingAPassword() {
    assertFailure(
        "InvalidInput", () -> postgres.dumpDatabase(request(db("atmo_prod"), "../escape.dump")));
    assertFailure(
        "InvalidInput",
        () -> postgres.dumpDatabase(request(db("host=evil dbname=atmo_prod"), "c.dump")));
    // A password pasted where the reference belongs is refused and not repeated.
    ApplicationFailure f =
        assertFailure(
            "InvalidInput",
            () -> postgres.dumpDatabase(request(db("atmo_prod", "hunter2-secret"), "d.dump")));
    assertFalse(f.getOriginalMessage().contains("hunter2-secret"));
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }
}
