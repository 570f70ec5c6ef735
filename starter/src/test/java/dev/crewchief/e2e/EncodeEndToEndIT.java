package dev.crewchief.e2e;

import static dev.crewchief.adapters.GitRepos.git;
import static dev.crewchief.adapters.GitRepos.identify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.crewchief.adapters.PostgresPair;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.SmtpServer;
import dev.crewchief.adapters.aws.MotoServer;
import dev.crewchief.adapters.elasticsearch.EsCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKeyMetadata;
import software.amazon.awssdk.services.iam.model.StatusType;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * ENCODE's release end to end: the worker and the CLI as processes, the real Temporal server, two
 * hosts over SSH (the old production server and the new master, each a sandbox sshd with a user of
 * its own), a real PostgreSQL on each (the new one a streaming standby of the old), an nginx proxy
 * on each host in front of the app, moto's EC2, IAM and S3, a three-node Elasticsearch cluster in
 * this JVM, the SMTP server, and the indexer's status endpoint and both app servers as HTTP servers
 * here. A whole clustered release runs while a prober asks through both proxies and a writer writes
 * to whichever database takes writes: every request is answered by the old or the new app, every
 * write the writer saw acknowledged is in the new primary, none was taken by the old database after
 * the new one took its first, and the report states how long writes were unavailable.
 */
class EncodeEndToEndIT {
  static final String ENV = "ccenc";
  static final String PG_BIN = "/usr/lib/postgresql/15/bin/";
  static final String PASSWORD = "pg-" + UUID.randomUUID().toString().replace("-", "");
  static final String OLD_APP = "ENCODE v91 on the old server";
  static final String NEW_APP = "ENCODE v92 on the new server";
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static Sandbox oldHost;
  static Sandbox newHost;
  static Path oldPg;
  static Path newPg;
  static int oldPort;
  static int newPort;
  static PostgresPair pair;
  static Path shared;
  static EsCluster es;
  static SmtpServer smtp;
  static final List<HttpServer> servers = new ArrayList<>();
  static HttpServer indexer;
  static final AtomicInteger indexerPolls = new AtomicInteger();
  static int oldAppPort;
  static int newAppPort;
  static int proxy1Port;
  static int proxy2Port;
  static Path origin;
  static Path clone;
  static Path secrets;
  static Ec2Client ec2;
  static IamClient iam;
  static S3Client s3;
  static final Map<String, String> activeKeyBefore = new HashMap<>();
  static Stack stack;
  static WorkerProcess worker;
  static Crewchief cc;
  static Histories histories;
  static Thread cloudInit;

  @BeforeAll
  static void up() throws Exception {
    oldHost = Sandbox.get("ccencold");
    newHost = Sandbox.get("ccencnew");
    es = EsCluster.get();
    smtp = SmtpServer.get();
    secrets = Files.createTempDirectory("crewchief-encode-secrets-");
    Files.writeString(secrets.resolve("pg-password"), PASSWORD + "\n");
    Files.writeString(secrets.resolve("smtp-user"), smtp.user + "\n");

    postgresPair();
    aws();
    httpServers();
    proxy(oldHost, proxy1Port = freePort(), "encode-proxy");
    proxy(newHost, proxy2Port = freePort(), "encode-backup-proxy");
    hostFiles();
    gitRepos();

    Path config = secrets.resolve("encode-crewchief.yaml");
    Files.writeString(config, config());
    stack =
        Stack.start(
            config.toString(),
            Map.of("ENC_AWS_KEY", MotoServer.ACCESS_KEY, "ENC_AWS_SECRET", MotoServer.SECRET_KEY));
    worker = stack.worker;
    cc = stack.cc;
    histories = stack.histories;
  }

  @AfterAll
  static void down() throws Exception {
    if (stack != null) {
      stack.close();
    }
    for (HttpServer s : servers) {
      s.stop(0);
    }
    if (cloudInit != null) {
      cloudInit.interrupt();
    }
    if (pair != null) {
      pair.stop();
    }
    for (AutoCloseable c : new AutoCloseable[] {ec2, iam, s3}) {
      if (c != null) {
        c.close();
      }
    }
  }

  // ------------------------------------------------------------------ the systems

  /**
   * The old server's PostgreSQL (the primary, run by the old host's user) and the new server's, a
   * streaming standby of it made with pg_basebackup (run by the new host's user). Each user has a
   * passfile of its own for the replication connection.
   */
  static void postgresPair() throws Exception {
    oldPg = oldHost.home().resolve("pg");
    newPg = newHost.home().resolve("pg");
    pair =
        PostgresPair.start(
            new PostgresPair.Node(
                oldHost, oldPg, oldPg.resolve("data"), oldPg.resolve("pg.log"), freePort()),
            new PostgresPair.Node(
                newHost, newPg, newPg.resolve("data"), newPg.resolve("pg.log"), freePort()),
            "encoded",
            PASSWORD,
            "new",
            p -> {
              try (Connection c = jdbc(p.primary.port());
                  Statement st = c.createStatement()) {
                st.execute(
                    "create table writes (v text primary key, at timestamptz not null default"
                        + " clock_timestamp())");
                st.execute(
                    "insert into writes (v) select 'seed-' || g from generate_series(1, 1000) g");
              }
            });
    oldPort = pair.primary.port();
    newPort = pair.standby.port();
  }

  /**
   * moto: the two service users, each with its key in use (active) and an old inactive one; the
   * servers' instance profile; the backup and log buckets; the image the servers boot.
   */
  static void aws() {
    var creds =
        StaticCredentialsProvider.create(
            AwsBasicCredentials.create(MotoServer.ACCESS_KEY, MotoServer.SECRET_KEY));
    URI endpoint = URI.create(MotoServer.endpoint());
    Region region = Region.of(MotoServer.REGION);
    ec2 =
        Ec2Client.builder()
            .endpointOverride(endpoint)
            .region(region)
            .credentialsProvider(creds)
            .build();
    iam =
        IamClient.builder()
            .endpointOverride(endpoint)
            .region(Region.AWS_GLOBAL)
            .credentialsProvider(creds)
            .build();
    s3 =
        S3Client.builder()
            .endpointOverride(endpoint)
            .region(region)
            .forcePathStyle(true)
            .credentialsProvider(creds)
            .build();
    for (String user : List.of("write-encoded-backups", "upload-encode-files")) {
      iam.createUser(b -> b.userName(user));
      String active = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
      String old = iam.createAccessKey(b -> b.userName(user)).accessKey().accessKeyId();
      iam.updateAccessKey(b -> b.userName(user).accessKeyId(old).status(StatusType.INACTIVE));
      activeKeyBefore.put(user, active);
    }
    iam.createInstanceProfile(b -> b.instanceProfileName("production"));
    for (String bucket : List.of("encoded-backups", "encoded-logs")) {
      s3.createBucket(b -> b.bucket(bucket));
    }
  }

  static String ami() {
    return ec2.describeImages(b -> b.owners("amazon")).images().get(0).imageId();
  }

  /**
   * The app on each server (here, answering which it is) and the new server's indexer status: the
   * first polls find the first full indexing running, later ones find it done.
   */
  static void httpServers() throws IOException {
    oldAppPort = app(OLD_APP);
    newAppPort = app(NEW_APP);
    indexer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    indexer.createContext(
        "/_indexer",
        x -> {
          int n = indexerPolls.incrementAndGet();
          LocalDateTime now = LocalDateTime.now(ZoneOffset.UTC);
          String body =
              n <= 3
                  ? "{\"status\":\"indexing\",\"started\":\""
                      + now.minusHours(30)
                      + "\",\"timestamp\":\""
                      + now.minusHours(30)
                      + "\",\"listening\":true,\"errors\":[],\"results\":[]}"
                  : "{\"status\":\"waiting\",\"started\":\""
                      + now.minusHours(30)
                      + "\",\"timestamp\":\""
                      + now
                      + "\",\"listening\":true,\"errors\":[],\"results\":[{\"title\":"
                      + "\"primary_indexer\",\"xmin\":9000,\"last_xmin\":null,\"indexed\":"
                      + "120000,\"indexing_elapsed\":\"1 day, 6:00:03.250000\",\"timestamp\":\""
                      + now.minusMinutes(1)
                      + "\"}]}";
          byte[] b = body.getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", "application/json");
          x.sendResponseHeaders(200, b.length);
          x.getResponseBody().write(b);
          x.close();
        });
    indexer.start();
    servers.add(indexer);
  }

  /** An app server answering {@code text} on a port of its own; returns the port. */
  static int app(String text) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext(
        "/",
        x -> {
          byte[] b = (text + "\n").getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, b.length);
          x.getResponseBody().write(b);
          x.close();
        });
    s.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    s.start();
    servers.add(s);
    return s.getAddress().getPort();
  }

  /**
   * A proxy: a server block of the host's nginx listening on {@code port}, proxying to the old app,
   * in a file of its own that the release edits; nginx reloaded until it answers.
   */
  static void proxy(Sandbox host, int port, String name) throws Exception {
    Path file = host.home().resolve("nginx/sites/" + name + ".conf");
    Files.writeString(
        file,
        "server {\n  listen 127.0.0.1:"
            + port
            + ";\n  location / { proxy_pass http://127.0.0.1:"
            + oldAppPort
            + "; }\n}\n");
    Sandbox.run("chown", host.user() + ":", file.toString());
    as(host, "sh", "-c", nginx(host) + " -s reload");
    String url = "http://127.0.0.1:" + port + "/";
    for (int i = 0; i < 100; i++) {
      try {
        if (get(url).contains(OLD_APP)) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError("proxy " + name + " never answered with the old app");
  }

  static String nginx(Sandbox host) {
    String n = host.home() + "/nginx";
    return "/usr/sbin/nginx -p " + n + "/ -e " + n + "/logs/error.log -c " + n + "/conf/nginx.conf";
  }

  /**
   * What the release finds on the hosts: the backup script (a base backup uploaded to moto's S3
   * with WAL-E's layout, its stop sentinel last), the app's apache config with the file indexer on,
   * the old server's logs, and the new server's cloud-init log, finished once its master is seen
   * launched on EC2.
   */
  static void hostFiles() throws Exception {
    for (Sandbox h : List.of(oldHost, newHost)) {
      Path home = h.home();
      int port = h == oldHost ? oldPort : newPort;
      Path base = h == oldHost ? oldPg : newPg;
      Files.writeString(
          home.resolve("backup-aws"), MotoServer.ACCESS_KEY + ":" + MotoServer.SECRET_KEY + "\n");
      Files.writeString(
          home.resolve("encode-backup.sh"),
          "#!/bin/bash\n"
              + "# A base backup of this server's PostgreSQL pushed to S3, laid out as WAL-E's.\n"
              + "set -euo pipefail\n"
              + "d=$(mktemp -d)\n"
              + "trap 'rm -rf \"$d\"' EXIT\n"
              + "PGPASSFILE="
              + base.resolve("pgpass")
              + " "
              + PG_BIN
              + "pg_basebackup -h 127.0.0.1 -p "
              + port
              + " -U crewchief -D \"$d/base\" -Ft -z -X fetch -c fast --no-sync\n"
              + "key=production/basebackups_005/base_$(date -u +%Y%m%dT%H%M%S%N)\n"
              + "put() { curl -sSf --aws-sigv4 aws:amz:"
              + MotoServer.REGION
              + ":s3 --user \"$(cat ~/backup-aws)\" -T \"$1\" \""
              + MotoServer.endpoint()
              + "/encoded-backups/$2\"; }\n"
              + "for f in \"$d\"/base/*; do put \"$f\" \"$key/tar_partitions/$(basename \"$f\")\";"
              + " echo \"uploaded $(basename \"$f\")\"; done\n"
              + "echo '{\"finished\": true}' > \"$d/sentinel\"\n"
              + "put \"$d/sentinel\" \"${key}_backup_stop_sentinel.json\"\n"
              + "echo \"backup $key pushed\"\n");
      Files.createDirectories(home.resolve("encoded"));
      Sandbox.run(
          "chown",
          h.user() + ":",
          home.resolve("backup-aws").toString(),
          home.resolve("encode-backup.sh").toString(),
          home.resolve("encoded").toString());
      Sandbox.run("chmod", "600", home.resolve("backup-aws").toString());
    }
    // One path on both servers, as on real ones: here both are this machine, so one file that
    // both hosts' users may edit.
    shared = Files.createTempDirectory("crewchief-encode-apache-");
    Sandbox.run("chmod", "777", shared.toString());
    Path conf = shared.resolve("encoded.conf");
    Files.writeString(
        conf,
        "<VirtualHost *:80>\n"
            + "  WSGIDaemonProcess encoded-fileindexer user=encoded processes=1 threads=1\n"
            + "  WSGIScriptAlias /_files /srv/encoded/parts/production-fileindexer/wsgi\n"
            + "</VirtualHost>\n");
    Sandbox.run("chmod", "666", conf.toString());

    Path logs = oldHost.home().resolve("apache2");
    Files.createDirectories(logs);
    Files.writeString(logs.resolve("access.log"), "GET / 200\n".repeat(500));
    Files.writeString(logs.resolve("error.log"), "[notice] resuming normal operations\n");
    Sandbox.run("chown", "-R", oldHost.user() + ":", logs.toString());

    Path log = newHost.home().resolve("cloud-init-output.log");
    Files.writeString(log, "Cloud-init v. 23.1.2 running 'modules:config'\n");
    Sandbox.run("chown", newHost.user() + ":", log.toString());
    cloudInit =
        new Thread(
            () -> {
              try {
                while (ec2.describeInstances(
                        b ->
                            b.filters(
                                f -> f.name("tag:encode-role").values("master"),
                                f -> f.name("instance-state-name").values("pending", "running")))
                    .reservations()
                    .isEmpty()) {
                  Thread.sleep(500);
                }
                Files.writeString(
                    log,
                    "installing encoded from v92.0\n"
                        + "Cloud-init v. 23.1.2 finished at Thu, 03 Dec 2026 10:00:00 +0000."
                        + " Datasource DataSourceEc2.  Up 312.04 seconds\n",
                    java.nio.file.StandardOpenOption.APPEND);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (Exception e) {
                System.err.println("cloud-init stand-in: " + e);
              }
            },
            "cloud-init");
    cloudInit.setDaemon(true);
    cloudInit.start();
  }

  /** The app's origin with master, and the worker's clone of it. */
  static void gitRepos() throws Exception {
    Path dir = secrets.resolve("git");
    Files.createDirectories(dir);
    origin = dir.resolve("encoded.git");
    git(dir, "init", "-q", "--bare", "-b", "master", origin.toString());
    Path seed = dir.resolve("seed");
    git(dir, "clone", "-q", origin.toString(), seed.toString());
    identify(seed);
    git(seed, "checkout", "-q", "-b", "master");
    Files.writeString(seed.resolve("README.rst"), "ENCODE\n");
    git(seed, "add", ".");
    git(seed, "commit", "-q", "-m", "ENCODE-4321 the v92 changes");
    git(seed, "push", "-q", "origin", "master");
    clone = dir.resolve("encoded");
    git(dir, "clone", "-q", origin.toString(), clone.toString());
    identify(clone);
  }

  static String host(Sandbox s) {
    return "{address: 127.0.0.1, port: "
        + s.sshPort()
        + ", user: "
        + s.user()
        + ", privateKey: 'file:"
        + s.dir.resolve("client_ed25519")
        + "', knownHosts: "
        + s.dir.resolve("known_hosts")
        + "}";
  }

  static String config() {
    String pg = "'file:" + secrets.resolve("pg-password") + "'";
    return "taskQueue: crewchief-encode\n"
        + "environments:\n"
        + "  "
        + ENV
        + ":\n"
        + "    approvers: {driver: [ben], merge-admin: [keenan]}\n"
        + "    hosts:\n"
        + "      old-production: "
        + host(oldHost)
        + "\n      new-master: "
        + host(newHost)
        + "\n      stanford-proxy: "
        + host(oldHost)
        + "\n      backup-proxy: "
        + host(newHost)
        + "\n    gates:\n"
        + "      all-merges-in: {roles: [merge-admin], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "      old-server-quiet: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "      after-promotion: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "      site-stable: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "    encode:\n"
        + "      oldServer: old-production\n"
        + "      newServer: new-master\n"
        + "      repo: {path: "
        + clone
        + ", remote: origin, mainBranch: master}\n"
        + "      aws: {region: "
        + MotoServer.REGION
        + ", endpoint: '"
        + MotoServer.endpoint()
        + "', accessKey: 'env:ENC_AWS_KEY', secretKey: 'env:ENC_AWS_SECRET'}\n"
        + "      deploy:\n"
        + "        imageId: "
        + ami()
        + "\n        profile: production\n"
        + "        tags: {project: encode}\n"
        + "        userData: |\n"
        + "          #cloud-config\n"
        + "          # {name} {role} of {cluster}, branch {branch}\n"
        + "        cluster: {size: 2, dataInstanceType: m4.xlarge, dataName: 'node-', masterInstanceType:"
        + " c4.8xlarge, masterName: node-3, clusterName: "
        + es.name()
        + ", replicas: 1}\n"
        + "        cloudInit: {log: "
        + newHost.home().resolve("cloud-init-output.log")
        + ", limit: PT5M}\n"
        + "      elasticsearch: {url: '"
        + es.url("node-3")
        + "', healthLimit: PT2M, pollEvery: PT1S}\n"
        + "      keys:\n"
        + "        - {user: write-encoded-backups, path: "
        + newHost.home().resolve(".aws/credentials")
        + ", section: default, owner: "
        + newHost.user()
        + "}\n"
        + "        - {user: upload-encode-files, path: "
        + newHost.home().resolve("encoded/.aws/credentials")
        + ", section: encode-files-upload, owner: "
        + newHost.user()
        + "}\n"
        + "      fileIndexer:\n"
        + "        configPath: "
        + shared.resolve("encoded.conf")
        + "\n        on: 'WSGIDaemonProcess encoded-fileindexer'\n"
        + "        off: '#WSGIDaemonProcess encoded-fileindexer'\n"
        + "        restart: 'echo restarted >> ~/apache-restarts.log'\n"
        + "      indexer: {url: 'http://127.0.0.1:"
        + indexer.getAddress().getPort()
        + "/_indexer', maxLag: PT10M, pollEvery: PT1S}\n"
        + "      mail:\n"
        + "        smtp: {host: localhost, port: "
        + smtp.port
        + ", security: starttls, caFile: "
        + smtp.certificate()
        + ", username: 'file:"
        + secrets.resolve("smtp-user")
        + "', password: 'file:"
        + smtp.passwordFile()
        + "'}\n"
        + "        from: encode-release@example.org\n"
        + "        to: [encode-developers@example.org]\n"
        + "      postgres:\n"
        + "        old: {jdbcUrl: 'jdbc:postgresql://127.0.0.1:"
        + oldPort
        + "/encoded', user: crewchief, password: "
        + pg
        + ", dataDir: "
        + oldPg.resolve("data")
        + ", recoveryMode: standby.signal, restartCommand: '"
        + PG_BIN
        + "pg_ctl -D "
        + oldPg.resolve("data")
        + " -l "
        + oldPg.resolve("pg.log")
        + " -w restart -m fast', primaryConninfo: '"
        + pair.primary.conninfoTo(pair.standby, "old")
        + "'}\n"
        + "        fresh: {jdbcUrl: 'jdbc:postgresql://127.0.0.1:"
        + newPort
        + "/encoded', user: crewchief, password: "
        + pg
        + ", dataDir: "
        + newPg.resolve("data")
        + ", restartCommand: '"
        + PG_BIN
        + "pg_ctl -D "
        + newPg.resolve("data")
        + " -l "
        + newPg.resolve("pg.log")
        + " -w restart -m fast'}\n"
        + "      backup: {command: 'bash ~/encode-backup.sh', bucket: encoded-backups, prefix:"
        + " production/basebackups_005, marker: _backup_stop_sentinel.json}\n"
        + "      proxies:\n"
        + proxyConfig("stanford-proxy", oldHost, "encode-proxy", proxy1Port, "ENCODE v{XX} on")
        + proxyConfig("backup-proxy", newHost, "encode-backup-proxy", proxy2Port, null)
        + "      batchUpgrade: 'echo batchupgrade production.ini >> ~/batchupgrade.log'\n"
        + "      logs: {dir: "
        + oldHost.home().resolve("apache2")
        + ", bucket: encoded-logs, prefix: 'production/v{YY}'}\n"
        + "      backupCron: '00 7 * * * bash ~/encode-backup.sh'\n"
        + "      cronUser: "
        + newHost.user()
        + "\n      longWaitLimit: PT10M\n";
  }

  static String proxyConfig(String name, Sandbox host, String site, int port, String text) {
    return "        - {host: "
        + name
        + ", configPath: "
        + host.home().resolve("nginx/sites/" + site + ".conf")
        + ", from: '127.0.0.1:"
        + oldAppPort
        + "', to: '127.0.0.1:"
        + newAppPort
        + "', probeUrl: 'http://127.0.0.1:"
        + port
        + "/', reload: '"
        + nginx(host)
        + " -s reload', test: '"
        + nginx(host)
        + " -t', pidFile: '"
        + host.home()
        + "/nginx/nginx.pid"
        + (text == null ? "'" : "', probeText: '" + text + "'")
        + "}\n";
  }

  // ------------------------------------------------------------------ prober and writer

  /** Asks through both proxies every 50 ms: each answer must come from the old or the new app. */
  static final class Prober implements AutoCloseable {
    final Map<String, Integer> answers = new ConcurrentHashMap<>();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicBoolean stop = new AtomicBoolean();
    final Thread thread;

    Prober() {
      thread =
          new Thread(
              () -> {
                while (!stop.get()) {
                  for (int port : new int[] {proxy1Port, proxy2Port}) {
                    String key = port == proxy1Port ? "stanford-proxy" : "backup-proxy";
                    try {
                      HttpResponse<String> r =
                          HTTP.send(
                              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                                  .timeout(Duration.ofSeconds(5))
                                  .build(),
                              HttpResponse.BodyHandlers.ofString());
                      String b = r.body();
                      if (r.statusCode() == 200 && b.contains(OLD_APP)) {
                        answers.merge(key + " old", 1, Integer::sum);
                      } else if (r.statusCode() == 200 && b.contains(NEW_APP)) {
                        answers.merge(key + " new", 1, Integer::sum);
                      } else {
                        failures.add(key + ": " + r.statusCode() + " " + b);
                      }
                    } catch (Exception e) {
                      failures.add(key + ": " + e);
                    }
                  }
                  pause(50);
                }
              },
              "encode-prober");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(10_000);
    }
  }

  /** One write the writer saw acknowledged: its value, the server that took it, and when. */
  record Ack(String value, String server, long nanos) {}

  /**
   * Writes a row every 20 ms to whichever database takes writes, as the app does through the server
   * it runs on: the old one first, the new one when the old refuses. A write both refuse is counted
   * as unavailable; only writes with a commit acknowledged count as written.
   */
  static final class Writer implements AutoCloseable {
    final List<Ack> acks = new CopyOnWriteArrayList<>();
    final AtomicInteger refused = new AtomicInteger();
    final List<String> errors = new CopyOnWriteArrayList<>();
    final AtomicBoolean stop = new AtomicBoolean();
    final Thread thread;
    final Map<Integer, Connection> open = new HashMap<>();

    Writer() {
      thread =
          new Thread(
              () -> {
                int n = 0;
                while (!stop.get()) {
                  String v = "w-" + n++;
                  if (!write(oldPort, "old", v) && !write(newPort, "new", v)) {
                    refused.incrementAndGet();
                  }
                  pause(20);
                }
                open.values().forEach(EncodeEndToEndIT::closeQuietly);
              },
              "encode-writer");
      thread.setDaemon(true);
      thread.start();
    }

    boolean write(int port, String server, String v) {
      try {
        Connection c = open.get(port);
        if (c == null) {
          c =
              DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:"
                      + port
                      + "/encoded?connectTimeout=2&socketTimeout=5&loginTimeout=3",
                  "crewchief",
                  PASSWORD);
          open.put(port, c);
        }
        try (Statement st = c.createStatement()) {
          st.executeUpdate("insert into writes (v) values ('" + v + "')");
        }
        acks.add(new Ack(v, server, System.nanoTime()));
        return true;
      } catch (SQLException e) {
        // 25006: read-only (in recovery); 08xxx/57P01: the server restarts or is down.
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (!state.equals("25006") && !state.startsWith("08") && !state.startsWith("57")) {
          errors.add(server + " " + state + " " + e.getMessage());
        }
        closeQuietly(open.remove(port));
        return false;
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(20_000);
    }
  }

  // ------------------------------------------------------------------ the release

  @Test
  void aClusteredReleaseSwitchesProductionOverWithEveryRequestAnsweredAndNoWriteLost()
      throws Exception {
    String id = "release-encode-release-" + ENV + "-92";
    List<Path> mailBefore = smtp.messages();
    Prober prober = new Prober();
    Writer writer = new Writer();
    try {
      Crewchief.Result started =
          cc.run("start", "encode-release", "--env", ENV, "--version", "92", "--type", "clustered");
      assertEquals(0, started.exit(), started.out() + "\nworker:\n" + worker.logText());
      awaitGate(id, "all-merges-in", 300);
      // The pre-release steps ran: a base backup listed in S3, the file indexer off.
      assertFalse(backups().isEmpty(), "no base backup in S3 before the tag");
      assertTrue(
          Files.readString(shared.resolve("encoded.conf"))
              .contains("#WSGIDaemonProcess encoded-fileindexer"));
      // Only the merge admin may pass this gate.
      Crewchief.Result wrong = cc.run("approve", id, "all-merges-in", "--as", "ben");
      assertEquals(1, wrong.exit(), wrong.out());
      assertEquals(
          0, cc.run("approve", id, "all-merges-in", "--as", "keenan", "-m", "all merged").exit());
      awaitGate(id, "old-server-quiet", 600);
      // Before the switch-over: every key installed on the new server, still inactive; the
      // cluster of three nodes; the indexer polled until its first indexing was done.
      assertTrue(git(origin, "tag", "-l").contains("v92.0"));
      assertTrue(indexerPolls.get() >= 4, "indexer polled " + indexerPolls.get() + " times");
      assertEquals("600 " + newHost.user(), statOf(newHost.home().resolve(".aws/credentials")));
      assertEquals(
          "600 " + newHost.user(), statOf(newHost.home().resolve("encoded/.aws/credentials")));
      assertEquals(activeKeyBefore.get("write-encoded-backups"), active("write-encoded-backups"));
      assertTrue(writer.acks.stream().allMatch(a -> a.server().equals("old")));
      assertEquals(
          0,
          cc.run("approve", id, "old-server-quiet", "--as", "ben", "-m", "no traffic on v91")
              .exit());
      awaitGate(id, "site-stable", 600);
      assertEquals(
          0, cc.run("approve", id, "site-stable", "--as", "ben", "-m", "quiet night").exit());
      Crewchief.Result watched = cc.run("watch", id);
      assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + worker.logText());
      // A few writes more on the new primary after the release, then stop.
      long end = System.nanoTime();
      for (int i = 0;
          i < 200
              && writer.acks.stream().noneMatch(a -> a.server().equals("new") && a.nanos() > end);
          i++) {
        pause(50);
      }
    } catch (AssertionError | Exception e) {
      cc.run("cancel", id);
      throw e;
    } finally {
      writer.close();
      prober.close();
    }

    // The prober: every request answered, by the old app first and the new one at the end.
    System.out.println(
        "prober: " + prober.answers + ", failed " + prober.failures.size() + " " + prober.failures);
    assertEquals(List.of(), prober.failures, "requests through the proxies that failed");
    for (String p : List.of("stanford-proxy", "backup-proxy")) {
      assertTrue(prober.answers.getOrDefault(p + " old", 0) > 0, prober.answers.toString());
      assertTrue(prober.answers.getOrDefault(p + " new", 0) > 0, prober.answers.toString());
    }
    assertTrue(get("http://127.0.0.1:" + proxy1Port + "/").contains(NEW_APP));
    assertTrue(get("http://127.0.0.1:" + proxy2Port + "/").contains(NEW_APP));

    // The writer: everything acknowledged is in the new primary; the old database took nothing
    // after the new one took its first write; the old one is a standby now and refuses writes.
    List<Ack> acks = new ArrayList<>(writer.acks);
    long firstNew =
        acks.stream()
            .filter(a -> a.server().equals("new"))
            .mapToLong(Ack::nanos)
            .min()
            .orElseThrow();
    long lastOld =
        acks.stream()
            .filter(a -> a.server().equals("old"))
            .mapToLong(Ack::nanos)
            .max()
            .orElseThrow();
    System.out.println(
        "writer: "
            + acks.stream().filter(a -> a.server().equals("old")).count()
            + " writes on the old server, "
            + acks.stream().filter(a -> a.server().equals("new")).count()
            + " on the new one, "
            + writer.refused.get()
            + " refused by both (writes unavailable for about "
            + Duration.ofNanos(firstNew - lastOld)
            + ")");
    assertEquals(List.of(), writer.errors, "unexpected database errors");
    assertTrue(lastOld < firstNew, "the old database took a write after the new one took writes");
    assertTrue(writer.refused.get() > 0, "the switch-over refused no write: was it measured?");
    Set<String> onNew = values(newPort);
    List<String> missing = new ArrayList<>();
    for (Ack a : acks) {
      if (!onNew.contains(a.value())) {
        missing.add(a.value() + " (" + a.server() + ")");
      }
    }
    assertEquals(List.of(), missing, "acknowledged writes missing from the new primary");
    assertTrue(inRecovery(oldPort), "the old server is a standby");
    assertFalse(inRecovery(newPort), "the new server is the primary");

    // The report: every step, the gates with who decided, the write-unavailable window.
    Crewchief.Result report = cc.run("report", id);
    String r = report.out();
    assertEquals(0, report.exit(), r);
    for (String step :
        List.of(
            "base backup of the production database pushed to S3",
            "base backup of the production database listed in s3://encoded-backups/",
            "file indexer off on old-production",
            "tag v92.0 on an up-to-date master, push it",
            "launch node-1..node-2 (m4.xlarge, cluster " + es.name() + ") from v92.0",
            "launch node-3 (c4.8xlarge, cluster " + es.name() + ") from v92.0",
            "until cloud-init finishes",
            "cluster health: every node seen by the master",
            "IAM: rotate the inactive key of write-encoded-backups, install it on new-master",
            "IAM: rotate the inactive key of upload-encode-files, install it on new-master",
            "wait for the first full indexing on node-3",
            "e-mail encode-developers@example.org",
            "old PostgreSQL into recovery (standby) and restarted",
            "switch proxy stanford-proxy to 127.0.0.1:" + newAppPort + " (reload)",
            "switch proxy backup-proxy to 127.0.0.1:" + newAppPort + " (reload)",
            "validate write-encoded-backups's installed key on new-master",
            "wait until the new server's replica has replayed everything the old one has",
            "promote the new server's PostgreSQL; wait until it accepts writes",
            "batch upgrade on new-master",
            "base backup of the new primary pushed to S3",
            "to s3://encoded-logs/production/v91/apache2",
            "backup cron entry on new-master",
            "file indexer on on new-master")) {
      assertTrue(r.contains(step), "report lacks '" + step + "':\n" + r);
    }
    assertTrue(r.contains("writes were unavailable for PT"), r);
    assertTrue(r.contains("keenan"), r);
    assertTrue(r.contains("no traffic on v91"), r);
    assertTrue(r.contains("encode.redmine is not configured"), r);

    // What the hosts and AWS show afterwards.
    String conf = Files.readString(shared.resolve("encoded.conf"));
    assertTrue(conf.contains("  WSGIDaemonProcess encoded-fileindexer"), conf);
    assertFalse(conf.contains("#WSGIDaemonProcess"), conf);
    for (String user : List.of("write-encoded-backups", "upload-encode-files")) {
      String now = active(user);
      assertFalse(now.equals(activeKeyBefore.get(user)), user + "'s new key is active");
      String file =
          user.equals("write-encoded-backups") ? ".aws/credentials" : "encoded/.aws/credentials";
      assertTrue(
          Files.readString(newHost.home().resolve(file)).contains(now),
          "the active key of " + user + " is the installed one");
      histories.assertNoSecret(id, secretIn(newHost.home().resolve(file)));
    }
    assertEquals(
        2, backups().stream().filter(k -> k.endsWith("_backup_stop_sentinel.json")).count());
    assertTrue(
        s3
            .listObjectsV2(b -> b.bucket("encoded-logs").prefix("production/v91/apache2/"))
            .contents()
            .stream()
            .anyMatch(o -> o.key().endsWith("access.log")));
    String crontab = asOut(newHost, "crontab", "-l");
    assertEquals(
        1,
        crontab.lines().filter(l -> l.equals("00 7 * * * bash ~/encode-backup.sh")).count(),
        crontab);
    assertEquals(
        "batchupgrade production.ini\n",
        Files.readString(newHost.home().resolve("batchupgrade.log")));
    List<Path> mail = new ArrayList<>(smtp.messages());
    mail.removeAll(mailBefore);
    boolean told = false;
    for (Path m : mail) {
      String text = Files.readString(m);
      told |= text.contains("encode-developers@example.org") && text.contains("down for writes");
    }
    assertTrue(told, "the developers were not e-mailed: " + mail);

    histories.assertNoSecret(id, PASSWORD);
    histories.assertNoSecret(id, MotoServer.SECRET_KEY);
    histories.assertNoSecret(id, Files.readString(oldHost.dir.resolve("client_ed25519")));
    histories.replayAndKeep(id);
  }

  // ------------------------------------------------------------------ helpers

  /** Polls {@code crewchief status} until the gate waits; fails as soon as the release ended. */
  static void awaitGate(String id, String gate, int seconds) throws Exception {
    String last = "";
    for (int i = 0; i < seconds; i++) {
      Crewchief.Result status = cc.run("status", id);
      last = status.out();
      if (last.contains("gate " + gate + ": WAITING")) {
        return;
      }
      if (last.contains(id + ": FAILED")
          || last.contains(id + ": ROLLED_BACK")
          || last.contains(id + ": CANCELLED")) {
        throw new AssertionError(
            "the release ended before gate "
                + gate
                + ":\n"
                + last
                + "\nworker:\n"
                + worker.logText());
      }
      Thread.sleep(1000);
    }
    throw new AssertionError("gate " + gate + " never waited:\n" + last);
  }

  static List<String> backups() {
    return s3
        .listObjectsV2(b -> b.bucket("encoded-backups").prefix("production/basebackups_005/"))
        .contents()
        .stream()
        .map(S3Object::key)
        .toList();
  }

  static String active(String user) {
    return iam.listAccessKeys(b -> b.userName(user)).accessKeyMetadata().stream()
        .filter(k -> k.status() == StatusType.ACTIVE)
        .map(AccessKeyMetadata::accessKeyId)
        .reduce((a, b) -> a + "," + b)
        .orElse("none");
  }

  /** The secret access key in a credentials file. */
  static String secretIn(Path file) throws IOException {
    for (String line : Files.readAllLines(file)) {
      if (line.startsWith("aws_secret_access_key")) {
        return line.substring(line.indexOf('=') + 1).strip();
      }
    }
    throw new AssertionError("no aws_secret_access_key in " + file);
  }

  static String statOf(Path file) {
    return asOut(newHost, "stat", "-c", "%a %U", file.toString()).strip();
  }

  static Set<String> values(int port) throws SQLException {
    Set<String> out = new HashSet<>();
    try (Connection c = jdbc(port);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select v from writes")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  static boolean inRecovery(int port) throws SQLException {
    try (Connection c = jdbc(port);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  static Connection jdbc(int port) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port + "/encoded", "crewchief", PASSWORD);
  }

  static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // Gone already.
      }
    }
  }

  /** Runs a command as the host's user on this machine. */
  static void as(Sandbox s, String... cmd) {
    s.runAs(cmd);
  }

  static String asOut(Sandbox s, String... cmd) {
    try {
      List<String> full = new ArrayList<>(List.of("runuser", "-u", s.user(), "--"));
      full.addAll(List.of(cmd));
      Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.waitFor(), String.join(" ", full) + ": " + out);
      return out;
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  static String get(String url) throws IOException {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
