package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.ComposeLabels.containersOf;
import static dev.crewchief.adapters.docker.ComposeLabels.requireContainers;
import static dev.crewchief.adapters.docker.ComposeLabels.requireService;
import static dev.crewchief.adapters.docker.Containers.name;
import static dev.crewchief.adapters.docker.Containers.running;
import static dev.crewchief.adapters.docker.Containers.shortId;
import static dev.crewchief.adapters.docker.DockerFailures.guard;
import static dev.crewchief.adapters.docker.DockerFailures.invalid;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.RemoveRequest;
import dev.crewchief.activities.ServiceRef;
import dev.crewchief.activities.ServiceRequest;
import dev.crewchief.activities.ServiceState;
import dev.crewchief.adapters.io.ActivityIo;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The containers a service already has: inspected, stopped, started, one of them removed. Each
 * action leaves alone what is already in the wanted state and says so, which is what makes a retry
 * after a lost answer harmless. The stop, start and remove of one container are shared with the
 * deploys, which replace containers the same way.
 */
final class ServiceContainers {
  private static final Logger log = LoggerFactory.getLogger(ServiceContainers.class);

  /** docker-compose's default stop timeout; containers run with an init stop well within it. */
  private static final int STOP_SECONDS = 10;

  private final DockerEngines engines;

  ServiceContainers(DockerEngines engines) {
    this.engines = engines;
  }

  ServiceState inspectService(ServiceRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.dryRun()) {
      return new ServiceState(s, false, List.of());
    }
    DockerClient c = client(s);
    return guard(
        s,
        s.engine(),
        () ->
            new ServiceState(s, true, containersOf(c, s).stream().map(Containers::info).toList()));
  }

  ActionResult stopService(ServiceRequest r) {
    ServiceRef s = requireService(r.service());
    String action =
        "stop every running container of " + s.describe() + " (timeout " + STOP_SECONDS + " s)";
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(s);
    return guard(
        s,
        s.engine(),
        () -> {
          List<String> stopped = new ArrayList<>();
          List<String> already = new ArrayList<>();
          for (InspectContainerResponse x : requireContainers(c, s)) {
            if (running(x)) {
              log.info("step '{}': stopping {}", r.step(), name(x));
              stop(c, x.getId());
              stopped.add(name(x));
            } else {
              already.add(name(x));
            }
          }
          return new ActionResult(
              action, false, listing("stopped", stopped, "already stopped", already));
        });
  }

  ActionResult startService(ServiceRequest r) {
    ServiceRef s = requireService(r.service());
    String action = "start every stopped container of " + s.describe();
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(s);
    return guard(
        s,
        s.engine(),
        () -> {
          List<String> started = new ArrayList<>();
          List<String> already = new ArrayList<>();
          for (InspectContainerResponse x : requireContainers(c, s)) {
            if (running(x)) {
              already.add(name(x));
              continue;
            }
            log.info("step '{}': starting {}", r.step(), name(x));
            start(c, x.getId());
            // Act, then verify: a container whose command fails at once is reported here rather
            // than by a later step that finds the service down.
            InspectContainerResponse now = c.inspectContainerCmd(x.getId()).exec();
            if (!running(now)) {
              throw ContainerReadiness.unhealthy(c, now, "exited right after it was started");
            }
            started.add(name(x));
          }
          return new ActionResult(
              action, false, listing("started", started, "already running", already));
        });
  }

  ActionResult removeContainer(RemoveRequest r) {
    ServiceRef s = requireService(r.service());
    if (r.containerId() == null || !r.containerId().matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw invalid("container id '" + r.containerId() + "' is not a container id or name");
    }
    String action =
        "on engine "
            + s.engine().name()
            + ": stop (timeout "
            + STOP_SECONDS
            + " s) and remove container "
            + shortId(r.containerId())
            + " of "
            + s.describe();
    if (r.dryRun()) {
      return new ActionResult(action, true, "");
    }
    DockerClient c = client(s);
    return guard(
        s,
        s.engine(),
        () -> {
          InspectContainerResponse x;
          try {
            x = c.inspectContainerCmd(r.containerId()).exec();
          } catch (NotFoundException gone) {
            return new ActionResult(
                action, false, "container " + shortId(r.containerId()) + " is already gone");
          }
          // A guard on a destructive step: only a container of this service is removed, whatever
          // id the step was handed.
          if (!ComposeLabels.belongsTo(x, s)) {
            throw invalid(
                "container "
                    + name(x)
                    + " is not part of "
                    + s.describe()
                    + " (its compose labels say "
                    + ComposeLabels.labelledAs(x)
                    + "): refusing to remove it");
          }
          log.info("step '{}': {}", r.step(), action);
          remove(c, x.getId());
          return new ActionResult(action, false, "removed " + name(x));
        });
  }

  static void stop(DockerClient c, String id) {
    ActivityIo.whileHeartbeating(
        "stopping " + shortId(id),
        () -> {
          try {
            c.stopContainerCmd(id).withTimeout(STOP_SECONDS).exec();
          } catch (NotModifiedException alreadyStopped) {
            // Stopped between our look and the request: that is the state we wanted.
          }
          return null;
        });
  }

  static void start(DockerClient c, String id) {
    try {
      c.startContainerCmd(id).exec();
    } catch (NotModifiedException alreadyRunning) {
      // Started meanwhile (by a restart policy, or an earlier attempt): fine.
    }
  }

  static void remove(DockerClient c, String id) {
    try {
      stop(c, id);
      c.removeContainerCmd(id).exec();
    } catch (NotFoundException gone) {
      // Removed meanwhile: that is what we wanted.
    }
  }

  private DockerClient client(ServiceRef s) {
    return engines.engine(s.engine()).client();
  }

  private static String listing(String did, List<String> a, String skipped, List<String> b) {
    return did
        + ": "
        + (a.isEmpty() ? "none" : String.join(", ", a))
        + (b.isEmpty() ? "" : "; " + skipped + ": " + String.join(", ", b));
  }
}
