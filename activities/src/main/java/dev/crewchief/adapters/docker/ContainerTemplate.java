package dev.crewchief.adapters.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Ulimit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration of an existing container, to create another one like it from a new image.
 *
 * <p>An inspected container's configuration mixes what its creator asked for with what its image
 * brought (the image's environment, labels, command, working directory, user, healthcheck). What
 * came unchanged from the old image is left out, so the new image's own values apply: copying an
 * old image's {@code ENV APP_VERSION=36-0} onto the new container would pin the old version. What
 * the creator set (the compose file's command, environment, labels, healthcheck) is kept, as are
 * the whole host configuration (network mode, binds, port bindings, init, restart policy) and the
 * container's network aliases.
 */
final class ContainerTemplate {
  private static final Logger log = LoggerFactory.getLogger(ContainerTemplate.class);
  private static final Set<String> BUILTIN_NETWORKS = Set.of("host", "bridge", "none", "default");

  private final DockerClient client;
  private final InspectContainerResponse from;

  ContainerTemplate(DockerClient client, InspectContainerResponse from) {
    this.client = client;
    this.from = from;
  }

  /** Creates (does not start) the new container and returns its id. */
  String create(String image, String name, int number) {
    ContainerConfig cfg = from.getConfig();
    ContainerConfig old = oldImageConfig();

    Map<String, String> labels = new HashMap<>(nonNull(cfg.getLabels()));
    if (old != null) {
      nonNull(old.getLabels())
          .forEach(
              (k, v) -> {
                if (!k.startsWith("com.docker.compose.") && v.equals(labels.get(k))) {
                  labels.remove(k);
                }
              });
    }
    labels.put(ComposeLabels.NUMBER, Integer.toString(number));

    CreateContainerCmd cmd =
        client
            .createContainerCmd(image)
            .withName(name)
            .withLabels(labels)
            .withHostConfig(hostConfig());

    List<String> env = new ArrayList<>(Arrays.asList(nonNull(cfg.getEnv())));
    if (old != null) {
      env.removeAll(Arrays.asList(nonNull(old.getEnv())));
    }
    // podman adds container=podman to every container; it is not part of the configuration.
    env.remove("container=podman");
    if (!env.isEmpty()) {
      cmd.withEnv(env);
    }
    if (cfg.getCmd() != null && (old == null || !Arrays.equals(cfg.getCmd(), old.getCmd()))) {
      cmd.withCmd(cfg.getCmd());
    }
    if (cfg.getEntrypoint() != null
        && (old == null || !Arrays.equals(cfg.getEntrypoint(), old.getEntrypoint()))) {
      cmd.withEntrypoint(cfg.getEntrypoint());
    }
    if (set(cfg.getWorkingDir())
        && (old == null || !cfg.getWorkingDir().equals(old.getWorkingDir()))) {
      cmd.withWorkingDir(cfg.getWorkingDir());
    }
    if (set(cfg.getUser()) && (old == null || !cfg.getUser().equals(old.getUser()))) {
      cmd.withUser(cfg.getUser());
    }
    HealthCheck hc = cfg.getHealthcheck();
    if (hc != null
        && hc.getTest() != null
        && !hc.getTest().isEmpty()
        && (old == null || !sameCheck(hc, old.getHealthcheck()))) {
      cmd.withHealthcheck(hc);
    }
    if (cfg.getExposedPorts() != null && cfg.getExposedPorts().length > 0) {
      cmd.withExposedPorts(cfg.getExposedPorts());
    }
    if (Boolean.TRUE.equals(cfg.getTty())) {
      cmd.withTty(true);
    }
    if (Boolean.TRUE.equals(cfg.getStdinOpen())) {
      cmd.withStdinOpen(true);
    }

    // On a compose network the service name is an alias of each of its containers: other services
    // reach it by that name, so the new container must answer to it too. The old container's own
    // short id, which compose also adds, is not carried over.
    String mode = from.getHostConfig() == null ? null : from.getHostConfig().getNetworkMode();
    Map<String, ContainerNetwork> networks =
        from.getNetworkSettings() == null || from.getNetworkSettings().getNetworks() == null
            ? Map.of()
            : from.getNetworkSettings().getNetworks();
    if (mode != null && !BUILTIN_NETWORKS.contains(mode) && !mode.startsWith("container:")) {
      List<String> aliases = aliases(networks.get(mode));
      if (!aliases.isEmpty()) {
        cmd.withAliases(aliases);
      }
    }
    String id = cmd.exec().getId();

    for (Map.Entry<String, ContainerNetwork> n : networks.entrySet()) {
      String net = n.getKey();
      if (net.equals(mode) || BUILTIN_NETWORKS.contains(net) || BUILTIN_NETWORKS.contains(mode)) {
        continue;
      }
      ContainerNetwork endpoint = new ContainerNetwork().withAliases(aliases(n.getValue()));
      client
          .connectToNetworkCmd()
          .withContainerId(id)
          .withNetworkId(net)
          .withContainerNetwork(endpoint)
          .exec();
    }
    return id;
  }

  /**
   * The old container's host configuration. podman reports ulimits under their kernel names
   * (RLIMIT_NOFILE) but accepts only Docker's (nofile) when creating a container; Docker reports
   * them as it accepts them.
   */
  private HostConfig hostConfig() {
    HostConfig hc = from.getHostConfig();
    if (hc != null && hc.getUlimits() != null) {
      Ulimit[] limits =
          Arrays.stream(hc.getUlimits())
              .map(
                  u ->
                      u.getName() != null && u.getName().startsWith("RLIMIT_")
                          ? new Ulimit(
                              u.getName().substring(7).toLowerCase(),
                              u.getSoftLong(),
                              u.getHardLong())
                          : u)
              .toArray(Ulimit[]::new);
      hc.withUlimits(limits);
    }
    return hc;
  }

  private List<String> aliases(ContainerNetwork n) {
    if (n == null || n.getAliases() == null) {
      return List.of();
    }
    String shortId = Containers.shortId(from.getId());
    return n.getAliases().stream()
        .filter(a -> !a.equals(shortId) && !a.equals(from.getId()))
        .toList();
  }

  /** The configuration of the image the container was made from, or null when it is gone. */
  private ContainerConfig oldImageConfig() {
    if (from.getImageId() == null) {
      return null;
    }
    try {
      return client.inspectImageCmd(from.getImageId()).exec().getConfig();
    } catch (NotFoundException gone) {
      log.warn(
          "the image of {} ({}) is gone: its whole configuration is copied, including what came"
              + " from that image",
          Containers.name(from),
          from.getImageId());
      return null;
    }
  }

  private static boolean sameCheck(HealthCheck a, HealthCheck b) {
    return b != null
        && Objects.equals(a.getTest(), b.getTest())
        && Objects.equals(a.getInterval(), b.getInterval())
        && Objects.equals(a.getTimeout(), b.getTimeout())
        && Objects.equals(a.getRetries(), b.getRetries())
        && Objects.equals(a.getStartPeriod(), b.getStartPeriod());
  }

  private static boolean set(String s) {
    return s != null && !s.isBlank();
  }

  private static Map<String, String> nonNull(Map<String, String> m) {
    return m == null ? Map.of() : m;
  }

  private static String[] nonNull(String[] a) {
    return a == null ? new String[0] : a;
  }
}
