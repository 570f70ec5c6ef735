package dev.crewchief.adapters.docker;

import static dev.crewchief.adapters.docker.ComposeLabels.number;
import static dev.crewchief.adapters.docker.ComposeLabels.requireContainers;
import static dev.crewchief.adapters.docker.ComposeLabels.requireService;
import static dev.crewchief.adapters.docker.Containers.info;
import static dev.crewchief.adapters.docker.Containers.name;
import static dev.crewchief.adapters.docker.Containers.running;
import static dev.crewchief.adapters.docker.Containers.shortId;
import static dev.crewchief.adapters.docker.DockerFailures.guard;
import static dev.crewchief.adapters.docker.EngineImages.onImage;
import static dev.crewchief.adapters.docker.ServiceContainers.remove;
import static dev.crewchief.adapters.docker.ServiceContainers.start;
import static dev.crewchief.adapters.docker.ServiceContainers.stop;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import dev.crewchief.activities.ContainerResult;
import dev.crewchief.activities.DeployRequest;
import dev.crewchief.activities.ServiceRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code Docker.recreateService} and {@code Docker.scaleUp}: new containers of a service from a new
 * image, each configured like the container it replaces or follows (see {@link ContainerTemplate}),
 * started and awaited until ready. Both find what an earlier attempt made (a container already on
 * the image) and keep it, so a retry completes the deploy instead of doing it twice.
 */
final class ServiceDeploys {
  private static final Logger log = LoggerFactory.getLogger(ServiceDeploys.class);

  private final DockerEngines engines;
  private final ContainerReadiness readiness;

  ServiceDeploys(DockerEngines engines, ContainerReadiness readiness) {
    this.engines = engines;
    this.readiness = readiness;
  }

  ContainerResult recreateService(DeployRequest r) {
    ServiceRef s = requireService(r.service());
    String image = ImageRef.parseTagged(r.image()).toString();
    Duration ready = ContainerReadiness.readyWithin(r.ready());
    ContainerReadiness.requireProbe(r.probeUrl());
    String action =
        "recreate the containers of "
            + s.describe()
            + " that are not on "
            + image
            + " from it (same numbers and configuration), then wait up to "
            + ready
            + " for each to be ready";
    if (r.dryRun()) {
      return new ContainerResult(action, true, null);
    }
    DockerClient c = engines.engine(s.engine()).client();
    return guard(
        s,
        s.engine(),
        () -> {
          String imageId = EngineImages.require(c, s.engine(), image);
          List<InspectContainerResponse> all = requireContainers(c, s);
          // By number: after an interrupted attempt a number may have the renamed old container and
          // the new one side by side.
          Map<Integer, List<InspectContainerResponse>> byNumber =
              all.stream()
                  .collect(
                      Collectors.groupingBy(
                          ComposeLabels::number, TreeMap::new, Collectors.toList()));
          List<String> done = new ArrayList<>();
          InspectContainerResponse last = null;
          for (Map.Entry<Integer, List<InspectContainerResponse>> e : byNumber.entrySet()) {
            Optional<InspectContainerResponse> fresh =
                e.getValue().stream().filter(x -> onImage(x, image, imageId)).findFirst();
            InspectContainerResponse now;
            if (fresh.isPresent()) {
              now = fresh.get();
              for (InspectContainerResponse old : e.getValue()) {
                if (old != now) {
                  log.info(
                      "step '{}': removing {} left by an earlier attempt", r.step(), name(old));
                  remove(c, old.getId());
                }
              }
              if (!running(now)) {
                start(c, now.getId());
              }
              done.add("kept " + name(now));
            } else {
              InspectContainerResponse old = e.getValue().get(0);
              String name = name(old);
              log.info("step '{}': recreating {} from {}", r.step(), name, image);
              // As docker-compose does: stop the old container, move it out of the way under a
              // temporary name (its configuration stays there if this attempt dies), create the new
              // one under the old name, start it, and only then remove the old one.
              stop(c, old.getId());
              String tmp = shortId(old.getId()) + "_" + name;
              c.renameContainerCmd(old.getId()).withName(tmp).exec();
              String id = new ContainerTemplate(c, old).create(image, name, e.getKey());
              start(c, id);
              remove(c, old.getId());
              now = c.inspectContainerCmd(id).exec();
              done.add("recreated " + name + " (" + shortId(id) + ")");
            }
            last = readiness.awaitReady(c, now.getId(), r.probeUrl(), ready, r.step());
          }
          return new ContainerResult(
              "on engine " + s.engine().name() + ": " + String.join(", ", done), false, info(last));
        });
  }

  ContainerResult scaleUp(DeployRequest r) {
    ServiceRef s = requireService(r.service());
    String image = ImageRef.parseTagged(r.image()).toString();
    Duration ready = ContainerReadiness.readyWithin(r.ready());
    ContainerReadiness.requireProbe(r.probeUrl());
    if (r.dryRun()) {
      return new ContainerResult(
          "on engine "
              + s.engine().name()
              + ": create "
              + s.project()
              + "_"
              + s.service()
              + "_<highest number + 1> from image "
              + image
              + " next to the running containers of "
              + s.describe()
              + ", with the configuration of the highest-numbered one, start it and wait up to "
              + ready
              + " until it is ready",
          true,
          null);
    }
    DockerClient c = engines.engine(s.engine()).client();
    return guard(
        s,
        s.engine(),
        () -> {
          String imageId = EngineImages.require(c, s.engine(), image);
          List<InspectContainerResponse> all = requireContainers(c, s);
          Optional<InspectContainerResponse> existing =
              all.stream().filter(x -> onImage(x, image, imageId)).reduce((a, b) -> b);
          String action;
          String id;
          if (existing.isPresent()) {
            InspectContainerResponse x = existing.get();
            action =
                "on engine "
                    + s.engine().name()
                    + ": kept "
                    + name(x)
                    + ", already on "
                    + image
                    + (running(x) ? "" : " (started it)");
            id = x.getId();
            if (!running(x)) {
              start(c, id);
            }
          } else {
            InspectContainerResponse template = all.get(all.size() - 1);
            int next = number(template) + 1;
            String name = ComposeLabels.nextName(template, s, next);
            action =
                "on engine "
                    + s.engine().name()
                    + ": create "
                    + name
                    + " from image "
                    + image
                    + " next to "
                    + all.stream().map(Containers::name).collect(Collectors.joining(", "))
                    + ", configured like "
                    + name(template);
            log.info("step '{}': {}", r.step(), action);
            id = new ContainerTemplate(c, template).create(image, name, next);
            start(c, id);
          }
          InspectContainerResponse now = readiness.awaitReady(c, id, r.probeUrl(), ready, r.step());
          return new ContainerResult(action, false, info(now));
        });
  }
}
