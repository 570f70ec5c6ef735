package dev.crewchief.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.PushResponseItem;
import dev.crewchief.adapters.docker.ImageRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Docker-Engine-API engine (podman's service on a unix socket) with three versions of a
 * small busybox httpd image and a registry holding them, from deploy/sandbox/podman-engine.sh.
 * Started once per test JVM in a temporary directory; stopped, with every container it ran, and
 * deleted when the JVM exits.
 */
public final class DockerEngine {
  private static DockerEngine instance;

  public final Path dir;
  private final Map<String, String> env;

  private DockerEngine(Path dir, Map<String, String> env) {
    this.dir = dir;
    this.env = env;
  }

  public static synchronized DockerEngine get() {
    if (instance == null) {
      instance = start();
    }
    return instance;
  }

  /** The Docker host URI of the engine, unix://DIR/podman.sock. */
  public String host() {
    return env.get("DOCKER_HOST");
  }

  /** localhost/crewchief-app:v1, whose httpd serves "crewchief-app v1". */
  public String imageV1() {
    return env.get("APP_IMAGE_V1");
  }

  /** localhost/crewchief-app:v2, whose httpd serves "crewchief-app v2". */
  public String imageV2() {
    return env.get("APP_IMAGE_V2");
  }

  /** localhost/crewchief-app:v3, whose httpd serves "crewchief-app v3". */
  public String imageV3() {
    return env.get("APP_IMAGE_V3");
  }

  /**
   * The engine's registry, 127.0.0.1:PORT (plain HTTP, basic auth), holding the three versions as
   * REGISTRY/crewchief/app:v1..v3; none of those names is on the engine until pulled.
   */
  public String registry() {
    return env.get("REGISTRY");
  }

  /** The registry login as JSON {"username":..,"password":..}, for a file: reference. */
  public Path registryAuthFile() {
    return Path.of(env.get("REGISTRY_AUTH_FILE"));
  }

  /**
   * Pushes a local image to the registry as {@code target} (REGISTRY/name:tag) with the login;
   * unless {@code keep}, the engine then forgets that name, so that using it means pulling it.
   */
  public void push(DockerClient client, String local, String target, boolean keep) {
    ImageRef ref = ImageRef.parseTagged(target);
    String repo = ref.name();
    String tag = ref.tag();
    StringBuilder error = new StringBuilder();
    try {
      JsonNode login = new ObjectMapper().readTree(Files.readString(registryAuthFile()));
      client.tagImageCmd(local, repo, tag).exec();
      client
          .pushImageCmd(repo)
          .withTag(tag)
          .withAuthConfig(
              new AuthConfig()
                  .withUsername(login.get("username").asText())
                  .withPassword(login.get("password").asText())
                  .withRegistryAddress(registry()))
          .exec(
              new ResultCallback.Adapter<PushResponseItem>() {
                @Override
                public void onNext(PushResponseItem item) {
                  if (item.isErrorIndicated()) {
                    error.append(item.getError());
                  }
                }
              })
          .awaitCompletion(2, TimeUnit.MINUTES);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (error.length() > 0) {
      throw new IllegalStateException("push of " + target + " failed: " + error);
    }
    if (!keep) {
      client.removeImageCmd(target).exec();
    }
  }

  private static DockerEngine start() {
    try {
      Path dir = Files.createTempDirectory("crewchief-docker-");
      String script = Sandbox.repoRoot().resolve("deploy/sandbox/podman-engine.sh").toString();
      Sandbox.run(script, "up", dir.toString());
      Map<String, String> env = new HashMap<>();
      for (String line : Files.readAllLines(dir.resolve("engine.env"))) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
      }
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      Sandbox.run(script, "down", dir.toString());
                      Sandbox.run("rm", "-rf", dir.toString());
                    } catch (RuntimeException e) {
                      System.err.println("docker engine down failed: " + e.getMessage());
                    }
                  }));
      return new DockerEngine(dir, env);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
