package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HealthCheck;
import dev.crewchief.adapters.DockerEngine;
import dev.crewchief.adapters.GitRepos;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Atmosphere hotfix end to end: a compose project (atmosphere and troposphere services) on a
 * real Docker-API engine (podman), an nginx proxy in front of the atmosphere containers, and the
 * worker and CLI as separate processes on the real Temporal server. While the hotfix swaps the
 * atmosphere container for one on the new image, a prober hits the proxy every 20 ms: not one
 * request may fail, and the new version must serve at the end.
 */
class AtmosphereHotfixIT {
  static final String PROJECT = "cc-hotfix";
  static DockerEngine engine;
  static DockerClient docker;
  static ComposeProject project;
  static Stack stack;
  static Process nginx;
  static int proxyPort;
  static Path dir;
  static Path compose;

  @BeforeAll
  static void up() throws Exception {
    engine = DockerEngine.get();
    project = new ComposeProject(engine, PROJECT);
    docker = project.docker;
    // The release's image tags: v + Major-Minor, as the runbook's registry has them.
    docker.tagImageCmd(engine.imageV1(), "localhost/crewchief-app", "v36-6").exec();
    docker.tagImageCmd(engine.imageV2(), "localhost/crewchief-app", "v36-7").exec();

    int p1 = freePort();
    int p2 = freePort();
    // Host networking: each container takes the first free port of PORTS, so the container the
    // hotfix starts next to the first one (same configuration) ends up on the second port.
    String app =
        project
            .container("atmosphere", "localhost/crewchief-app:v36-6", "PORTS=" + p1 + " " + p2)
            .withCmd(
                "sh", "-c", "for p in $PORTS; do echo $p > /tmp/port; httpd -f -p $p -h /www; done")
            .withHealthcheck(
                new HealthCheck()
                    .withTest(
                        List.of(
                            "CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:$(cat /tmp/port)/"))
                    .withInterval(1_000_000_000L)
                    .withTimeout(2_000_000_000L)
                    .withRetries(3))
            .exec()
            .getId();
    docker.startContainerCmd(app).exec();
    String tropo =
        project
            .container("troposphere", "localhost/crewchief-app:v36-6", "ROLE=proxy")
            .withCmd("sleep", "100000")
            .exec()
            .getId();
    docker.startContainerCmd(tropo).exec();

    dir = Files.createTempDirectory("crewchief-hotfix-");
    dir.toFile().setReadable(true, false);
    dir.toFile().setExecutable(true, false);
    proxyPort = freePort();
    startProxy(p1, p2);

    // The atmosphere-docker checkout whose compose file the hotfix edits first.
    compose = dir.resolve("atmosphere-docker");
    Files.createDirectories(compose);
    Files.writeString(
        compose.resolve("docker-compose.prod.yml"),
        """
        services:
          troposphere:
            image: localhost/crewchief-app:v36-6
          atmosphere:
            image: localhost/crewchief-app:v36-6   # bumped by hotfixes
        """);
    GitRepos.git(compose, "init", "-q", "-b", "master");
    GitRepos.identify(compose);
    GitRepos.git(compose, "add", ".");
    GitRepos.git(compose, "commit", "-q", "-m", "Production compose file");

    Path config = dir.resolve("crewchief.yaml");
    Files.writeString(
        config,
        """
        taskQueue: crewchief
        environments:
          hotfix:
            approvers: { crew-chief: [alice], driver: [bob] }
            atmosphere:
              engine: { host: "%s" }
              project: %s
              images: { atmosphere: localhost/crewchief-app, troposphere: localhost/crewchief-app }
              tagPrefix: v
              proxyService: troposphere
              proxyRestartCommand: [sh, -c, "echo restarted >> /tmp/nginx-restarts; echo nginx restarted"]
              pullPolicy: missing
              readyTimeout: PT2M
              compose: { path: %s, branch: master }
        """
            .formatted(engine.host(), PROJECT, compose));
    stack = Stack.start(config.toString());
  }

  /**
   * The proxy in front of Atmosphere: both container ports upstream; a refused connection is tried
   * on the other, as the runbook's round-robin across the two containers does.
   */
  static void startProxy(int p1, int p2) throws Exception {
    Files.createDirectories(dir.resolve("logs"));
    Files.writeString(
        dir.resolve("nginx.conf"),
        """
        worker_processes 1;
        daemon off;
        pid %1$s/nginx.pid;
        error_log %1$s/logs/error.log warn;
        events { worker_connections 256; }
        http {
          access_log off;
          upstream atmosphere { server 127.0.0.1:%2$d max_fails=0; server 127.0.0.1:%3$d max_fails=0; }
          server {
            listen 127.0.0.1:%4$d;
            location / {
              proxy_pass http://atmosphere;
              proxy_connect_timeout 1s;
              proxy_next_upstream error timeout http_502 http_503;
            }
          }
        }
        """
            .formatted(dir, p1, p2, proxyPort));
    nginx =
        new ProcessBuilder(
                "/usr/sbin/nginx",
                "-p",
                dir.toString(),
                "-c",
                dir.resolve("nginx.conf").toString(),
                "-e",
                dir.resolve("logs/error.log").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("logs/nginx.out").toFile())
            .start();
    HttpClient http = HttpClient.newHttpClient();
    for (int i = 0; i < 200; i++) {
      try {
        if (http.send(request(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // Not up yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "the proxy never served the app: " + Files.readString(dir.resolve("logs/error.log")));
  }

  static HttpRequest request() {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + "/"))
        .timeout(Duration.ofSeconds(5))
        .build();
  }

  @AfterAll
  static void down() throws Exception {
    if (stack != null) {
      stack.close();
    }
    if (nginx != null) {
      nginx.destroy();
      nginx.waitFor(10, TimeUnit.SECONDS);
    }
    if (project != null) {
      project.close();
    }
  }

  @Test
  void hotfixSwapsTheContainerWithoutAFailedRequest() throws Exception {
    AtomicBoolean probing = new AtomicBoolean(true);
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Set<String> seen = ConcurrentHashMap.newKeySet();
    StringBuffer failures = new StringBuffer();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long limit = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
    Thread prober =
        new Thread(
            () -> {
              // Every 20 ms, bounded in time: the loop ends by itself if the test hangs.
              while (probing.get() && System.nanoTime() < limit) {
                sent.incrementAndGet();
                try {
                  HttpResponse<String> r =
                      http.send(request(), HttpResponse.BodyHandlers.ofString());
                  if (r.statusCode() == 200) {
                    seen.add(r.body().strip());
                  } else {
                    failed.incrementAndGet();
                    failures.append(r.statusCode()).append(' ');
                  }
                } catch (Exception e) {
                  failed.incrementAndGet();
                  failures.append(e.getClass().getSimpleName()).append(' ');
                }
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "prober");
    prober.start();
    try {
      Crewchief.Result started =
          stack.cc.run("start", "atmosphere-hotfix", "--env", "hotfix", "--version", "36-7");
      assertEquals(0, started.exit(), started.out());
      String id = "release-atmosphere-hotfix-hotfix-36-7";
      Crewchief.Result watched = stack.cc.run("watch", id);
      assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + stack.worker.logText());
      Thread.sleep(1000);
      probing.set(false);
      prober.join(10_000);

      assertEquals(0, failed.get(), "failed requests during the swap: " + failures);
      assertTrue(sent.get() > 100, "the prober ran throughout: " + sent.get() + " requests");
      assertTrue(
          seen.contains("crewchief-app v1") && seen.contains("crewchief-app v2"),
          "both versions answered during the swap: " + seen);
      String last = http.send(request(), HttpResponse.BodyHandlers.ofString()).body().strip();
      assertEquals("crewchief-app v2", last);

      List<Container> left = project.containers("atmosphere");
      assertEquals(1, left.size(), "only the new container is left");
      assertEquals("2", left.get(0).getLabels().get("com.docker.compose.container-number"));

      String report = stack.cc.run("report", id).out();
      assertTrue(report.contains("start a second atmosphere container"), report);
      assertTrue(
          report.contains("stop and remove the old container " + PROJECT + "_atmosphere_1"),
          report);
      assertTrue(report.contains("restart nginx inside the troposphere container"), report);
      assertTrue(
          report.contains(PROJECT + "_atmosphere_2") && report.contains("--index=2"), report);
      // The runbook's first step: the compose file names the new tag (and only that changed).
      assertTrue(
          report.contains("image tag of atmosphere in docker-compose.prod.yml set to"), report);
      String file = Files.readString(compose.resolve("docker-compose.prod.yml"));
      assertTrue(
          file.contains("image: localhost/crewchief-app:v36-7   # bumped by hotfixes")
              && file.contains("image: localhost/crewchief-app:v36-6\n"),
          file);
      System.out.println(
          "hotfix: "
              + sent.get()
              + " requests every 20 ms, "
              + failed.get()
              + " failed, seen "
              + seen);
      stack.histories.replayAndKeep(id);
    } finally {
      probing.set(false);
    }
  }

  static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
