package dev.crewchief.worker;

import dev.crewchief.adapters.docker.DockerActivitiesImpl;
import dev.crewchief.adapters.docker.DockerEngines;
import dev.crewchief.adapters.git.GitActivitiesImpl;
import dev.crewchief.adapters.git.GitCli;
import dev.crewchief.adapters.mail.SmtpMailActivities;
import dev.crewchief.adapters.nginx.NginxProxyActivitiesImpl;
import dev.crewchief.adapters.notify.LogNotifyActivities;
import dev.crewchief.adapters.postgres.PostgresActivitiesImpl;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.adapters.webhook.HttpWebhookActivities;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.runbook.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The composition root: builds the adapters with their clients and registers every workflow and
 * activity on one task queue.
 */
public final class CrewChiefWorker implements AutoCloseable {
  private final WorkerFactory factory;
  private final DockerEngines engines;

  private CrewChiefWorker(WorkerFactory factory, DockerEngines engines) {
    this.factory = factory;
    this.engines = engines;
  }

  public static CrewChiefWorker start(
      WorkflowClient client, LoadedConfig config, Map<String, String> env) {
    WorkerFactory factory = WorkerFactory.newInstance(client);
    // Two cores: a handful of concurrent activities is plenty for release steps.
    Worker worker =
        factory.newWorker(
            config.config().taskQueueOrDefault(),
            WorkerOptions.newBuilder().setMaxConcurrentActivityExecutionSize(20).build());
    worker.registerWorkflowImplementationTypes(
        ReleaseWorkflow.implementationOptions(), Runbooks.all().workflowImplementations());
    SecretResolver secrets = new SecretResolver(env);
    SshHosts ssh = new SshHosts(secrets);
    // One Docker client per engine, made on first use and closed with the worker.
    DockerEngines engines = new DockerEngines();
    worker.registerActivitiesImplementations(
        new RemoteHostActivitiesImpl(ssh),
        new NginxProxyActivitiesImpl(ssh),
        new DockerActivitiesImpl(engines, secrets),
        new PostgresActivitiesImpl(secrets),
        new GitActivitiesImpl(new GitCli()),
        new SmtpMailActivities(secrets),
        new HttpWebhookActivities(secrets, HttpWebhookActivities.newClient()),
        new LogNotifyActivities(),
        new TemporalActivitiesImpl(client));
    factory.start();
    return new CrewChiefWorker(factory, engines);
  }

  /** Stops polling, lets the tasks in hand finish (up to the given time), then closes clients. */
  public void shutdown(Duration grace) {
    factory.shutdown();
    factory.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    engines.close();
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(10));
  }
}
