package dev.crewchief.adapters.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.crewchief.activities.ContainerInfo;
import java.util.Map;

/**
 * What an inspected container is, read the same way by every activity: its name without the
 * engine's leading slash, its short id, whether it runs, its health, and the {@link ContainerInfo}
 * an activity reports. Engines leave fields out (podman more often than Docker), so every reader
 * tolerates a missing one.
 */
final class Containers {
  private Containers() {}

  static ContainerInfo info(InspectContainerResponse x) {
    return new ContainerInfo(
        x.getId(),
        name(x),
        ComposeLabels.number(x),
        x.getConfig() == null ? null : x.getConfig().getImage(),
        x.getState().getStatus(),
        health(x));
  }

  static String name(InspectContainerResponse x) {
    String n = x.getName();
    return n == null ? shortId(x.getId()) : n.startsWith("/") ? n.substring(1) : n;
  }

  static Map<String, String> labels(InspectContainerResponse x) {
    Map<String, String> l = x.getConfig() == null ? null : x.getConfig().getLabels();
    return l == null ? Map.of() : l;
  }

  static boolean running(InspectContainerResponse x) {
    return Boolean.TRUE.equals(x.getState().getRunning());
  }

  /** The healthcheck's status, or {@code none} when the container has no healthcheck. */
  static String health(InspectContainerResponse x) {
    var h = x.getState().getHealth();
    return h == null || h.getStatus() == null || h.getStatus().isBlank() ? "none" : h.getStatus();
  }

  /** The 12-character form people know from {@code docker ps}, for a hex id; else the id. */
  static String shortId(String id) {
    String b = bareId(id);
    return b.length() > 12 && b.matches("[0-9a-f]+") ? b.substring(0, 12) : b;
  }

  /** An id without its {@code sha256:} prefix, which engines give or leave out inconsistently. */
  static String bareId(String id) {
    return id.startsWith("sha256:") ? id.substring(7) : id;
  }

  /** The end of a container's output, for messages that must stay readable. */
  static String tail(String s, int max) {
    String t = s == null ? "" : s.strip();
    return t.length() > max ? "..." + t.substring(t.length() - max) : t;
  }
}
