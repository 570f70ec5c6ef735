package dev.crewchief.e2e;

import static dev.crewchief.adapters.GitRepos.git;
import static dev.crewchief.adapters.GitRepos.identify;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HealthCheck;
import dev.crewchief.adapters.DockerEngine;
import dev.crewchief.adapters.PostgresServer;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.release.ReleaseControl;
import dev.crewchief.release.ReleaseStatus;
import io.temporal.api.history.v1.HistoryEvent;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Atmosphere's deployment day end to end, as {@code crewchief start atmosphere-deploy} runs it: the
 * worker and the CLI as separate processes on the real Temporal server, against
 *
 * <ul>
 *   <li>a compose project (troposphere and atmosphere containers with compose labels) on a real
 *       Docker-API engine (podman), whose images come from a real registry with a login;
 *   <li>PostgreSQL 15 with the runbook's two databases;
 *   <li>the proxy host: the sandbox's sshd and nginx, with the runbook's sites-available/default
 *       (maintenance page) and proxy.conf (the app) and the enabled link switched between them;
 *   <li>the atmosphere-docker-secrets and atmosphere-docker clones with their origins.
 * </ul>
 *
 * <p>A prober hits the proxy every 50 ms throughout. The first day deploys 36-1 and the driver
 * approves: the dumps restore, the maintenance page is what the proxy served while the containers
 * were down, the new version serves at the end and the backup images exist. The second day deploys
 * 36-2 and the driver rejects it: the backups come back, then the proxy, then maintenance ends, and
 * 36-1 serves again.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AtmosphereDeployIT {
  static final String PROJECT = "cc-deploy";
  static final String ENV = "atmo";
  static final String MAINTENANCE = "Scheduled Maintenance";
  static final ObjectMapper JSON = new ObjectMapper();

  static DockerEngine engine;
  static DockerClient docker;
  static ComposeProject project;
  static Sandbox proxyHost;
  static PostgresServer pg;
  static Stack stack;
  static Path dir;
  static Path secrets;
  static Path compose;
  static Path dumps;
  static Path maint;
  static String repo;
  static String registryPassword;
  static int appPort;
  static int proxyPort;
  static Prober prober;

  @BeforeAll
  static void up() throws Exception {
    engine = DockerEngine.get();
    project = new ComposeProject(engine, PROJECT);
    docker = project.docker;
    dir = Files.createTempDirectory("crewchief-deploy-");
    dir.toFile().setReadable(true, false);
    dir.toFile().setExecutable(true, false);

    // The release images in the registry: 36-0 runs now (pulled long ago), 36-1 and 36-2 are
    // only in the registry, so the deployment's pulls are real pulls with the login.
    repo = engine.registry() + "/crewchief/app";
    registryPassword =
        JSON.readTree(Files.readString(engine.registryAuthFile())).get("password").asText();
    engine.push(docker, engine.imageV1(), repo + ":v36-0", true);
    engine.push(docker, engine.imageV2(), repo + ":v36-1", false);
    engine.push(docker, engine.imageV3(), repo + ":v36-2", false);

    maint = Files.createDirectories(dir.resolve("maintenance"));
    appPort = freePort();
    int tropoPort = freePort();
    startService("troposphere", tropoPort, false);
    startService("atmosphere", appPort, true);

    pg = PostgresServer.get();
    proxyHost = Sandbox.get("ccatmo");
    proxyPort = freePort();
    startProxy();
    secrets = secretsRepo();
    compose = composeRepo();
    dumps = Files.createDirectories(dir.resolve("dumps"));

    Path config = dir.resolve("crewchief.yaml");
    Files.writeString(config, config());
    stack = Stack.start(config.toString());
    prober = new Prober(proxyUrl());
    prober.start();
  }

  @AfterAll
  static void down() throws Exception {
    if (prober != null) {
      prober.stop();
    }
    if (stack != null) {
      stack.close();
    }
    if (project != null) {
      project.close();
    }
    if (proxyHost != null) {
      Sandbox.run("rm", "-f", proxyHost.home() + "/nginx/sites/atmo-proxy.conf");
    }
  }

  // ------------------------------------------------------------------------------------ the days

  @Test
  @Order(1)
  void deploymentDayDeploysTheReleaseBehindTheMaintenancePage() throws Exception {
    String id = "release-atmosphere-deploy-" + ENV + "-36-1";
    assertEquals("crewchief-app v1", get(proxyUrl()), "36-0 serves before the day");
    // At the gate: the new containers run and answer, the proxy still shows the maintenance page,
    // and only the driver may let it go back to the app.
    startDayAndAwaitTheGate(id, "36-1", "crewchief-app v2");
    Crewchief.Result wrong =
        stack.cc.run("approve", id, "tested-in-production", "--as", "alice", "-m", "looks fine");
    assertEquals(1, wrong.exit(), wrong.out());
    assertTrue(wrong.out().contains("may not decide"), wrong.out());
    assertEquals(
        0,
        stack
            .cc
            .run("approve", id, "tested-in-production", "--as", "bob", "-m", "tested on atmo")
            .exit());
    Crewchief.Result watched = stack.cc.run("watch", id);
    assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + stack.worker.logText());
    assertEquals("crewchief-app v2", get(proxyUrl()), "the new version serves at the end");

    assertMaintenancePageWhileContainersWereDown(id);
    String date = dateOf(id);
    assertDumpsRestore(date, "36-1");
    for (String service : List.of("troposphere", "atmosphere")) {
      String backup = "old_" + PROJECT + "_" + service + ":before-36-1";
      assertNotNull(
          docker
              .inspectImageCmd(backup)
              .exec()
              .getConfig()
              .getLabels()
              .get("crewchief.source-container"),
          backup + " is a backup made by Crew Chief");
      assertEquals(repo + ":v36-1", container(service).getConfig().getImage());
      List<String> log = Files.readAllLines(maint.resolve(service + ".log"));
      assertEquals(List.of("start " + date + " v36-1 deployment", "stop"), log, service);
    }
    // The compose file names the release; what the team pushed came in; the local edit is kept.
    String file = Files.readString(compose.resolve("docker-compose.prod.yml"));
    assertTrue(file.contains("image: " + repo + ":v36-1   # atmosphere"), file);
    assertTrue(file.contains("image: \"" + repo + ":v36-1\""), file);
    assertFalse(file.contains("v36-0"), file);
    assertEquals(git(compose, "rev-parse", "origin/master"), git(compose, "rev-parse", "HEAD"));
    assertTrue(
        git(compose, "stash", "list").contains("crewchief " + id), git(compose, "stash", "list"));
    assertTrue(git(compose, "stash", "show", "-p").contains("local tweak"));
    assertEquals("prod", git(secrets, "symbolic-ref", "--short", "HEAD"));

    String report = stack.cc.run("report", id).out();
    assertTrue(report.contains("| tested-in-production | APPROVED | bob |"), report);
    assertTrue(report.contains("stashed the local changes in 1 files"), report);
    assertTrue(report.contains("brought in 1 commits") && report.contains("Log rotation"), report);
    assertTrue(report.contains("pulled " + repo + ":v36-1"), report);
    assertTrue(report.contains("committed old_" + PROJECT + "_atmosphere:before-36-1"), report);
    stack.histories.assertNoSecret(id, pg.password());
    stack.histories.assertNoSecret(id, registryPassword);
    stack.histories.replayAndKeep(id);
  }

  @Test
  @Order(2)
  void aRejectedDayPutsTheBackupsBackThenTheProxyThenEndsMaintenance() throws Exception {
    String id = "release-atmosphere-deploy-" + ENV + "-36-2";
    startDayAndAwaitTheGate(id, "36-2", "crewchief-app v3");
    // Meanwhile no second day may start on the same containers.
    Crewchief.Result second =
        stack.cc.run(
            "start", "atmosphere-deploy", "--env", ENV, "--version", "36-3", "--driver", "bob");
    assertEquals(1, second.exit(), second.out());
    // Refused by the release itself, on the server: the lane is held by the running day.
    assertTrue(
        second.out().contains(id + " is running and holds lane-atmosphere-containers-" + ENV),
        second.out());
    assertTrue(second.out().contains("[LaneBusy]"), second.out());
    assertEquals(
        0,
        stack
            .cc
            .run("reject", id, "tested-in-production", "--as", "bob", "-m", "logins fail on 36-2")
            .exit());
    Crewchief.Result watched = stack.cc.run("watch", id);
    assertEquals(1, watched.exit(), watched.out() + "\nworker:\n" + stack.worker.logText());

    ReleaseControl release = stack.histories.client.newWorkflowStub(ReleaseControl.class, id);
    assertEquals(ReleaseStatus.ROLLED_BACK, release.progress().status());
    assertEquals("crewchief-app v2", get(proxyUrl()), "36-1 serves again");
    // The engine names a committed image with its implied registry (docker.io/library/).
    String restored = container("atmosphere").getConfig().getImage();
    assertTrue(restored.endsWith("old_" + PROJECT + "_atmosphere:before-36-2"), restored);
    assertTrue(running(container("troposphere")));
    assertMaintenancePageWhileContainersWereDown(id);
    for (String service : List.of("troposphere", "atmosphere")) {
      List<String> log = Files.readAllLines(maint.resolve(service + ".log"));
      assertEquals(
          List.of("start " + dateOf(id) + " v36-2 deployment", "stop"),
          log.subList(2, log.size()),
          "maintenance ended after the old version answered: " + service);
    }
    // The compose file names what it named before the day (36-1), not the committed 36-0.
    String file = Files.readString(compose.resolve("docker-compose.prod.yml"));
    assertTrue(
        file.contains(repo + ":v36-1") && !file.contains("v36-2") && !file.contains("v36-0"), file);

    String report = stack.cc.run("report", id).out();
    assertTrue(report.contains("| tested-in-production | REJECTED | bob |"), report);
    assertTrue(
        report.contains("restore atmosphere from old_" + PROJECT + "_atmosphere:before-36-2"),
        report);
    assertTrue(report.contains("the old version answers through the proxy"), report);
    assertTrue(report.contains("set back to"), report);
    stack.histories.replayAndKeep(id);

    prober.stop();
    assertEquals(List.of(), prober.failures(), "failed requests through the proxy");
    System.out.println(
        "deployment days: "
            + prober.samples().size()
            + " requests through the proxy every 50 ms, "
            + prober.failures().size()
            + " failed");
  }

  /**
   * Starts the day from the CLI and waits at the driver's gate, where the new containers answer
   * with the new version while the proxy still shows the maintenance page.
   */
  static void startDayAndAwaitTheGate(String id, String version, String newVersionSays)
      throws Exception {
    Crewchief.Result started =
        stack.cc.run(
            "start", "atmosphere-deploy", "--env", ENV, "--version", version, "--driver", "bob");
    assertEquals(0, started.exit(), started.out());
    stack.cc.awaitStatus(id, "gate tested-in-production: WAITING", 240);
    assertEquals(newVersionSays, get("http://127.0.0.1:" + appPort + "/"));
    assertTrue(get(proxyUrl()).contains(MAINTENANCE));
  }

  // ------------------------------------------------------------------------------------ checks

  /**
   * Every answer the proxy gave between the first container stop and the last container recreate
   * (from the history's event times) was the maintenance page, and there were such answers.
   */
  static void assertMaintenancePageWhileContainersWereDown(String id) {
    Instant firstStop = null;
    Instant lastRecreate = null;
    java.util.Map<Long, String> types = new java.util.HashMap<>();
    for (HistoryEvent e : stack.histories.fetch(id).getHistory().getEventsList()) {
      Instant at =
          Instant.ofEpochSecond(e.getEventTime().getSeconds(), e.getEventTime().getNanos());
      if (e.hasActivityTaskScheduledEventAttributes()) {
        String type = e.getActivityTaskScheduledEventAttributes().getActivityType().getName();
        types.put(e.getEventId(), type);
        if (type.equals("Docker.stopService") && firstStop == null) {
          firstStop = at;
        }
      }
      if (e.hasActivityTaskCompletedEventAttributes()
          && "Docker.recreateService"
              .equals(
                  types.get(e.getActivityTaskCompletedEventAttributes().getScheduledEventId()))) {
        lastRecreate = at;
      }
    }
    assertNotNull(firstStop, "the day stopped the containers");
    assertNotNull(lastRecreate, "the day recreated the containers");
    Instant from = firstStop;
    Instant to = lastRecreate;
    List<Sample> during =
        prober.samples().stream()
            .filter(s -> !s.at().isBefore(from) && !s.at().isAfter(to))
            .toList();
    assertTrue(during.size() >= 3, "the prober ran while the containers were down: " + during);
    for (Sample s : during) {
      assertTrue(
          s.status() == 200 && s.body().contains(MAINTENANCE),
          "the proxy answered " + s + " while the containers were down");
    }
    System.out.println(
        id
            + ": containers down for "
            + Duration.between(from, to).toMillis()
            + " ms (first stop to last recreate); the proxy gave the maintenance page to all "
            + during.size()
            + " requests meanwhile");
  }

  /** The day's date as the CLI gave it to the release (it names the dumps and the title). */
  static String dateOf(String id) throws IOException {
    HistoryEvent first = stack.histories.fetch(id).getHistory().getEvents(0);
    JsonNode input =
        JSON.readTree(
            first
                .getWorkflowExecutionStartedEventAttributes()
                .getInput()
                .getPayloads(0)
                .getData()
                .toStringUtf8());
    return input.get("date").asText();
  }

  static void assertDumpsRestore(String date, String version) throws IOException {
    Map<String, Map<String, String>> tables =
        Map.of(
            "atmo", Map.of("identity", "3", "instance", "100"),
            "tropo", Map.of("maintenance_record", "1", "user_preferences", "2"));
    for (Map.Entry<String, Map<String, String>> db : tables.entrySet()) {
      Path file = dumps.resolve(db.getKey() + "-" + date + "-" + version + ".dump");
      assertTrue(Files.size(file) > 0, file + " exists");
      String restored = "restored_" + db.getKey() + "_" + version.replace('-', '_');
      pg.client("createdb", restored);
      pg.client("pg_restore", "--exit-on-error", "--no-owner", "-d", restored, file.toString());
      for (Map.Entry<String, String> t : db.getValue().entrySet()) {
        assertEquals(
            t.getValue(), pg.query(restored, "SELECT count(*) FROM " + t.getKey()), t.getKey());
      }
      pg.client("dropdb", restored);
    }
  }

  // ------------------------------------------------------------------------------------ setup

  static String config() {
    String nginx =
        "/usr/sbin/nginx -p "
            + nginxDir()
            + "/ -e "
            + nginxDir()
            + "/logs/error.log -c "
            + nginxDir()
            + "/conf/nginx.conf";
    String start = "[sh, -c, \"echo start {title} >> /maint/%1$s.log\"]";
    String stop = "[sh, -c, \"echo stop >> /maint/%1$s.log\"]";
    return """
        taskQueue: crewchief
        environments:
          %1$s:
            approvers: { crew-chief: [alice], driver: [bob] }
            hosts:
              proxy:
                address: 127.0.0.1
                port: %2$d
                user: %3$s
                privateKey: file:%4$s/client_ed25519
                knownHosts: %4$s/known_hosts
            gates:
              tested-in-production: { timeout: PT30M, remindEvery: PT10M, onTimeout: ROLLBACK }
            atmosphere:
              engine: { host: "%5$s", registryAuth: "file:%6$s" }
              project: %7$s
              images: { atmosphere: %8$s, troposphere: %8$s }
              tagPrefix: v
              pullPolicy: always
              readyTimeout: PT2M
              services: [troposphere, atmosphere]
              databases:
                atmo: { host: 127.0.0.1, port: %9$d, database: atmo_prod, user: atmo_app, password: "file:%10$s" }
                tropo: { host: 127.0.0.1, port: %9$d, database: troposphere, user: atmo_app, password: "file:%10$s" }
              dumpDir: %11$s
              proxy:
                host: proxy
                nginx: { pidFile: %12$s/nginx.pid, testCommand: "%13$s -t", reloadCommand: "%13$s -s reload" }
                link: %12$s/sites/atmo-proxy.conf
                maintenanceConfig: %12$s/available/default
                appConfig: %12$s/available/proxy.conf
                probeUrl: %14$s
                maintenanceText: %15$s
                appText: crewchief-app
              maintenance:
                start: { troposphere: %16$s, atmosphere: %17$s }
                stop: { troposphere: %18$s, atmosphere: %19$s }
              secrets: { path: %20$s, remote: origin, branch: prod }
              compose: { path: %21$s, remote: origin, branch: master, file: docker-compose.prod.yml }
              release:
                message: "Atmosphere is down for a Scheduled Maintenance, today between 9am and 4pm MST."
        """
        .formatted(
            ENV,
            proxyHost.sshPort(),
            proxyHost.user(),
            proxyHost.dir,
            engine.host(),
            engine.registryAuthFile(),
            PROJECT,
            repo,
            pg.port(),
            pg.passwordFile(),
            dumps,
            nginxDir(),
            nginx,
            proxyUrl(),
            MAINTENANCE,
            start.formatted("troposphere"),
            start.formatted("atmosphere"),
            stop.formatted("troposphere"),
            stop.formatted("atmosphere"),
            secrets,
            compose);
  }

  /** Container 1 of a service, as docker-compose creates it, on the host network. */
  static void startService(String service, int port, boolean healthcheck) {
    var cmd =
        project
            .container(service, repo + ":v36-0", "PORT=" + port, "SERVICE=" + service)
            .withCmd("sh", "-c", "exec httpd -f -p $PORT -h /www");
    cmd.getHostConfig().withBinds(Bind.parse(maint + ":/maint"));
    if (healthcheck) {
      cmd.withHealthcheck(
          new HealthCheck()
              .withTest(List.of("CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:$PORT/"))
              .withInterval(1_000_000_000L)
              .withTimeout(2_000_000_000L)
              .withRetries(3));
    }
    docker.startContainerCmd(cmd.exec().getId()).exec();
  }

  static String nginxDir() {
    return proxyHost.home() + "/nginx";
  }

  static String proxyUrl() {
    return "http://127.0.0.1:" + proxyPort + "/";
  }

  /**
   * The proxy host as the runbook has it: sites-available/default is the maintenance page,
   * sites-available/proxy.conf the app, and the enabled link points at the app.
   */
  static void startProxy() throws Exception {
    Path available = Files.createDirectories(Path.of(nginxDir(), "available"));
    Files.writeString(
        available.resolve("default"),
        "server { listen 127.0.0.1:%d; location / { default_type text/plain; return 200 \"%s: Atmosphere is down\\n\"; } }\n"
            .formatted(proxyPort, MAINTENANCE));
    Files.writeString(
        available.resolve("proxy.conf"),
        "server { listen 127.0.0.1:%d; location / { proxy_pass http://127.0.0.1:%d; proxy_connect_timeout 2s; } }\n"
            .formatted(proxyPort, appPort));
    Path link = Path.of(nginxDir(), "sites", "atmo-proxy.conf");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, available.resolve("proxy.conf"));
    Sandbox.run("chown", "-h", "-R", proxyHost.user() + ":", available.toString(), link.toString());
    Sandbox.run(
        "runuser",
        "-u",
        proxyHost.user(),
        "--",
        "/usr/sbin/nginx",
        "-p",
        nginxDir() + "/",
        "-e",
        nginxDir() + "/logs/error.log",
        "-c",
        nginxDir() + "/conf/nginx.conf",
        "-s",
        "reload");
    for (int i = 0; i < 100; i++) {
      try {
        if (get(proxyUrl()).equals("crewchief-app v1")) {
          return;
        }
      } catch (IOException e) {
        // Not reloaded yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the proxy never served the app on " + proxyUrl());
  }

  /** atmosphere-docker-secrets: an origin with master and prod, cloned on master. */
  static Path secretsRepo() throws IOException {
    Path origin = dir.resolve("secrets.git");
    git(dir, "init", "-q", "--bare", "-b", "master", origin.toString());
    Path seed = dir.resolve("secrets-seed");
    git(dir, "clone", "-q", origin.toString(), seed.toString());
    identify(seed);
    git(seed, "checkout", "-q", "-b", "master");
    Files.writeString(seed.resolve("variables.yml"), "env: dev\n");
    git(seed, "add", ".");
    git(seed, "commit", "-q", "-m", "Variables");
    git(seed, "push", "-q", "origin", "master");
    git(seed, "checkout", "-q", "-b", "prod");
    Files.writeString(seed.resolve("variables.yml"), "env: prod\n");
    git(seed, "commit", "-q", "-am", "Production variables");
    git(seed, "push", "-q", "origin", "prod");
    Path clone = dir.resolve("atmosphere-docker-secrets");
    git(dir, "clone", "-q", "-b", "master", origin.toString(), clone.toString());
    return clone;
  }

  /**
   * atmosphere-docker: the compose file on 36-0; after the clone the team pushes a change, and
   * someone edits the clone by hand (the runbook's "note any significant changes").
   */
  static Path composeRepo() throws IOException {
    Path origin = dir.resolve("atmosphere-docker.git");
    git(dir, "init", "-q", "--bare", "-b", "master", origin.toString());
    Path seed = dir.resolve("compose-seed");
    git(dir, "clone", "-q", origin.toString(), seed.toString());
    identify(seed);
    git(seed, "checkout", "-q", "-b", "master");
    Files.writeString(
        seed.resolve("docker-compose.prod.yml"),
        """
        # atmosphere-docker, production
        services:
          troposphere:
            image: "%1$s:v36-0"
            depends_on: [atmosphere]
          atmosphere:
            image: %1$s:v36-0   # atmosphere
            volumes:
              - ./logs:/opt/dev/atmosphere/logs
        """
            .formatted(repo));
    Files.writeString(seed.resolve("logrotate.conf"), "daily\n");
    git(seed, "add", ".");
    git(seed, "commit", "-q", "-m", "Production compose file");
    git(seed, "push", "-q", "origin", "master");
    Path clone = dir.resolve("atmosphere-docker");
    git(dir, "clone", "-q", "-b", "master", origin.toString(), clone.toString());
    Files.writeString(seed.resolve("logrotate.conf"), "daily\nrotate 7\n");
    git(seed, "commit", "-q", "-am", "Log rotation: keep a week");
    git(seed, "push", "-q", "origin", "master");
    String local =
        Files.readString(clone.resolve("docker-compose.prod.yml"))
            .replace(
                "# atmosphere-docker, production", "# atmosphere-docker, production (local tweak)");
    Files.writeString(clone.resolve("docker-compose.prod.yml"), local);
    return clone;
  }

  static InspectContainerResponse container(String service) {
    List<Container> found = project.containers(service);
    assertEquals(1, found.size(), "one container of " + service + ": " + found);
    return docker.inspectContainerCmd(found.get(0).getId()).exec();
  }

  static boolean running(InspectContainerResponse c) {
    return Boolean.TRUE.equals(c.getState().getRunning());
  }

  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static String get(String url) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    return r.body().strip();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  // ------------------------------------------------------------------------------------ prober

  /** One answer of the proxy (or the error instead). */
  record Sample(Instant at, int status, String body, String error) {}

  /** Hits the proxy every 50 ms on a thread of its own, bounded in time, recording every answer. */
  static final class Prober {
    private final String url;
    private final List<Sample> samples = new ArrayList<>();
    private final AtomicBoolean on = new AtomicBoolean(true);
    private Thread thread;

    Prober(String url) {
      this.url = url;
    }

    void start() {
      long limit = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
      thread =
          new Thread(
              () -> {
                while (on.get() && System.nanoTime() < limit) {
                  Sample s;
                  try {
                    HttpResponse<String> r =
                        HTTP.send(
                            HttpRequest.newBuilder(URI.create(url))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                    s = new Sample(Instant.now(), r.statusCode(), r.body().strip(), null);
                  } catch (Exception e) {
                    s = new Sample(Instant.now(), 0, "", e.getClass().getSimpleName());
                  }
                  synchronized (samples) {
                    samples.add(s);
                  }
                  try {
                    Thread.sleep(50);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "proxy-prober");
      thread.setDaemon(true);
      thread.start();
    }

    void stop() throws InterruptedException {
      on.set(false);
      if (thread != null) {
        thread.join(10_000);
      }
    }

    List<Sample> samples() {
      synchronized (samples) {
        return List.copyOf(samples);
      }
    }

    List<Sample> failures() {
      return samples().stream().filter(s -> s.status() != 200).toList();
    }
  }
}
