package dev.crewchief.metaspace;

import dev.crewchief.activities.CiActivities;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * METASPACE's settings under {@code environments.ENV.metaspace} (see
 * deploy/examples/metaspace.yaml). Host names refer to {@code environments.ENV.hosts}; every
 * credential is a secret reference ({@code env:VAR}, {@code file:/path}).
 *
 * @param host the production VM (the SSH host of the runbook's {@code ssh ubuntu@...})
 * @param repo the app's repository: a clone on the worker, its branches and tags
 * @param watched the runbook's "main places to check for changes", as paths in the repository (a
 *     directory ends with '/')
 * @param minorMarkers a pull request whose title contains one of these makes the release a minor
 *     version (default: [Milestone], [Breaking], BREAKING CHANGE)
 * @param ci where the master branch's builds are read
 * @param ansible the web deployment: the Ansible config repository's checkout on the worker
 * @param elasticsearch the cluster, the alias the app searches through, how to reindex
 * @param commands the app's own commands on the host (placeholders {dir} {tag} {index} {since})
 * @param admin the app's admin API (dataset processing, read-only mode)
 * @param slack the channel told at the start and end of a deployment
 * @param supervisor the post-deployment check of the app's programs
 * @param services the system services checked after a deployment
 * @param probe the site watched while it is deployed: the read-only/downtime measure
 * @param aws the VM's EC2 instance and Elastic IP (fork the VM)
 * @param fork how the VM is forked
 * @param longJobLimit how long a reindex or an index update may run (default P7D)
 */
public record MetaspaceConfig(
    String host,
    Repo repo,
    Watched watched,
    List<String> minorMarkers,
    Ci ci,
    Ansible ansible,
    Elasticsearch elasticsearch,
    Commands commands,
    Admin admin,
    Slack slack,
    Supervisor supervisor,
    Services services,
    Probe probe,
    Aws aws,
    Fork fork,
    Duration longJobLimit) {

  /**
   * @param path the clone on the worker
   * @param remote its remote (default origin)
   * @param url the URL the host clones the new code from (reindex before deployment)
   */
  public record Repo(
      String path,
      String remote,
      String url,
      String releaseBranch,
      String mainBranch,
      String tagPattern) {}

  public record Watched(
      List<String> esFields,
      List<String> esMappings,
      List<String> graphqlMigrations,
      List<String> engineMigrations,
      List<String> config,
      List<String> ansible) {}

  /**
   * @param token secret reference to the API token
   * @param required CircleCI workflows or jobs (GitHub status contexts) that must pass
   */
  public record Ci(
      CiActivities.Provider provider,
      String apiUrl,
      String project,
      List<String> required,
      String token,
      Duration waitLimit,
      Duration pollEvery) {}

  /**
   * @param checkout the Ansible config repository's clone on the worker (the runbook's
   *     ansible/aws/env)
   * @param inventoryHost the VM's host name in the inventory
   * @param extraVars passed to every run besides {@code version}
   */
  public record Ansible(
      String program,
      String checkout,
      String remote,
      String branch,
      String playbook,
      String inventory,
      String inventoryHost,
      Map<String, String> extraVars) {}

  /**
   * @param auth secret reference to the Authorization header value, or null
   * @param definitionFile the index definition (settings + mappings JSON) in the app repository,
   *     read at the release tag
   * @param reindex "elasticsearch" (a reindex task from the active index, default) or "command"
   *     (the app's commands.reindex on the host)
   * @param createdField the documents' creation time field, for the partial update of datasets
   *     created while the reindex ran (reindex "elasticsearch")
   * @param dropOldIndexAfter null: the old index is dropped after the drop-old-index gate; else
   *     after this delay
   */
  public record Elasticsearch(
      String url,
      String auth,
      String alias,
      String indexPrefix,
      String definitionFile,
      String reindex,
      Float requestsPerSecond,
      String createdField,
      Duration dropOldIndexAfter) {}

  /**
   * @param tempDir where the new code is checked out on the host (default
   *     /tmp/metaspace-release-{tag})
   * @param checkout how (default: git clone --depth 1 --branch {tag} REPO_URL {dir})
   * @param progressRegex progress in the commands' output, named groups done and total
   */
  public record Commands(
      String tempDir,
      String checkout,
      String reindex,
      String partialUpdate,
      String fullUpdate,
      String migrate,
      String progressRegex) {}

  /**
   * @param url the admin health endpoint
   * @param authorization secret reference to the whole Authorization header value ({@code Bearer
   *     ...})
   */
  public record Admin(String url, String authorization) {}

  /**
   * @param webhook secret reference to the incoming webhook's URL
   */
  public record Slack(String channel, String webhook) {}

  public record Supervisor(String supervisorctl, List<String> programs, Duration settle) {}

  /**
   * @param check the command that fails when {service} is down (default systemctl is-active)
   */
  public record Services(String check, List<String> names) {}

  /**
   * @param url the site's page watched (as users reach it)
   * @param messageText the read-only / maintenance banner's text
   * @param maxSilent the longest acceptable downtime without a visible message (default PT1M)
   */
  public record Probe(
      String url,
      String messageText,
      Duration interval,
      Duration maxSilent,
      Duration maxDuration) {}

  /**
   * @param accessKey/secretKey secret references; both unset: the worker's default credentials
   */
  public record Aws(
      String region,
      String endpoint,
      String accessKey,
      String secretKey,
      String instanceId,
      String elasticIp) {}

  /**
   * @param newHost a configured host to reach the new instance by (tests, or a VM behind a
   *     bastion); unset: the new instance's private IP with the old host's user and key
   * @param terminateOldAfter null: the old VM is terminated after the terminate-old-vm gate; else
   *     after this delay
   */
  public record Fork(String newHost, Duration terminateOldAfter) {}
}
