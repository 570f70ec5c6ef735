package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.CommitRequest;
import dev.crewchief.activities.ContainerInfo;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DeployRequest;
import dev.crewchief.activities.EngineRef;
import dev.crewchief.activities.ExecOutcome;
import dev.crewchief.activities.ExecRequest;
import dev.crewchief.activities.PullRequest;
import dev.crewchief.activities.RemoveRequest;
import dev.crewchief.activities.ServiceRef;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.adapters.docker.DockerActivitiesImpl;
import dev.crewchief.adapters.docker.DockerEngines;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The Docker adapter against a real Docker-API engine (podman, see {@link DockerEngine}): services
 * made of compose-labelled containers created here the way docker-compose creates them, running
 * busybox httpd on the host network.
 *
 * <p>Containers on the host network share its ports, and a container made by scaleUp inherits its
 * neighbour's command; so each service's command tries the ports of its PORTS variable in turn
 * (httpd exits at once when its port is taken) and writes the one it got to /tmp/port, where its
 * healthcheck and the test read it.
 */
class DockerAdapterTest {
  static final Duration READY = Duration.ofSeconds(30);
  static final AtomicInteger projects = new AtomicInteger();

  static DockerEngine engine;
  static EngineRef ref;
  static DockerEngines engines;
  static DockerActivitiesImpl docker;
  static DockerClient raw;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void up() {
    engine = DockerEngine.get();
    ref = new EngineRef("test-engine", engine.host(), null, null);
    engines = new DockerEngines();
    docker = new DockerActivitiesImpl(engines, new SecretResolver(Map.of()));
    DefaultDockerClientConfig config =
        DefaultDockerClientConfig.createDefaultConfigBuilder()
            .withDockerHost(engine.host())
            .withDockerTlsVerify(false)
            .build();
    raw =
        DockerClientImpl.getInstance(
            config,
            new ApacheDockerHttpClient.Builder().dockerHost(config.getDockerHost()).build());
  }

  @AfterAll
  static void down() throws IOException {
    engines.close();
    raw.close();
  }

  /** A new compose project of its own, so that tests do not see each other's containers. */
  static ServiceRef newService() {
    return new ServiceRef(ref, "cc-test" + projects.incrementAndGet(), "web");
  }

  /**
   * Creates and starts container {@code number} of the service as docker-compose would (name,
   * labels, host network, init), from {@code image}, optionally with a healthcheck.
   */
  static String composeContainer(ServiceRef s, int number, String image, boolean healthcheck)
      throws IOException {
    String ports = freePort() + " " + freePort() + " " + freePort() + " " + freePort();
    var cmd =
        raw.createContainerCmd(image)
            .withName(s.project() + "_" + s.service() + "_" + number)
            .withLabels(
                Map.of(
                    "com.docker.compose.project", s.project(),
                    "com.docker.compose.service", s.service(),
                    "com.docker.compose.container-number", Integer.toString(number),
                    "com.docker.compose.oneoff", "False"))
            .withEnv("PORTS=" + ports, "APP_SETTING=kept")
            .withCmd(
                "sh", "-c", "for p in $PORTS; do echo $p > /tmp/port; httpd -f -p $p -h /www; done")
            .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host").withInit(true));
    if (healthcheck) {
      cmd.withHealthcheck(
          new HealthCheck()
              .withTest(
                  List.of("CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:$(cat /tmp/port)/"))
              .withInterval(1_000_000_000L)
              .withTimeout(2_000_000_000L)
              .withRetries(3));
    }
    String id = cmd.exec().getId();
    raw.startContainerCmd(id).exec();
    return id;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static ServiceState inspect(ServiceRef s) {
    return docker.inspectService(new ServiceRequest("inspect", s, false));
  }

  static ExecOutcome exec(ServiceRef s, int number, boolean allowFailure, String... command) {
    return docker.exec(new ExecRequest("exec", s, number, List.of(command), allowFailure, false));
  }

  /** What the container's httpd serves, fetched from the test JVM on the port it bound. */
  static String page(ServiceRef s, int number) throws Exception {
    String port = exec(s, number, false, "cat", "/tmp/port").output().strip();
    // The port file is written just before httpd binds; give it a moment.
    for (int i = 0; ; i++) {
      try {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body()
            .strip();
      } catch (IOException e) {
        if (i > 50) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  static ApplicationFailure fails(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }

  @Test
  void inspectsTheServiceAndRunsCommandsInIt() throws Exception {
    ServiceRef s = newService();
    String id = composeContainer(s, 1, engine.imageV1(), true);

    ServiceState state = inspect(s);
    assertTrue(state.known());
    assertEquals(1, state.containers().size());
    ContainerInfo c = state.containers().get(0);
    assertEquals(id, c.id());
    assertEquals(s.project() + "_web_1", c.name());
    assertEquals(1, c.number());
    assertEquals(engine.imageV1(), c.image());
    assertEquals("running", c.state());
    assertTrue(Set.of("starting", "healthy").contains(c.health()), c.health());

    ExecOutcome ok = exec(s, 0, false, "sh", "-c", "echo out; echo err >&2");
    assertEquals(0, ok.exitCode());
    assertEquals("out\nerr", ok.output().strip());
    assertEquals(c.name(), ok.container());
    assertFalse(ok.rehearsed());

    // Output is streamed while the command runs (the adapter heartbeats meanwhile); a command
    // that takes a few seconds comes back whole.
    assertEquals(
        "before\nafter",
        exec(s, 0, false, "sh", "-c", "echo before; sleep 3; echo after").output().strip());

    ApplicationFailure f =
        fails("ContainerExecFailed", () -> exec(s, 1, false, "sh", "-c", "echo broken; exit 3"));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("exited with 3"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("broken"), f.getOriginalMessage());

    ExecOutcome allowed = exec(s, 1, true, "sh", "-c", "exit 3");
    assertEquals(3, allowed.exitCode());

    fails("ServiceNotFound", () -> exec(s, 2, false, "true"));
  }

  @Test
  void stopsCommitsABackupIdempotentlyAndStartsAgain() throws Exception {
    ServiceRef s = newService();
    String id = composeContainer(s, 1, engine.imageV1(), false);
    ServiceRequest req = new ServiceRequest("stop", s, false);

    ActionResult stopped = docker.stopService(req);
    assertTrue(stopped.output().contains("stopped: " + s.project() + "_web_1"), stopped.output());
    assertEquals("exited", inspect(s).containers().get(0).state());
    assertTrue(docker.stopService(req).output().contains("already stopped"));

    String repo = "localhost/" + s.project() + "-backup";
    CommitRequest commit = new CommitRequest("backup", s, 1, repo, "before-v2", false);
    ActionResult first = docker.commitContainer(commit);
    assertTrue(first.output().startsWith("committed " + repo + ":before-v2"), first.output());
    assertEquals(
        id,
        raw.inspectImageCmd(repo + ":before-v2")
            .exec()
            .getConfig()
            .getLabels()
            .get("crewchief.source-container"));
    ActionResult again = docker.commitContainer(commit);
    assertTrue(again.output().startsWith("kept"), again.output());

    // The same backup name from another container is refused, not overwritten.
    composeContainer(s, 2, engine.imageV1(), false);
    ApplicationFailure f =
        fails(
            "BackupImageExists",
            () ->
                docker.commitContainer(
                    new CommitRequest("backup", s, 2, repo, "before-v2", false)));
    assertTrue(f.isNonRetryable());

    ActionResult started = docker.startService(req);
    assertTrue(started.output().contains("started: " + s.project() + "_web_1"), started.output());
    assertTrue(inspect(s).containers().stream().allMatch(c -> c.state().equals("running")));
    assertTrue(docker.startService(req).output().startsWith("started: none"));
  }

  @Test
  void recreatesTheServiceFromTheNewImageReadyByProbe() throws Exception {
    ServiceRef s = newService();
    String oldId = composeContainer(s, 1, engine.imageV1(), false);
    assertEquals("crewchief-app v1", page(s, 1));
    String port = exec(s, 1, false, "cat", "/tmp/port").output().strip();

    // Without a healthcheck the probe URL decides; the old container is stopped first, so the new
    // one binds the same (first) port.
    DeployRequest deploy =
        new DeployRequest(
            "recreate", s, engine.imageV2(), "http://127.0.0.1:" + port + "/", READY, false);
    ContainerResult r = docker.recreateService(deploy);
    ContainerInfo c = r.container();
    assertEquals(1, c.number());
    assertEquals(s.project() + "_web_1", c.name());
    assertEquals(engine.imageV2(), c.image());
    assertEquals("running", c.state());
    assertNotEquals(oldId, c.id());
    assertEquals("crewchief-app v2", page(s, 1));
    assertEquals(1, inspect(s).containers().size());

    // The environment the old container was given is kept; the command is the same.
    assertEquals("kept", exec(s, 1, false, "sh", "-c", "echo $APP_SETTING").output().strip());
    var created = raw.inspectContainerCmd(c.id()).exec();
    assertEquals("host", created.getHostConfig().getNetworkMode());
    assertTrue(created.getHostConfig().getInit());

    ContainerResult again = docker.recreateService(deploy);
    assertEquals(c.id(), again.container().id());
    assertTrue(again.action().contains("kept"), again.action());
  }

  @Test
  void scalesUpNextToTheOldContainerThenRemovesIt() throws Exception {
    ServiceRef s = newService();
    String oldId = composeContainer(s, 1, engine.imageV1(), true);

    DeployRequest deploy = new DeployRequest("scale", s, engine.imageV2(), null, READY, false);
    long t0 = System.nanoTime();
    ContainerResult r = docker.scaleUp(deploy);
    System.err.printf("scaleUp until healthy: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    ContainerInfo fresh = r.container();
    assertEquals(2, fresh.number());
    assertEquals(s.project() + "_web_2", fresh.name());
    assertEquals(engine.imageV2(), fresh.image());
    assertEquals("healthy", fresh.health());
    assertTrue(r.action().contains("create " + s.project() + "_web_2"), r.action());

    List<ContainerInfo> both = inspect(s).containers();
    assertEquals(List.of(1, 2), both.stream().map(ContainerInfo::number).toList());
    assertTrue(both.stream().allMatch(c -> c.state().equals("running")));
    assertEquals("crewchief-app v1", page(s, 1));
    assertEquals("crewchief-app v2", page(s, 2));

    // A retried scaleUp finds the new container instead of making a third.
    ContainerResult again = docker.scaleUp(deploy);
    assertEquals(fresh.id(), again.container().id());
    assertEquals(2, inspect(s).containers().size());

    RemoveRequest remove = new RemoveRequest("remove", s, oldId, false);
    assertTrue(docker.removeContainer(remove).output().startsWith("removed"));
    assertTrue(docker.removeContainer(remove).output().contains("already gone"));
    assertEquals(List.of(2), inspect(s).containers().stream().map(ContainerInfo::number).toList());

    // A container of another service is never removed through this one.
    ServiceRef other = newService();
    String otherId = composeContainer(other, 1, engine.imageV1(), false);
    fails("InvalidInput", () -> docker.removeContainer(new RemoveRequest("rm", s, otherId, false)));
    assertEquals(1, inspect(other).containers().size());
  }

  @Test
  void aContainerThatNeverGetsHealthyFailsTheStep() throws Exception {
    ServiceRef s = newService();
    composeContainer(s, 1, engine.imageV1(), false);
    // The probe URL points at a port nothing listens on.
    DeployRequest deploy =
        new DeployRequest(
            "scale",
            s,
            engine.imageV2(),
            "http://127.0.0.1:" + freePort() + "/",
            Duration.ofSeconds(3),
            false);
    ApplicationFailure f = fails("ContainerUnhealthy", () -> docker.scaleUp(deploy));
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(s.project() + "_web_2"), f.getOriginalMessage());
  }

  @Test
  void pullsOnlyWhatIsMissingAndFailsClearlyForAnUnknownImage() {
    ActionResult kept =
        docker.pullImage(new PullRequest("pull", ref, engine.imageV1(), true, false));
    assertTrue(kept.output().contains("already on the engine"), kept.output());

    // localhost/ is no registry at all: the engine's answer decides between "no such image"
    // (not retried) and "registry unreachable" (retried).
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                docker.pullImage(
                    new PullRequest("pull", ref, "localhost/crewchief-nope:v9", false, false)));
    assertTrue(Set.of("ImageNotFound", "RegistryUnreachable").contains(f.getType()), f.getType());
    assertEquals("ImageNotFound".equals(f.getType()), f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("crewchief-nope:v9"), f.getOriginalMessage());

    fails(
        "InvalidInput",
        () -> docker.pullImage(new PullRequest("pull", ref, "localhost/app", true, false)));
  }

  @Test
  void pullsFromARegistryWithTheLoginItsReferenceNamesAndNotWithout(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws IOException {
    String image = engine.registry() + "/crewchief/app:v2";
    removeImage(image);
    EngineRef withLogin =
        new EngineRef("test-engine", engine.host(), null, "file:" + engine.registryAuthFile());
    ActionResult pulled = docker.pullImage(new PullRequest("pull", withLogin, image, false, false));
    assertTrue(pulled.output().startsWith("pulled " + image), pulled.output());
    assertEquals(
        "v2",
        raw.inspectImageCmd(image)
            .exec()
            .getConfig()
            .getLabels()
            .get("org.opencontainers.image.version"));
    // Pulled again (policy "always"): the registry is asked again, the image stays.
    assertTrue(
        docker
            .pullImage(new PullRequest("pull", withLogin, image, false, false))
            .output()
            .startsWith("pulled"));

    // No login, a wrong one, an unknown tag: not retried, and the message says what to check.
    String v3 = engine.registry() + "/crewchief/app:v3";
    removeImage(v3);
    ApplicationFailure anonymous =
        fails(
            "ImageNotFound",
            () -> docker.pullImage(new PullRequest("pull", ref, v3, false, false)));
    assertTrue(anonymous.isNonRetryable());
    assertTrue(anonymous.getOriginalMessage().contains("credentials (none configured)"));
    java.nio.file.Path wrong = tmp.resolve("wrong.json");
    java.nio.file.Files.writeString(
        wrong, "{\"username\":\"crewchief\",\"password\":\"not-it-42\"}");
    ApplicationFailure refused = pullFails("ImageNotFound", "file:" + wrong, v3);
    assertTrue(
        refused.getOriginalMessage().contains("file:" + wrong), refused.getOriginalMessage());
    assertFalse(refused.getOriginalMessage().contains("not-it-42"), "the password is never quoted");
    ApplicationFailure unknown =
        fails(
            "ImageNotFound",
            () ->
                docker.pullImage(
                    new PullRequest(
                        "pull",
                        withLogin,
                        engine.registry() + "/crewchief/app:v404",
                        false,
                        false)));
    assertTrue(unknown.getOriginalMessage().contains("v404"), unknown.getOriginalMessage());
    assertFalse(imageExists(v3));

    // A tag the registry does not have yet is waited for, not failed: once the build pushes it,
    // the next attempt pulls it. A refused login is not waited for.
    String later = engine.registry() + "/crewchief/app:v36-9";
    ApplicationFailure notYet =
        fails(
            "ImageNotPublished",
            () -> docker.awaitImage(new PullRequest("await", withLogin, later, false, false)));
    assertFalse(notYet.isNonRetryable());
    ApplicationFailure noLogin =
        fails(
            "ImageNotFound",
            () -> docker.awaitImage(new PullRequest("await", ref, later, false, false)));
    assertTrue(noLogin.isNonRetryable());
    engine.push(raw, engine.imageV3(), later, false);
    assertTrue(
        docker
            .awaitImage(new PullRequest("await", withLogin, later, false, false))
            .output()
            .startsWith("pulled " + later));

    java.nio.file.Path garbage = tmp.resolve("garbage.json");
    java.nio.file.Files.writeString(garbage, "crewchief:s3cret-garbage");
    ApplicationFailure unreadable = pullFails("SecretUnresolved", "file:" + garbage, v3);
    assertFalse(unreadable.getOriginalMessage().contains("s3cret-garbage"));

    // A rehearsed pull checks the login the real one will use, and pulls nothing.
    EngineRef missing =
        new EngineRef("test-engine", engine.host(), null, "file:" + tmp.resolve("no-login.json"));
    ApplicationFailure rehearsed =
        fails(
            "SecretUnresolved",
            () -> docker.pullImage(new PullRequest("pull", missing, image, false, true)));
    assertTrue(
        rehearsed.getOriginalMessage().contains("no-login.json"), rehearsed.getOriginalMessage());
    assertTrue(
        docker.pullImage(new PullRequest("pull", withLogin, image, false, true)).rehearsed());
  }

  /** A pull with the registry login the reference names, failing with this type. */
  static ApplicationFailure pullFails(String type, String authRef, String image) {
    EngineRef withRef = new EngineRef("test-engine", engine.host(), null, authRef);
    return fails(
        type, () -> docker.pullImage(new PullRequest("pull", withRef, image, false, false)));
  }

  static void removeImage(String image) {
    if (imageExists(image)) {
      raw.removeImageCmd(image).exec();
    }
  }

  static boolean imageExists(String image) {
    try {
      raw.inspectImageCmd(image).exec();
      return true;
    } catch (com.github.dockerjava.api.exception.NotFoundException e) {
      return false;
    }
  }

  @Test
  void deployingAnImageTheEngineDoesNotHaveIsImageNotFound() throws Exception {
    ServiceRef s = newService();
    composeContainer(s, 1, engine.imageV1(), false);
    ApplicationFailure f =
        fails(
            "ImageNotFound",
            () ->
                docker.scaleUp(
                    new DeployRequest(
                        "scale", s, "localhost/crewchief-app:v404", null, READY, false)));
    assertTrue(f.isNonRetryable());
    assertEquals(1, inspect(s).containers().size());
  }

  @Test
  void dryRunTouchesNothing() throws Exception {
    ServiceRef s = newService();
    String id = composeContainer(s, 1, engine.imageV1(), false);
    ServiceState before = inspect(s);

    ContainerResult scale =
        docker.scaleUp(new DeployRequest("scale", s, engine.imageV2(), null, READY, true));
    assertTrue(scale.rehearsed());
    assertNull(scale.container());
    assertTrue(scale.action().contains(engine.imageV2()), scale.action());
    assertTrue(
        docker
            .recreateService(new DeployRequest("re", s, engine.imageV2(), null, READY, true))
            .rehearsed());
    assertTrue(docker.stopService(new ServiceRequest("stop", s, true)).rehearsed());
    assertTrue(docker.removeContainer(new RemoveRequest("rm", s, id, true)).rehearsed());
    assertTrue(
        docker
            .commitContainer(new CommitRequest("c", s, 1, "localhost/dry-backup", "t", true))
            .rehearsed());
    ExecOutcome e =
        docker.exec(new ExecRequest("x", s, 0, List.of("rm", "-rf", "/www"), false, true));
    assertTrue(e.rehearsed());
    assertTrue(e.action().contains("rm -rf /www"), e.action());
    assertFalse(docker.inspectService(new ServiceRequest("i", s, true)).known());

    assertEquals(before, inspect(s));
    assertEquals("crewchief-app v1", page(s, 1));
    assertTrue(raw.listImagesCmd().withImageNameFilter("localhost/dry-backup").exec().isEmpty());

    // A rehearsal needs no engine at all.
    ServiceRef nowhere =
        new ServiceRef(new EngineRef("nowhere", "unix:///nonexistent.sock", null, null), "p", "s");
    assertTrue(
        docker
            .scaleUp(new DeployRequest("scale", nowhere, engine.imageV2(), null, READY, true))
            .rehearsed());
  }

  @Test
  void unknownServiceIsServiceNotFound() {
    ServiceRef s = new ServiceRef(ref, "cc-test-absent", "nothere");
    assertEquals(List.of(), inspect(s).containers());
    List<Executable> calls = new ArrayList<>();
    calls.add(() -> exec(s, 0, false, "true"));
    calls.add(() -> docker.stopService(new ServiceRequest("stop", s, false)));
    calls.add(
        () -> docker.scaleUp(new DeployRequest("scale", s, engine.imageV2(), null, READY, false)));
    for (Executable call : calls) {
      ApplicationFailure f = fails("ServiceNotFound", call);
      assertTrue(f.isNonRetryable());
      assertTrue(f.getOriginalMessage().contains("cc-test-absent"), f.getOriginalMessage());
      assertTrue(f.getOriginalMessage().contains("nothere"), f.getOriginalMessage());
      assertTrue(f.getOriginalMessage().contains("test-engine"), f.getOriginalMessage());
    }
  }

  @Test
  void badInputIsInvalidInputAndAnEngineThatIsNotThereIsRetried() {
    ServiceRef blank = new ServiceRef(ref, " ", "web");
    fails("InvalidInput", () -> inspect(blank));
    ServiceRef s = newService();
    ApplicationFailure untagged =
        fails(
            "InvalidInput",
            () ->
                docker.scaleUp(
                    new DeployRequest("scale", s, "localhost/crewchief-app", null, READY, true)));
    assertTrue(untagged.getOriginalMessage().contains("no tag"), untagged.getOriginalMessage());

    ServiceRef gone =
        new ServiceRef(
            new EngineRef("gone", "unix://" + engine.dir.resolve("absent.sock"), null, null),
            "p",
            "web");
    ApplicationFailure f = fails("DockerUnreachable", () -> inspect(gone));
    assertFalse(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("absent.sock"), f.getOriginalMessage());
  }
}
