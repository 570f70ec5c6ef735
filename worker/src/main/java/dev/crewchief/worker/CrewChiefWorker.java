package dev.crewchief.worker;

import dev.crewchief.adapters.ansible.AnsibleActivitiesImpl;
import dev.crewchief.adapters.aws.AwsClients;
import dev.crewchief.adapters.aws.Ec2ActivitiesImpl;
import dev.crewchief.adapters.aws.IamActivitiesImpl;
import dev.crewchief.adapters.aws.S3ActivitiesImpl;
import dev.crewchief.adapters.ci.HttpCiActivities;
import dev.crewchief.adapters.docker.DockerActivitiesImpl;
import dev.crewchief.adapters.docker.DockerEngines;
import dev.crewchief.adapters.elasticsearch.ElasticsearchActivitiesImpl;
import dev.crewchief.adapters.git.GitActivitiesImpl;
import dev.crewchief.adapters.git.GitCli;
import dev.crewchief.adapters.http.HttpIndexerActivities;
import dev.crewchief.adapters.http.HttpProbeActivitiesImpl;
import dev.crewchief.adapters.mail.SmtpMailActivities;
import dev.crewchief.adapters.nginx.NginxProxyActivitiesImpl;
import dev.crewchief.adapters.notify.ChannelNotifyActivities;
import dev.crewchief.adapters.postgres.PostgresActivitiesImpl;
import dev.crewchief.adapters.postgres.PostgresReplicationActivitiesImpl;
import dev.crewchief.adapters.redmine.RedmineRestActivities;
import dev.crewchief.adapters.secrets.KnownSecrets;
import dev.crewchief.adapters.secrets.ScrubbingInterceptor;
import dev.crewchief.adapters.secrets.SecretReferences;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.HostConfigActivitiesImpl;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.adapters.supervisor.SupervisorActivitiesImpl;
import dev.crewchief.adapters.webhook.HttpWebhookActivities;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.release.ReleaseWorkflow;
import dev.crewchief.runbook.Runbooks;
import io.temporal.client.WorkflowClient;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds the adapters with their clients and registers every workflow and
 * activity on one task queue.
 */
public final class CrewChiefWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CrewChiefWorker.class);

  private final WorkerFactory factory;
  private final DockerEngines engines;
  private final SshHosts ssh;
  private final AwsClients aws;
  private final ElasticsearchActivitiesImpl elasticsearch;

  private CrewChiefWorker(
      WorkerFactory factory,
      DockerEngines engines,
      SshHosts ssh,
      AwsClients aws,
      ElasticsearchActivitiesImpl elasticsearch) {
    this.factory = factory;
    this.engines = engines;
    this.ssh = ssh;
    this.aws = aws;
    this.elasticsearch = elasticsearch;
  }

  public static CrewChiefWorker start(
      WorkflowClient client, LoadedConfig config, Map<String, String> env) {
    return start(client, config, env, WorkerTuning.fromEnvironment(env), worker -> {});
  }

  /**
   * The same, with the given tuning and {@code extra} registrations on the worker before it starts
   * (the benchmarks register their own workflow and activity types this way, so that they measure
   * the worker as it runs in production, not a copy of it).
   */
  public static CrewChiefWorker start(
      WorkflowClient client,
      LoadedConfig config,
      Map<String, String> env,
      WorkerTuning tuning,
      Consumer<Worker> extra) {
    // Every secret this worker resolves is known to the scrubber, which masks it (and URL
    // credentials, webhook paths, Authorization values) in everything an activity returns, throws
    // or heartbeats: outputs go into the history, which everyone with UI access can read. The
    // configured ones are resolved up front, so they are masked even before their first use.
    KnownSecrets known = new KnownSecrets();
    SecretResolver secrets = new SecretResolver(env, known);
    for (String problem : secrets.preload(SecretReferences.in(config.config()))) {
      log.warn("secret {}", problem);
    }
    WorkerFactory factory =
        WorkerFactory.newInstance(
            client,
            WorkerFactoryOptions.newBuilder()
                .setWorkerInterceptors(new ScrubbingInterceptor(known))
                .setWorkflowCacheSize(tuning.workflowCacheSize())
                .setMaxWorkflowThreadCount(tuning.maxWorkflowThreads())
                .build());
    Worker worker =
        factory.newWorker(
            config.config().taskQueueOrDefault(),
            WorkerOptions.newBuilder()
                .setMaxConcurrentActivityExecutionSize(tuning.maxConcurrentActivities())
                .setMaxConcurrentWorkflowTaskExecutionSize(tuning.maxConcurrentWorkflowTasks())
                .setMaxConcurrentWorkflowTaskPollers(tuning.workflowPollers())
                .build());
    worker.registerWorkflowImplementationTypes(
        ReleaseWorkflow.implementationOptions(), Runbooks.all().workflowImplementations());
    SshHosts ssh = new SshHosts(secrets);
    // One Docker client per engine, made on first use and closed with the worker.
    DockerEngines engines = new DockerEngines();
    SmtpMailActivities mail = new SmtpMailActivities(secrets);
    // No redirects: a webhook URL's token must not be sent anywhere else.
    HttpClient http = HttpWebhookActivities.newClient();
    // One SDK client per AWS service, region, endpoint and credentials, closed with the worker.
    AwsClients aws = new AwsClients(secrets);
    // One Elasticsearch client per cluster URL and credentials, closed with the worker.
    ElasticsearchActivitiesImpl elasticsearch = new ElasticsearchActivitiesImpl(secrets);
    worker.registerActivitiesImplementations(
        new RemoteHostActivitiesImpl(ssh),
        new NginxProxyActivitiesImpl(ssh),
        new DockerActivitiesImpl(engines, secrets),
        new PostgresActivitiesImpl(secrets),
        new GitActivitiesImpl(new GitCli()),
        mail,
        new HttpWebhookActivities(secrets, http),
        new ChannelNotifyActivities(mail, http, secrets),
        new TemporalActivitiesImpl(client),
        // ansible-playbook runs on the worker with a private temp dir per run under java.io.tmpdir.
        new AnsibleActivitiesImpl(
            secrets, java.nio.file.Path.of(System.getProperty("java.io.tmpdir")), env),
        new HttpProbeActivitiesImpl(),
        new SupervisorActivitiesImpl(ssh),
        // An image or an instance state change is waited for up to two hours (the activity's own
        // timeout, set by the workflow, usually ends it first).
        new Ec2ActivitiesImpl(aws, Duration.ofHours(2), java.time.Clock.systemUTC()),
        elasticsearch,
        // The no-redirect client: a CI token must not be sent to another host.
        new HttpCiActivities(secrets, http),
        // ENCODE: the PostgreSQL switch-over, IAM keys and S3 (the same AWS clients as EC2),
        // exact edits on hosts.
        new PostgresReplicationActivitiesImpl(secrets, ssh),
        new IamActivitiesImpl(aws, ssh),
        new S3ActivitiesImpl(aws, ssh),
        new HostConfigActivitiesImpl(ssh),
        // The indexer writes its times without a zone: ENCODE's servers run on UTC.
        new HttpIndexerActivities(
            HttpIndexerActivities.newClient(),
            java.time.Clock.systemUTC(),
            java.time.ZoneOffset.UTC),
        // No redirects: the API key must not be sent to another host.
        new RedmineRestActivities(secrets, RedmineRestActivities.newClient()));
    extra.accept(worker);
    factory.start();
    log.info("worker tuning: {}", tuning);
    return new CrewChiefWorker(factory, engines, ssh, aws, elasticsearch);
  }

  /** Stops polling, lets the tasks in hand finish (up to the given time), then closes clients. */
  public void shutdown(Duration grace) {
    factory.shutdown();
    factory.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    engines.close();
    // The SSH connections kept for the next step (SshHosts.lease) are logged out of.
    ssh.close();
    aws.close();
    elasticsearch.close();
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(10));
  }
}
