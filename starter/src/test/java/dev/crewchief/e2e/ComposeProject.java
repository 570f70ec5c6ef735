package dev.crewchief.e2e;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.crewchief.adapters.DockerEngine;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * A docker-compose project made by hand on the test engine, as docker-compose v1 makes one:
 * containers named {@code project_service_1} with compose's labels, here on the host network with
 * an init. Closing it removes every container of the project.
 */
final class ComposeProject implements AutoCloseable {
  final DockerClient docker;
  final String project;

  ComposeProject(DockerEngine engine, String project) {
    DefaultDockerClientConfig dc =
        DefaultDockerClientConfig.createDefaultConfigBuilder()
            .withDockerHost(engine.host())
            .withDockerTlsVerify(false)
            .build();
    this.docker =
        DockerClientImpl.getInstance(
            dc, new ApacheDockerHttpClient.Builder().dockerHost(dc.getDockerHost()).build());
    this.project = project;
  }

  /** Container 1 of the service, to be completed (command, healthcheck) and created. */
  CreateContainerCmd container(String service, String image, String... env) {
    return docker
        .createContainerCmd(image)
        .withName(project + "_" + service + "_1")
        .withLabels(
            Map.of(
                "com.docker.compose.project",
                project,
                "com.docker.compose.service",
                service,
                "com.docker.compose.container-number",
                "1",
                "com.docker.compose.oneoff",
                "False"))
        .withEnv(env)
        .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host").withInit(true));
  }

  /** Every container of the service, running or not. */
  List<Container> containers(String service) {
    return docker
        .listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(
            Map.of("com.docker.compose.project", project, "com.docker.compose.service", service))
        .exec();
  }

  @Override
  public void close() throws IOException {
    for (Container c :
        docker
            .listContainersCmd()
            .withShowAll(true)
            .withLabelFilter(Map.of("com.docker.compose.project", project))
            .exec()) {
      docker.removeContainerCmd(c.getId()).withForce(true).exec();
    }
    docker.close();
  }
}
