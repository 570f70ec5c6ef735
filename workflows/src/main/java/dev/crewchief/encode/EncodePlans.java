package dev.crewchief.encode;

import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.MailServerRef;
import dev.crewchief.activities.PostgresReplicationActivities;
import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.VersionFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An environment's ENCODE settings checked and resolved into the site a release acts on, with the
 * runbook's defaults (five data nodes, two replicas, the cloud-init log, a lag of ten minutes). A
 * mistake is a ConfigException naming the key.
 */
final class EncodePlans {
  static final ConfigSection<EncodeConfig> SECTION =
      new ConfigSection<>("encode", EncodeConfig.class, EncodePlans::site);
  static final String EXAMPLE = "deploy/examples/encode.yaml";
  static final VersionFormat VERSION =
      new VersionFormat("[1-9]\\d*", "92", "an ENCODE release number XX (the tag is vXX.0)");

  static final List<String> TYPES = List.of("clustered", "candidate", "test", "demo");

  private EncodePlans() {}

  static EncodeSite site(LoadedConfig config, String env) {
    ConfigChecks c = new ConfigChecks(config);
    String b = "environments." + env + ".encode";
    EncodeConfig e = config.environment(env).section(SECTION.key(), EncodeConfig.class);
    c.require(b + ".oldServer", e.oldServer());
    c.require(b + ".newServer", e.newServer());
    HostRef oldServer = c.host(env, e.oldServer());
    HostRef newServer = c.host(env, e.newServer());

    EncodeConfig.Repo r = e.repo();
    c.require(b + ".repo", r, "path (the app's clone on the worker), remote, mainBranch");
    c.absolute(b + ".repo.path", r.path());
    EncodeConfig.Repo repo =
        new EncodeConfig.Repo(r.path(), or(r.remote(), "origin"), or(r.mainBranch(), "master"));
    GitRepoRef repoRef = new GitRepoRef("encoded", repo.path(), repo.remote(), repo.mainBranch());

    EncodeConfig.Aws a = e.aws();
    c.require(b + ".aws", a, "region, endpoint (optional), accessKey, secretKey");
    c.require(b + ".aws.region", a.region());
    c.reference(b + ".aws.accessKey", a.accessKey(), a.secretKey() != null);
    c.reference(b + ".aws.secretKey", a.secretKey(), a.accessKey() != null);
    Ec2Activities.Aws aws =
        new Ec2Activities.Aws(a.region(), a.endpoint(), a.accessKey(), a.secretKey());

    EncodeConfig.Deploy d = e.deploy();
    c.require(b + ".deploy", d, "imageId, profile, userData, candidate, cluster");
    c.require(b + ".deploy.imageId", d.imageId());
    c.require(b + ".deploy.userData", d.userData());
    EncodeConfig.Cluster cl = d.cluster();
    EncodeConfig.Cluster cluster =
        cl == null
            ? null
            : new EncodeConfig.Cluster(
                cl.size() <= 0 ? 5 : cl.size(),
                or(cl.dataInstanceType(), "m4.xlarge"),
                or(cl.dataName(), "v{XX}-data"),
                or(cl.masterInstanceType(), "c4.8xlarge"),
                or(cl.masterName(), "v{XX}-master"),
                or(cl.clusterName(), "v{XX}-cluster"),
                cl.replicas() <= 0 ? 2 : cl.replicas());
    EncodeConfig.CloudInit ci = d.cloudInit();
    EncodeConfig.CloudInit cloudInit =
        new EncodeConfig.CloudInit(
            ci == null || ci.log() == null ? "/var/log/cloud-init-output.log" : ci.log(),
            ci == null || ci.doneRegex() == null ? "Cloud-init v\\. \\S+ finished" : ci.doneRegex(),
            ci == null || ci.errorRegex() == null
                ? "(?i)(^|\\s)(error|traceback)"
                : ci.errorRegex(),
            positive(
                c,
                b + ".deploy.cloudInit.limit",
                ci == null ? null : ci.limit(),
                Duration.ofHours(2)));
    EncodeConfig.Deploy deploy =
        new EncodeConfig.Deploy(
            d.imageId(),
            d.profile(),
            d.userData(),
            d.tags() == null ? Map.of() : d.tags(),
            single(d.candidate(), "c4.4xlarge", "v{XX}-b"),
            single(d.test(), "c4.4xlarge", "v{XX}-test"),
            single(d.demo(), "c4.4xlarge", "v{XX}-test"),
            cluster,
            cloudInit);

    EncodeConfig.Elasticsearch es = e.elasticsearch();
    c.require(b + ".elasticsearch.url", es == null ? null : es.url());
    c.reference(b + ".elasticsearch.auth", es.auth(), false);
    EncodeConfig.Elasticsearch elastic =
        new EncodeConfig.Elasticsearch(
            es.url(),
            es.auth(),
            positive(c, b + ".elasticsearch.healthLimit", es.healthLimit(), Duration.ofMinutes(30)),
            positive(c, b + ".elasticsearch.pollEvery", es.pollEvery(), Duration.ofSeconds(10)));
    ElasticsearchActivities.Cluster esCluster =
        new ElasticsearchActivities.Cluster("encode", es.url(), es.auth());

    List<EncodeConfig.KeyUser> keys = e.keys() == null ? List.of() : e.keys();
    for (int i = 0; i < keys.size(); i++) {
      EncodeConfig.KeyUser k = keys.get(i);
      c.require(b + ".keys[" + i + "].user", k.user());
      c.absolute(b + ".keys[" + i + "].path", k.path());
      c.require(b + ".keys[" + i + "].section", k.section());
      c.require(b + ".keys[" + i + "].owner", k.owner());
    }

    EncodeConfig.FileIndexer fi = e.fileIndexer();
    c.require(b + ".fileIndexer", fi, "configPath, on, off, restart");
    c.absolute(b + ".fileIndexer.configPath", fi.configPath());
    c.require(b + ".fileIndexer.on", fi.on());
    c.require(b + ".fileIndexer.off", fi.off());
    c.require(b + ".fileIndexer.restart", fi.restart());

    EncodeConfig.Indexer ix = e.indexer();
    c.require(b + ".indexer.url", ix == null ? null : ix.url());
    EncodeConfig.Indexer indexer =
        new EncodeConfig.Indexer(
            ix.url(),
            positive(c, b + ".indexer.maxLag", ix.maxLag(), Duration.ofMinutes(10)),
            positive(c, b + ".indexer.pollEvery", ix.pollEvery(), Duration.ofMinutes(5)));

    EncodeConfig.Mail m = e.mail();
    c.require(b + ".mail", m, "smtp, from, to");
    MailServerRef mail = c.smtp(b + ".mail.smtp", "encode", m.smtp());
    c.require(b + ".mail.from", m.from());
    if (m.to() == null || m.to().isEmpty()) {
      throw c.error(
          b + ".mail.to", "the developers' list to tell, e.g. [ENCODE_DEVELOPERS@LIST.NIH.GOV]");
    }

    EncodeConfig.Postgres pg = e.postgres();
    c.require(
        b + ".postgres",
        pg,
        "old and fresh (the new server), each jdbcUrl, user, dataDir, restartCommand");
    PostgresReplicationActivities.Server oldPg =
        server(c, b + ".postgres.old", "old", oldServer, pg.old());
    PostgresReplicationActivities.Server newPg =
        server(c, b + ".postgres.fresh", "new", newServer, pg.fresh());

    EncodeConfig.Backup bk = e.backup();
    c.require(b + ".backup", bk, "command, bucket, prefix");
    c.require(b + ".backup.command", bk.command());
    c.require(b + ".backup.bucket", bk.bucket());
    c.require(b + ".backup.prefix", bk.prefix());

    List<EncodeConfig.Proxy> proxies = e.proxies() == null ? List.of() : e.proxies();
    if (proxies.isEmpty()) {
      throw c.error(b + ".proxies", "the proxies to switch (host, configPath, from, to, probeUrl)");
    }
    List<HostRef> proxyHosts = new ArrayList<>();
    List<EncodeConfig.Proxy> filledProxies = new ArrayList<>();
    for (int i = 0; i < proxies.size(); i++) {
      EncodeConfig.Proxy p = proxies.get(i);
      String k = b + ".proxies[" + i + "]";
      c.require(k + ".host", p.host());
      proxyHosts.add(c.host(env, p.host()));
      c.absolute(k + ".configPath", p.configPath());
      c.require(k + ".from", p.from());
      c.require(k + ".to", p.to());
      c.require(k + ".probeUrl", p.probeUrl());
      String reload = or(p.reload(), "sudo nginx -s reload");
      if (reload.matches("(?i).*\\b(restart|stop|quit)\\b.*")) {
        throw c.error(
            k + ".reload",
            "'"
                + reload
                + "' restarts or stops nginx: the switch must be a reload (sudo nginx -s reload)");
      }
      filledProxies.add(
          new EncodeConfig.Proxy(
              p.host(),
              p.configPath(),
              p.from(),
              p.to(),
              p.probeUrl(),
              p.probeHost(),
              reload,
              or(p.test(), "sudo nginx -t"),
              p.probeText(),
              or(p.pidFile(), "/run/nginx.pid")));
    }

    c.require(b + ".batchUpgrade", e.batchUpgrade());
    EncodeConfig.Logs lg = e.logs();
    c.require(b + ".logs", lg, "dir, bucket, prefix");
    EncodeConfig.Logs logs =
        new EncodeConfig.Logs(
            or(lg.dir(), "/var/log/apache2"), lg.bucket(), or(lg.prefix(), "production/v{YY}"));
    c.require(b + ".logs.bucket", logs.bucket());
    c.require(b + ".backupCron", e.backupCron());

    EncodeConfig.Redmine rm = e.redmine();
    EncodeConfig.Redmine redmine = null;
    if (rm != null) {
      c.require(b + ".redmine.url", rm.url());
      c.reference(b + ".redmine.apiKey", rm.apiKey(), true);
      c.require(b + ".redmine.project", rm.project());
      redmine =
          new EncodeConfig.Redmine(
              rm.url(),
              rm.apiKey(),
              rm.project(),
              or(rm.fromStatus(), "Release Ready"),
              or(rm.toStatus(), "Closed"));
    }

    EncodeConfig filled =
        new EncodeConfig(
            e.oldServer(),
            e.newServer(),
            repo,
            a,
            deploy,
            elastic,
            keys,
            fi,
            indexer,
            m,
            pg,
            bk,
            filledProxies,
            e.batchUpgrade(),
            logs,
            e.backupCron(),
            or(e.cronUser(), "root"),
            redmine,
            positive(c, b + ".longWaitLimit", e.longWaitLimit(), Duration.ofDays(14)));
    return new EncodeSite(
        oldServer, newServer, proxyHosts, repoRef, aws, esCluster, oldPg, newPg, mail, filled);
  }

  private static PostgresReplicationActivities.Server server(
      ConfigChecks c, String key, String name, HostRef host, EncodeConfig.Server s) {
    c.require(key, s, "jdbcUrl, user, password, dataDir, restartCommand");
    c.require(key + ".jdbcUrl", s.jdbcUrl());
    if (!s.jdbcUrl().startsWith("jdbc:postgresql://")) {
      throw c.error(
          key + ".jdbcUrl", "expected jdbc:postgresql://HOST:PORT/DB, found '" + s.jdbcUrl() + "'");
    }
    c.require(key + ".user", s.user());
    c.reference(key + ".password", s.password(), false);
    c.absolute(key + ".dataDir", s.dataDir());
    c.require(key + ".restartCommand", s.restartCommand());
    String mode = or(s.recoveryMode(), "standby.signal");
    if (!List.of("standby.signal", "recovery.conf").contains(mode)) {
      throw c.error(
          key + ".recoveryMode",
          "standby.signal (PostgreSQL 12+) or recovery.conf (9.x), not " + mode);
    }
    return new PostgresReplicationActivities.Server(
        name,
        host,
        s.jdbcUrl(),
        s.user(),
        s.password(),
        s.dataDir(),
        mode,
        s.restartCommand(),
        s.primaryConninfo());
  }

  private static EncodeConfig.Single single(EncodeConfig.Single s, String type, String name) {
    return s == null
        ? new EncodeConfig.Single(type, name)
        : new EncodeConfig.Single(or(s.instanceType(), type), or(s.name(), name));
  }

  static String or(String v, String d) {
    return v == null || v.isBlank() ? d : v;
  }

  private static Duration positive(ConfigChecks c, String key, Duration v, Duration d) {
    if (v == null) {
      return d;
    }
    if (v.isZero() || v.isNegative()) {
      throw c.error(key, "must be a positive duration such as PT30S, PT2H or P2D");
    }
    return v;
  }
}
