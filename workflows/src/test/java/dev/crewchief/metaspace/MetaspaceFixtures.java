package dev.crewchief.metaspace;

import dev.crewchief.activities.CiActivities;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.config.GateConfig;
import dev.crewchief.release.ReleaseContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A fully configured METASPACE environment, as MetaspacePlans resolves one, for workflow tests. */
final class MetaspaceFixtures {
  static final HostRef HOST =
      new HostRef("metaspace", "10.0.0.5", 22, "ubuntu", "file:/secrets/key", "/etc/known_hosts");
  static final HostRef NEW_HOST =
      new HostRef("metaspace-new", "10.0.0.9", 22, "ubuntu", "file:/secrets/key", "/etc/kh");

  private MetaspaceFixtures() {}

  static MetaspaceConfig.Watched watched() {
    return new MetaspaceConfig.Watched(
        List.of("metaspace/engine/sm/engine/es_export.py"),
        List.of("metaspace/engine/sm/engine/es_core.py"),
        List.of("metaspace/graphql/src/migrations/"),
        List.of("metaspace/engine/migrations/"),
        List.of("metaspace/engine/conf/"),
        List.of("ansible/"));
  }

  static MetaspaceSite site(Duration dropAfter, Duration terminateAfter, String reindex) {
    MetaspaceConfig cfg =
        new MetaspaceConfig(
            "metaspace",
            new MetaspaceConfig.Repo(
                "/srv/metaspace",
                "origin",
                "/srv/origin.git",
                "release",
                "master",
                "\\d+\\.\\d+\\.\\d+"),
            watched(),
            List.of("[Milestone]", "[Breaking]"),
            new MetaspaceConfig.Ci(
                CiActivities.Provider.CIRCLECI,
                "https://circleci.example/api/v2",
                "gh/metaspace2020/metaspace",
                List.of("webapp", "graphql"),
                "env:CIRCLE_TOKEN",
                Duration.ofHours(2),
                Duration.ofMinutes(1)),
            new MetaspaceConfig.Ansible(
                "ansible-playbook",
                "/srv/ansible",
                "origin",
                "master",
                "deploy.yml",
                "env/prod/hosts",
                "metaspace-web",
                Map.of("app_dir", "/opt/dev/metaspace")),
            new MetaspaceConfig.Elasticsearch(
                "http://es:9200",
                null,
                "sm",
                "sm-",
                "metaspace/engine/sm/engine/es_index.json",
                reindex,
                500f,
                "created",
                dropAfter),
            new MetaspaceConfig.Commands(
                "/tmp/metaspace-release-{tag}",
                "git clone -q --depth 1 --branch {tag} /srv/origin.git {dir}",
                "cd {dir} && python3 update_es_index.py --index {index}",
                "cd {dir} && python3 update_es_index.py --index {index} --since {since}",
                "cd /opt/dev/metaspace && python3 update_es_index.py",
                null,
                "(?<done>\\d+)/(?<total>\\d+)"),
            new MetaspaceConfig.Admin("https://metaspace.test/admin/health", "env:ADMIN_AUTH"),
            new MetaspaceConfig.Slack("#metaspace_dev", "env:SLACK_WEBHOOK"),
            new MetaspaceConfig.Supervisor(
                "supervisorctl", List.of("sm-api", "sm-graphql"), Duration.ofSeconds(30)),
            new MetaspaceConfig.Services("systemctl is-active --quiet {service}", List.of("nginx")),
            new MetaspaceConfig.Probe(
                "https://metaspace.test/",
                "read-only mode",
                Duration.ofSeconds(1),
                Duration.ofMinutes(1),
                Duration.ofDays(3)),
            new MetaspaceConfig.Aws("eu-west-1", null, null, null, "i-old", "52.0.0.10"),
            new MetaspaceConfig.Fork("metaspace-new", terminateAfter),
            Duration.ofDays(7));
    return new MetaspaceSite(
        HOST,
        NEW_HOST,
        new GitRepoRef("metaspace", "/srv/metaspace", "origin", "release"),
        new GitRepoRef("ansible config", "/srv/ansible", "origin", "master"),
        new ElasticsearchActivities.Cluster("metaspace", "http://es:9200", null),
        new Ec2Activities.Aws("eu-west-1", null, null, null),
        cfg);
  }

  static ReleaseContext context(String version) {
    return context(version, false);
  }

  static ReleaseContext context(String version, boolean dryRun) {
    GateConfig gate =
        new GateConfig(
            List.of("driver"), Duration.ofDays(2), Duration.ofHours(4), GateConfig.OnTimeout.FAIL);
    GateConfig confirm =
        new GateConfig(
            List.of("driver"),
            Duration.ofHours(6),
            Duration.ofMinutes(30),
            GateConfig.OnTimeout.ROLLBACK);
    return new ReleaseContext(
        MetaspaceRelease.RUNBOOK,
        "prod",
        version,
        dryRun,
        "tester",
        Map.of("driver", List.of("lachlan")),
        Map.of(
            MetaspaceRelease.STRATEGY_GATE, gate,
            MetaspaceRelease.DROP_INDEX_GATE, gate,
            MetaspaceRelease.CONFIRM_GATE, confirm,
            MetaspaceRelease.TERMINATE_GATE, gate),
        List.of());
  }
}
