package dev.crewchief.adapters;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A real PostgreSQL 15 primary and its streaming standby, built for a test: the primary by {@code
 * initdb}, the standby from it by {@code pg_basebackup -R}, each server run by the user of a
 * sandbox host (one host for both, or one each) so an adapter restarts them over SSH. Role {@code
 * crewchief} (superuser, replication) logs in with a password over TCP on 127.0.0.1 (scram); the
 * standby's {@code primary_conninfo} reads it from a passfile in its own base directory, never from
 * the config. Fast, not durable ({@code fsync = off}): a test's data set is made again each run.
 */
public final class PostgresPair {
  public static final String BIN = "/usr/lib/postgresql/15/bin/";
  public static final String ROLE = "crewchief";

  /**
   * Where one server lives: its host's user runs it; {@code base} holds its passfile and socket,
   * {@code data} its cluster, {@code log} its server log.
   */
  public record Node(Sandbox host, Path base, Path data, Path log, int port) {
    public Path passfile() {
      return base.resolve("pgpass");
    }

    /** The connection string this node uses to reach {@code upstream}, with its own passfile. */
    public String conninfoTo(Node upstream, String applicationName) {
      return "host=127.0.0.1 port="
          + upstream.port
          + " user="
          + ROLE
          + " passfile="
          + passfile()
          + " application_name="
          + applicationName;
    }

    public String jdbcUrl(String database) {
      return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }
  }

  public final Node primary;
  public final Node standby;
  public final String database;
  public final String password;

  private PostgresPair(Node primary, Node standby, String database, String password) {
    this.primary = primary;
    this.standby = standby;
    this.database = database;
    this.password = password;
  }

  /** A node on {@code host} in {@code base}, its cluster in {@code base/<name>}, on a free port. */
  public static Node node(Sandbox host, Path base, String name) throws IOException {
    return new Node(host, base, base.resolve(name), base.resolve(name + ".log"), freePort());
  }

  /**
   * Builds and starts both servers: the primary with {@code database} owned by the role, then the
   * standby streaming from it (named {@code standbyName} in {@code pg_stat_replication}). {@code
   * setup} runs on the primary before the base backup, so the standby starts with its tables.
   */
  public static PostgresPair start(
      Node primary,
      Node standby,
      String database,
      String password,
      String standbyName,
      SqlSetup setup)
      throws Exception {
    Set<Path> bases = new HashSet<>();
    for (Node n : List.of(primary, standby)) {
      if (!bases.add(n.base)) {
        continue; // both servers in one base: one passfile
      }
      Files.createDirectories(n.base);
      Files.writeString(n.passfile(), "127.0.0.1:*:*:" + ROLE + ":" + password + "\n");
      Sandbox.run("chown", "-R", n.host.user() + ":", n.base.toString());
      Sandbox.run("chmod", "700", n.base.toString());
      Sandbox.run("chmod", "600", n.passfile().toString());
    }

    as(
        primary.host,
        BIN + "initdb",
        "-D",
        primary.data.toString(),
        "-U",
        "postgres",
        "-A",
        "trust",
        "--no-sync");
    as(
        primary.host,
        "sh",
        "-c",
        "cat >> "
            + primary.data
            + "/postgresql.conf <<'EOF'\nport = "
            + primary.port
            + "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '"
            + primary.base
            + "'\nwal_level = replica\nmax_wal_senders = 5\nwal_keep_size = 256MB\n"
            + "fsync = off\nfull_page_writes = off\npassword_encryption = 'scram-sha-256'\nEOF\n"
            + "printf '%s\\n' 'local all all trust' 'host all all 127.0.0.1/32 scram-sha-256'"
            + " 'host replication all 127.0.0.1/32 scram-sha-256' > "
            + primary.data
            + "/pg_hba.conf");
    pgCtlStart(primary);
    as(
        primary.host,
        BIN + "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        primary.base.toString(),
        "-p",
        String.valueOf(primary.port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-c",
        "CREATE ROLE " + ROLE + " LOGIN SUPERUSER REPLICATION PASSWORD '" + password + "'",
        "-c",
        "CREATE DATABASE " + database + " OWNER " + ROLE);
    PostgresPair pair = new PostgresPair(primary, standby, database, password);
    setup.run(pair);

    as(
        standby.host,
        "env",
        "PGPASSFILE=" + standby.passfile(),
        BIN + "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        String.valueOf(primary.port),
        "-U",
        ROLE,
        "-D",
        standby.data.toString(),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        "--no-sync");
    Files.writeString(
        standby.data.resolve("postgresql.conf"),
        "port = " + standby.port + "\nunix_socket_directories = '" + standby.base + "'\n",
        StandardOpenOption.APPEND);
    // Our own primary_conninfo, with the password in the passfile rather than where -R put it.
    Files.writeString(
        standby.data.resolve("postgresql.auto.conf"),
        "primary_conninfo = '" + standby.conninfoTo(primary, standbyName) + "'\n");
    pgCtlStart(standby);
    return pair;
  }

  /** What to create on the primary before the standby is made from it. */
  @FunctionalInterface
  public interface SqlSetup {
    void run(PostgresPair pair) throws Exception;
  }

  /** Stops both servers at once ({@code -m immediate}); one not running is fine. */
  public void stop() {
    for (Node n : List.of(primary, standby)) {
      try {
        as(n.host, BIN + "pg_ctl", "-D", n.data.toString(), "-m", "immediate", "-w", "stop");
      } catch (RuntimeException e) {
        // Not running.
      }
    }
  }

  private static void pgCtlStart(Node n) {
    as(
        n.host,
        BIN + "pg_ctl",
        "-D",
        n.data.toString(),
        "-l",
        n.log.toString(),
        "-w",
        "-t",
        "60",
        "start");
  }

  private static void as(Sandbox host, String... cmd) {
    host.runAs(cmd);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
