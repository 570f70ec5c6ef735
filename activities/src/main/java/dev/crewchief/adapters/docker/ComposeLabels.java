package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.DockerFailures.invalid;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import dev.crewchief.activities.ServiceRef;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A docker-compose service as the engine sees it: the containers carrying compose's project and
 * service labels, numbered by its container-number label. Crew Chief never reads the compose file
 * to find containers, because the labels are what {@code docker-compose} itself goes by; new
 * containers get the same labels (with their own number) and a name in the style of their
 * neighbours, so compose keeps managing them afterwards.
 */
final class ComposeLabels {
  private static final Logger log = LoggerFactory.getLogger(ComposeLabels.class);

  static final String PROJECT = "com.docker.compose.project";
  static final String SERVICE = "com.docker.compose.service";
  static final String NUMBER = "com.docker.compose.container-number";

  private ComposeLabels() {}

  /**
   * Checks a service reference without contacting the engine (dry runs use this too).
   *
   * @throws ApplicationFailure {@code InvalidInput} saying what to configure
   */
  static ServiceRef requireService(ServiceRef s) {
    if (s == null) {
      throw invalid("no service given: configure the compose project and service");
    }
    DockerEngines.requireEngine(s.engine());
    if (s.project() == null || s.project().isBlank()) {
      throw invalid("no compose project given for service " + s.service() + ": configure project");
    }
    if (s.service() == null || s.service().isBlank()) {
      throw invalid("no service name given in compose project " + s.project());
    }
    return s;
  }

  /** All containers of the service (running or not), lowest number first. */
  static List<InspectContainerResponse> containersOf(DockerClient c, ServiceRef s) {
    List<Container> listed =
        c.listContainersCmd()
            .withShowAll(true)
            .withLabelFilter(Map.of(PROJECT, s.project(), SERVICE, s.service()))
            .exec();
    List<InspectContainerResponse> out = new ArrayList<>();
    for (Container x : listed) {
      Map<String, String> l = x.getLabels() == null ? Map.of() : x.getLabels();
      // The label filter is checked again here: engines have differed on whether several label
      // filters must all match.
      if (!s.project().equals(l.get(PROJECT)) || !s.service().equals(l.get(SERVICE))) {
        continue;
      }
      try {
        out.add(c.inspectContainerCmd(x.getId()).exec());
      } catch (NotFoundException removedMeanwhile) {
        log.debug("container {} went away while listing", x.getId());
      }
    }
    out.sort(
        Comparator.comparingInt(ComposeLabels::number)
            .thenComparing(InspectContainerResponse::getCreated));
    return out;
  }

  /** As {@link #containersOf}, but a service without containers is {@code ServiceNotFound}. */
  static List<InspectContainerResponse> requireContainers(DockerClient c, ServiceRef s) {
    List<InspectContainerResponse> all = containersOf(c, s);
    if (all.isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "no container of service "
              + s.service()
              + " in compose project "
              + s.project()
              + " on engine "
              + s.engine().name()
              + " ("
              + s.engine().host()
              + "): check the project and service names (the labels "
              + PROJECT
              + " and "
              + SERVICE
              + ")",
          "ServiceNotFound");
    }
    return all;
  }

  /** Whether the container's labels make it one of the service's. */
  static boolean belongsTo(InspectContainerResponse x, ServiceRef s) {
    Map<String, String> labels = Containers.labels(x);
    return s.project().equals(labels.get(PROJECT)) && s.service().equals(labels.get(SERVICE));
  }

  /** The project and service the container's labels name, for messages. */
  static String labelledAs(InspectContainerResponse x) {
    Map<String, String> labels = Containers.labels(x);
    return labels.get(PROJECT) + "/" + labels.get(SERVICE);
  }

  /** The container's number within its service; 0 when its label is missing or not a number. */
  static int number(InspectContainerResponse x) {
    try {
      return Integer.parseInt(Containers.labels(x).getOrDefault(NUMBER, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * The new container's name: compose v1 names containers {@code project_service_n}, compose v2
   * {@code project-service-n}; the new one follows its neighbour's style.
   */
  static String nextName(InspectContainerResponse template, ServiceRef s, int number) {
    String hyphen = s.project() + "-" + s.service() + "-";
    String sep = Containers.name(template).startsWith(hyphen) ? "-" : "_";
    return s.project() + sep + s.service() + sep + number;
  }

  /** The containers with their numbers and states, for messages. */
  static String summary(List<InspectContainerResponse> all) {
    return all.stream()
        .map(x -> Containers.name(x) + " (" + number(x) + ", " + x.getState().getStatus() + ")")
        .collect(Collectors.joining(", "));
  }
}
