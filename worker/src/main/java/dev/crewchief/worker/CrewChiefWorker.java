package dev.crewchief.worker;

import dev.crewchief.adapters.nginx.NginxProxyActivitiesImpl;
import dev.crewchief.adapters.notify.LogNotifyActivities;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.randopony.PromoteToProductionImpl;
import dev.crewchief.randopony.StagingDeployImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.util.Map;

/**
 * The composition root: builds the adapters with their clients and registers every workflow and
 * activity on one task queue.
 */
public final class CrewChiefWorker {
  private CrewChiefWorker() {}

  public static WorkerFactory start(
      WorkflowClient client, LoadedConfig config, Map<String, String> env) {
    WorkerFactory factory = WorkerFactory.newInstance(client);
    // Two cores: a handful of concurrent activities is plenty for release steps.
    Worker worker =
        factory.newWorker(
            config.config().taskQueueOrDefault(),
            WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(20).build());
    worker.registerWorkflowImplementationTypes(
        StagingDeployImpl.class, PromoteToProductionImpl.class);
    SshHosts ssh = new SshHosts(new SecretResolver(env));
    worker.registerActivitiesImplementations(
        new RemoteHostActivitiesImpl(ssh),
        new NginxProxyActivitiesImpl(ssh),
        new LogNotifyActivities());
    factory.start();
    return factory;
  }
}
