package dev.crewchief.encode;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.activities.PostgresReplicationActivities;
import dev.crewchief.config.GateConfig;
import dev.crewchief.config.SmtpConfig;
import dev.crewchief.release.ReleaseContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A fully configured ENCODE environment, as EncodePlans resolves one, for workflow tests. */
final class EncodeFixtures {
  static final HostRef OLD =
      new HostRef("v91-production", "10.0.0.5", 22, "ubuntu", "file:/secrets/key", "/etc/kh");
  static final HostRef NEW =
      new HostRef("v92-master", "10.0.0.9", 22, "ubuntu", "file:/secrets/key", "/etc/kh");
  static final HostRef STANFORD =
      new HostRef("stanford-proxy", "171.67.205.70", 22, "ubuntu", "file:/secrets/key", "/etc/kh");
  static final HostRef BACKUP =
      new HostRef("backup-proxy", "52.11.61.187", 22, "ubuntu", "file:/secrets/key", "/etc/kh");

  private EncodeFixtures() {}

  static EncodeSite site(EncodeConfig.Redmine redmine) {
    EncodeConfig cfg =
        new EncodeConfig(
            "v91-production",
            "v92-master",
            new EncodeConfig.Repo("/srv/encoded", "origin", "master"),
            new EncodeConfig.Aws("us-west-2", null, "env:AWS_KEY", "env:AWS_SECRET"),
            new EncodeConfig.Deploy(
                "ami-encoded",
                "production",
                "#cloud-config\nbranch: {branch}\nname: {name}\ncluster: {cluster}\nrole: {role}\n",
                Map.of("project", "encode"),
                new EncodeConfig.Single("c4.4xlarge", "v{XX}-b"),
                new EncodeConfig.Single("c4.4xlarge", "v{XX}-test"),
                new EncodeConfig.Single("c4.4xlarge", "v{XX}-demo"),
                new EncodeConfig.Cluster(
                    3, "m4.xlarge", "v{XX}-data", "c4.8xlarge", "v{XX}-master", "v{XX}-cluster", 2),
                new EncodeConfig.CloudInit(
                    "/var/log/cloud-init-output.log",
                    "Cloud-init v\\. \\S+ finished",
                    "(?i)error",
                    Duration.ofHours(2))),
            new EncodeConfig.Elasticsearch(
                "http://10.0.0.9:9200", null, Duration.ofMinutes(30), Duration.ofSeconds(10)),
            List.of(
                new EncodeConfig.KeyUser(
                    "write-encoded-backups",
                    "/var/lib/postgresql/.aws/credentials",
                    "default",
                    "postgres"),
                new EncodeConfig.KeyUser(
                    "upload-encode-files",
                    "/srv/encoded/.aws/credentials",
                    "encode-files-upload",
                    "encoded")),
            new EncodeConfig.FileIndexer(
                "/etc/apache2/sites-available/encoded.conf",
                "WSGIDaemonProcess encoded-fileindexer",
                "#WSGIDaemonProcess encoded-fileindexer",
                "sudo service apache2 restart",
                true),
            new EncodeConfig.Indexer(
                "http://10.0.0.9/_indexer", Duration.ofMinutes(10), Duration.ofMinutes(5)),
            new EncodeConfig.Mail(
                new SmtpConfig("smtp.test", 587, "starttls", null, null, null),
                "release@encode.test",
                List.of("ENCODE_DEVELOPERS@LIST.NIH.GOV")),
            null,
            new EncodeConfig.Backup(
                "/opt/wal-e/bin/wal-e backup-push /var/lib/postgresql/15/main",
                "encoded-backups",
                "production/basebackups_005",
                "_backup_stop_sentinel.json"),
            List.of(
                new EncodeConfig.Proxy(
                    "stanford-proxy",
                    "/etc/nginx/nginx.conf",
                    "v91.production.encodedcc.org",
                    "v92.production.encodedcc.org",
                    "https://www.encodeproject.org/",
                    null,
                    "sudo nginx -s reload",
                    "sudo nginx -t",
                    "ENCODE v{XX}",
                    "/run/nginx.pid"),
                new EncodeConfig.Proxy(
                    "backup-proxy",
                    "/etc/nginx/nginx.conf",
                    "v91.production.encodedcc.org",
                    "v92.production.encodedcc.org",
                    "https://backup.encodeproject.org/",
                    null,
                    "sudo service nginx reload",
                    "sudo nginx -t",
                    null,
                    "/run/nginx.pid")),
            "cd /srv/encoded && sudo -i -u encoded bin/batchupgrade production.ini --app-name app",
            new EncodeConfig.Logs("/var/log/apache2", "encoded-logs", "production/v{YY}"),
            "00 7 * * * sudo -i -u postgres /opt/wal-e/bin/wal-e backup-push",
            "root",
            redmine,
            Duration.ofDays(14));
    return new EncodeSite(
        OLD,
        NEW,
        List.of(STANFORD, BACKUP),
        new GitRepoRef("encoded", "/srv/encoded", "origin", "master"),
        new Ec2Activities.Aws("us-west-2", null, "env:AWS_KEY", "env:AWS_SECRET"),
        new ElasticsearchActivities.Cluster("encode", "http://10.0.0.9:9200", null),
        server("old", OLD),
        server("new", NEW),
        new MailServerRef("encode", "smtp.test", 587, "starttls", null, null),
        cfg);
  }

  static EncodeSite site() {
    return site(
        new EncodeConfig.Redmine(
            "https://redmine.test", "env:REDMINE_KEY", "encode", "Release Ready", "Closed"));
  }

  static PostgresReplicationActivities.Server server(String name, HostRef host) {
    return new PostgresReplicationActivities.Server(
        name,
        host,
        "jdbc:postgresql://" + host.address() + ":5432/encoded",
        "postgres",
        "env:PGPASSWORD",
        "/var/lib/postgresql/15/main",
        "standby.signal",
        "sudo pg_ctlcluster 15 main restart",
        "host=" + host.address() + " user=replicator");
  }

  static ReleaseContext context(String version, boolean dryRun) {
    GateConfig gate =
        new GateConfig(
            List.of("driver"), Duration.ofDays(3), Duration.ofHours(4), GateConfig.OnTimeout.FAIL);
    GateConfig merges =
        new GateConfig(
            List.of("merge-admin"),
            Duration.ofDays(3),
            Duration.ofHours(4),
            GateConfig.OnTimeout.FAIL);
    return new ReleaseContext(
        EncodeRelease.RUNBOOK,
        "prod",
        version,
        dryRun,
        "tester",
        Map.of("driver", List.of("ben"), "merge-admin", List.of("keenan")),
        Map.of(
            EncodeRelease.MERGES_GATE, merges,
            EncodeRelease.QUIET_GATE, gate,
            EncodeRelease.AFTER_PROMOTION_GATE, gate,
            EncodeRelease.STABLE_GATE, gate),
        List.of());
  }
}
