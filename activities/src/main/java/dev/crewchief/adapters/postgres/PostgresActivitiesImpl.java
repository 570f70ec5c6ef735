package dev.crewchief.adapters.postgres;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.DatabaseRef;
import dev.crewchief.activities.DumpRequest;
import dev.crewchief.activities.DumpResult;
import dev.crewchief.activities.PostgresActivities;
import dev.crewchief.adapters.io.ActivityIo;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PostgresActivities} with the PostgreSQL client tools on the worker.
 *
 * <p>Why the {@code pg_dump} binary and not JDBC: it is the only tool that takes a consistent,
 * restorable dump of a whole database (schema, data, sequences, ownership), it is what the runbooks
 * use, and a dump it wrote is restored with the matching {@code pg_restore}. The custom format
 * ({@code -Fc}) rather than the runbook's plain SQL makes "restorable" checkable: {@code pg_restore
 * --list} reads the archive's table of contents without a server, and a truncated or foreign file
 * fails it. The password reaches {@code pg_dump} in {@code PGPASSWORD} of its environment, never on
 * its command line (visible to every user in {@code ps}) and never in a result or a message.
 *
 * <p>Error classification reads the tools' messages, which are in English as long as the server's
 * {@code lc_messages} is (the client side is forced to the C locale here).
 */
public final class PostgresActivitiesImpl implements PostgresActivities {
  private static final Logger log = LoggerFactory.getLogger(PostgresActivitiesImpl.class);
  // A dump of a production database may take a while; the activity's own start-to-close timeout
  // is the real limit (the next heartbeat after it then stops pg_dump). This one only bounds a
  // hung tool when called outside an activity.
  private static final Duration DUMP_TIMEOUT = Duration.ofHours(6);
  private static final Duration LIST_TIMEOUT = Duration.ofMinutes(5);
  private static final long HEARTBEAT_MILLIS = 2_000;
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  // "215; 1259 16388 TABLE public identity atmo_app", but not "... TABLE DATA public ...".
  private static final Pattern TABLE_ENTRY = Pattern.compile("^\\d+; \\d+ \\d+ TABLE (?!DATA )");
  private static final Pattern TOC_ENTRIES = Pattern.compile("^;\\s+TOC Entries: (\\d+)\\s*$");
  private static final Pattern DUMPED_DB = Pattern.compile("^;\\s+dbname: (.*)$");
  private static final Pattern MISSING_DB = Pattern.compile("database \".*\" does not exist");

  private final SecretResolver secrets;
  private final String pgDump;
  private final String pgRestore;

  /** With {@code pg_dump} and {@code pg_restore} found on the worker's PATH. */
  public PostgresActivitiesImpl(SecretResolver secrets) {
    this(secrets, "pg_dump", "pg_restore");
  }

  /**
   * @param pgDump the {@code pg_dump} to run (a path, or a name looked up on PATH); its major
   *     version must be at least the server's
   * @param pgRestore the {@code pg_restore} that verifies dumps, of the same version as {@code
   *     pgDump}
   */
  public PostgresActivitiesImpl(SecretResolver secrets, String pgDump, String pgRestore) {
    this.secrets = secrets;
    this.pgDump = pgDump;
    this.pgRestore = pgRestore;
  }

  @Override
  public DumpResult dumpDatabase(DumpRequest r) {
    validate(r);
    DatabaseRef db = r.database();
    Path file = Path.of(r.directory()).resolve(r.fileName());
    Path part = Path.of(r.directory()).resolve(r.fileName() + ".part");
    List<String> command =
        List.of(
            pgDump,
            "--host=" + db.host(),
            "--port=" + db.port(),
            "--username=" + db.user(),
            "--no-password",
            "--format=custom",
            "--file=" + part,
            db.database());
    String action =
        "PGPASSWORD=<"
            + db.passwordRef()
            + "> "
            + render(command)
            + " && "
            + render(List.of(pgRestore, "--list", part.toString()))
            + " && mv "
            + q(part.toString())
            + " "
            + q(file.toString());
    if (r.dryRun()) {
      password(db); // the real dump needs it: a rehearsal checks that it resolves on this worker
      return new DumpResult(action, true, file.toString(), 0, 0);
    }

    if (Files.exists(file)) {
      // An earlier attempt finished (only verified dumps are ever renamed to this name): keep it.
      // A file that does not verify was not written by this step and is not ours to overwrite.
      Toc toc = verify(file, db, "");
      log.info(
          "step '{}': {} already holds a verified dump of {}, kept", r.step(), file, db.describe());
      return new DumpResult(
          "kept " + file + ", an earlier verified dump of " + db.describe(),
          false,
          file.toString(),
          size(file),
          toc.tables());
    }

    String password = password(db);
    prepare(part);
    log.info("step '{}': dumping {} to {}", r.step(), db.describe(), file);
    Run dump =
        run(
            command,
            Map.of("PGPASSWORD", password),
            () -> "pg_dump of " + db.describe() + ": " + sizeOrZero(part) + " bytes written",
            DUMP_TIMEOUT,
            password);
    if (dump.exit() != 0) {
      deleteQuietly(part);
      throw classify(db, dump.stderr());
    }
    Toc toc = verify(part, db, password);
    try {
      Files.move(part, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot rename " + part + " to " + file + ": " + e.getMessage(), "DumpFailed");
    }
    long bytes = size(file);
    log.info(
        "step '{}': dumped {} to {} ({} bytes, {} tables)",
        r.step(),
        db.describe(),
        file,
        bytes,
        toc.tables());
    return new DumpResult(action, false, file.toString(), bytes, toc.tables());
  }

  private static void validate(DumpRequest r) {
    DatabaseRef db = r.database();
    if (db == null) {
      throw invalid("no database given for step " + r.step());
    }
    if (blank(db.host()) || db.host().chars().anyMatch(Character::isWhitespace)) {
      throw invalid("database " + db.name() + " has no valid host: configure its host");
    }
    if (db.port() < 1 || db.port() > 65535) {
      throw invalid("database " + db.name() + " has port " + db.port() + ": configure 1-65535");
    }
    if (blank(db.user()) || db.user().startsWith("-")) {
      throw invalid("database " + db.name() + " has no valid user: configure its user");
    }
    // pg_dump reads a database "name" with '=' or a URI prefix as a connection string, which could
    // carry a password or point elsewhere; only plain names are accepted.
    if (blank(db.database())
        || db.database().startsWith("-")
        || db.database().contains("=")
        || db.database().startsWith("postgres://")
        || db.database().startsWith("postgresql://")) {
      throw invalid(
          "database "
              + db.name()
              + " needs a plain database name (not a connection string): configure database");
    }
    if (!SecretResolver.wellFormed(db.passwordRef())) {
      // The value is not repeated: a malformed reference may be the password itself.
      throw invalid(
          "the password reference of database "
              + db.name()
              + " is not of the form file:/path or env:NAME: configure a reference, never the"
              + " password itself");
    }
    if (blank(r.directory()) || !Path.of(r.directory()).isAbsolute()) {
      throw invalid("dump directory '" + r.directory() + "' must be an absolute path");
    }
    if (r.fileName() == null
        || !FILE_NAME.matcher(r.fileName()).matches()
        || r.fileName().endsWith(".part")) {
      throw invalid(
          "dump file name '"
              + r.fileName()
              + "' must be a plain file name (letters, digits, '.', '_', '-'), not ending in .part");
    }
  }

  private String password(DatabaseRef db) {
    String value = secrets.resolve(db.passwordRef(), "the password of " + db.describe());
    // Password files usually end with a newline that is not part of the password.
    String password = value.replaceAll("[\r\n]+$", "");
    if (password.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "secret " + db.passwordRef() + " for the password of " + db.describe() + " is empty",
          "SecretUnresolved");
    }
    return password;
  }

  private static void prepare(Path part) {
    try {
      Files.createDirectories(part.getParent());
      // Created here, readable by the worker's user only: pg_dump truncates and fills it but keeps
      // its mode, and a database dump must not be world-readable.
      Files.deleteIfExists(part);
      Files.createFile(
          part, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (IOException e) {
      throw invalid(
          "cannot write "
              + part
              + " on this worker ("
              + e.getClass().getSimpleName()
              + " "
              + e.getMessage()
              + "): configure a writable dump directory");
    }
  }

  /**
   * Reads the dump's table of contents; fails {@code DumpInvalid} unless it is one of {@code db}.
   */
  private Toc verify(Path f, DatabaseRef db, String password) {
    if (size(f) == 0) {
      throw dumpInvalid(f + " is empty");
    }
    Run list =
        run(
            List.of(pgRestore, "--list", f.toString()),
            Map.of(),
            () -> "verifying " + f,
            LIST_TIMEOUT,
            password);
    if (list.exit() != 0) {
      throw dumpInvalid(
          "pg_restore --list cannot read "
              + f
              + " as a custom-format dump: "
              + tail(list.stderr()));
    }
    int tocEntries = -1;
    String dumped = null;
    int tables = 0;
    for (String line : list.stdout().lines().toList()) {
      Matcher m = TOC_ENTRIES.matcher(line);
      if (m.matches()) {
        tocEntries = Integer.parseInt(m.group(1));
      }
      Matcher d = DUMPED_DB.matcher(line);
      if (d.matches()) {
        dumped = d.group(1).strip();
      }
      if (TABLE_ENTRY.matcher(line).find()) {
        tables++;
      }
    }
    if (tocEntries <= 0 || !list.stdout().contains("Format: CUSTOM")) {
      throw dumpInvalid(f + " has no table of contents of a custom-format dump");
    }
    if (!db.database().equals(dumped)) {
      throw dumpInvalid(f + " is a dump of database " + dumped + ", not of " + db.database());
    }
    return new Toc(tocEntries, tables);
  }

  private static ApplicationFailure dumpInvalid(String what) {
    return ApplicationFailure.newNonRetryableFailure(
        what
            + ": move the file away or choose another file name; check the disk and that"
            + " pg_restore is of pg_dump's version",
        "DumpInvalid");
  }

  private ApplicationFailure classify(DatabaseRef db, String stderr) {
    String s = stderr.toLowerCase();
    String why = tail(stderr);
    if (s.contains("password authentication failed")
        || s.contains("no password supplied")
        || s.contains("no pg_hba.conf entry")
        || (s.contains("role \"") && s.contains("does not exist"))) {
      return ApplicationFailure.newNonRetryableFailure(
          db.describe()
              + " refused the login: check the user and the password in "
              + db.passwordRef()
              + ", and that pg_hba.conf admits this worker ("
              + why
              + ")",
          "PostgresAuthFailed");
    }
    if (MISSING_DB.matcher(s).find()) {
      return ApplicationFailure.newNonRetryableFailure(
          "database "
              + db.database()
              + " does not exist on "
              + db.host()
              + ":"
              + db.port()
              + ": check the database name configured for "
              + db.name()
              + " ("
              + why
              + ")",
          "DatabaseMissing");
    }
    if (s.contains("permission denied") || s.contains("must be owner")) {
      return ApplicationFailure.newNonRetryableFailure(
          "user "
              + db.user()
              + " may not read all of "
              + db.database()
              + ": dump as the owner or grant it read access ("
              + why
              + ")",
          "PostgresAuthFailed");
    }
    if (s.contains("server version mismatch")) {
      return ApplicationFailure.newNonRetryableFailure(
          pgDump
              + " is older than the server of "
              + db.describe()
              + ": install a pg_dump of the server's major version or later and configure its path"
              + " ("
              + why
              + ")",
          "ToolMissing");
    }
    if (s.contains("connection refused")
        || s.contains("could not translate host name")
        || s.contains("timeout expired")
        || s.contains("could not connect")
        || s.contains("no route to host")
        || s.contains("network is unreachable")
        || s.contains("connection timed out")
        || s.contains("server closed the connection")
        || s.contains("the database system is")
        || s.contains("too many clients")) {
      return ApplicationFailure.newFailure(
          "cannot reach " + db.describe() + ": " + why, "PostgresUnreachable");
    }
    return ApplicationFailure.newFailure(
        "pg_dump of " + db.describe() + " failed: " + why, "DumpFailed");
  }

  private record Toc(int entries, int tables) {}

  private record Run(int exit, String stdout, String stderr) {}

  /**
   * Runs a tool, heartbeating with {@code progress} while it runs; {@code secret} is scrubbed from
   * what it printed.
   */
  private static Run run(
      List<String> command,
      Map<String, String> env,
      Supplier<String> progress,
      Duration timeout,
      String secret) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    // English messages from libpq and the tools, which classify() reads; a connect timeout so
    // that an unreachable host fails (and is retried) instead of hanging.
    pb.environment().put("LC_ALL", "C");
    pb.environment().remove("LANGUAGE");
    pb.environment().putIfAbsent("PGCONNECT_TIMEOUT", "15");
    pb.environment().put("PGAPPNAME", "crewchief");
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw ApplicationFailure.newNonRetryableFailure(
          "cannot run "
              + command.get(0)
              + " on this worker ("
              + e.getMessage()
              + "): install the PostgreSQL client tools (Debian: postgresql-client) or configure"
              + " the path of "
              + command.get(0),
          "ToolMissing");
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread outReader = ActivityIo.drain(p.getInputStream(), out, "pg-stdout");
      Thread errReader = ActivityIo.drain(p.getErrorStream(), err, "pg-stderr");
      long deadline = System.nanoTime() + timeout.toNanos();
      // This thread heartbeats while the tool runs: a worker that dies mid-dump is noticed within
      // the heartbeat timeout, and a cancelled or timed-out activity stops the tool (the
      // heartbeat throws, and the finally block below kills the process).
      while (!p.waitFor(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          throw ApplicationFailure.newFailure(
              command.get(0) + " did not finish within " + timeout, "DumpFailed");
        }
        ActivityIo.heartbeat(progress.get());
      }
      outReader.join(5_000);
      errReader.join(5_000);
      return new Run(
          p.exitValue(),
          out.toString(StandardCharsets.UTF_8),
          scrub(err.toString(StandardCharsets.UTF_8), secret));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApplicationFailure.newFailure(
          "interrupted while running " + command.get(0), "DumpFailed");
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }

  private static String scrub(String text, String secret) {
    // Defensive: no PostgreSQL tool prints the password, but nothing that might reach history
    // should rely on that. Very short passwords are left alone rather than garbling every word.
    return secret.length() >= 4 ? text.replace(secret, "***") : text;
  }

  private static String render(List<String> command) {
    List<String> words = new ArrayList<>();
    for (String w : command) {
      words.add(q(w));
    }
    return String.join(" ", words);
  }

  private static String tail(String s) {
    String t = s.strip();
    return t.length() > 1500 ? "..." + t.substring(t.length() - 1500) : t;
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      throw ApplicationFailure.newFailure(
          "cannot read the size of " + f + ": " + e.getMessage(), "DumpFailed");
    }
  }

  private static long sizeOrZero(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      return 0;
    }
  }

  private static void deleteQuietly(Path f) {
    try {
      Files.deleteIfExists(f);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", f, e.getMessage());
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }
}
