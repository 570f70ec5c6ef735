package dev.crewchief.metaspace;

import dev.crewchief.activities.CiActivities;
import dev.crewchief.activities.Ec2Activities;
import dev.crewchief.activities.ElasticsearchActivities;
import dev.crewchief.activities.GitRepoRef;
import dev.crewchief.activities.HostRef;
import dev.crewchief.config.ConfigChecks;
import dev.crewchief.config.LoadedConfig;
import dev.crewchief.runbook.ConfigSection;
import dev.crewchief.runbook.VersionFormat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An environment's METASPACE settings checked and resolved into the site a release acts on, with
 * the runbook's defaults (branches release and master, supervisor's four programs, a minute of
 * downtime without a message at most). A mistake is a ConfigException naming the key.
 */
final class MetaspacePlans {
  static final ConfigSection<MetaspaceConfig> SECTION =
      new ConfigSection<>("metaspace", MetaspaceConfig.class, MetaspacePlans::site);
  static final String EXAMPLE = "deploy/examples/metaspace.yaml";
  static final VersionFormat VERSION =
      new VersionFormat("\\d+\\.\\d+\\.\\d+", "1.7.6", "a METASPACE version (MAJOR.MINOR.PATCH)");

  private static final Pattern INDEX_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]*");

  private MetaspacePlans() {}

  static MetaspaceSite site(LoadedConfig config, String env) {
    ConfigChecks c = new ConfigChecks(config);
    String b = "environments." + env + ".metaspace";
    MetaspaceConfig m = config.environment(env).section(SECTION.key(), MetaspaceConfig.class);
    c.require(b + ".host", m.host());
    HostRef host = c.host(env, m.host());

    MetaspaceConfig.Repo r = m.repo();
    c.require(b + ".repo", r, "path (the app's clone on the worker), remote, url");
    c.absolute(b + ".repo.path", r.path());
    String tagPattern = or(r.tagPattern(), "\\d+\\.\\d+\\.\\d+");
    try {
      Pattern.compile(tagPattern);
    } catch (PatternSyntaxException e) {
      throw c.error(b + ".repo.tagPattern", "not a regular expression: " + e.getDescription());
    }
    MetaspaceConfig.Repo repo =
        new MetaspaceConfig.Repo(
            r.path(),
            or(r.remote(), "origin"),
            r.url(),
            or(r.releaseBranch(), "release"),
            or(r.mainBranch(), "master"),
            tagPattern);
    GitRepoRef repoRef =
        new GitRepoRef("metaspace", repo.path(), repo.remote(), repo.releaseBranch());

    MetaspaceConfig.Watched w = m.watched();
    MetaspaceConfig.Watched watched =
        new MetaspaceConfig.Watched(
            list(w == null ? null : w.esFields(), "metaspace/engine/sm/engine/es_export.py"),
            list(w == null ? null : w.esMappings(), "metaspace/engine/sm/engine/es_core.py"),
            list(w == null ? null : w.graphqlMigrations(), "metaspace/graphql/src/migrations/"),
            list(w == null ? null : w.engineMigrations(), "metaspace/engine/migrations/"),
            list(w == null ? null : w.config(), "metaspace/engine/conf/"),
            list(w == null ? null : w.ansible(), "ansible/"));

    MetaspaceConfig.Ci ci = m.ci();
    c.require(b + ".ci", ci, "provider (CIRCLECI or GITHUB), apiUrl, project, token");
    c.require(b + ".ci.provider", ci.provider(), "CIRCLECI or GITHUB");
    c.require(b + ".ci.apiUrl", ci.apiUrl());
    c.require(b + ".ci.project", ci.project());
    c.reference(b + ".ci.token", ci.token(), false);
    MetaspaceConfig.Ci ciFilled =
        new MetaspaceConfig.Ci(
            ci.provider(),
            ci.apiUrl(),
            ci.project(),
            ci.required() == null
                ? (ci.provider() == CiActivities.Provider.CIRCLECI
                    ? List.of("webapp", "graphql")
                    : List.of())
                : ci.required(),
            ci.token(),
            positive(c, b + ".ci.waitLimit", ci.waitLimit(), Duration.ofHours(2)),
            positive(c, b + ".ci.pollEvery", ci.pollEvery(), Duration.ofMinutes(1)));

    MetaspaceConfig.Ansible a = m.ansible();
    c.require(b + ".ansible", a, "checkout, playbook, inventory, inventoryHost");
    c.absolute(b + ".ansible.checkout", a.checkout());
    c.require(b + ".ansible.playbook", a.playbook());
    c.require(b + ".ansible.inventory", a.inventory());
    c.require(b + ".ansible.inventoryHost", a.inventoryHost());
    MetaspaceConfig.Ansible ansible =
        new MetaspaceConfig.Ansible(
            or(a.program(), "ansible-playbook"),
            a.checkout(),
            or(a.remote(), "origin"),
            or(a.branch(), "master"),
            a.playbook(),
            a.inventory(),
            a.inventoryHost(),
            a.extraVars() == null ? Map.of() : a.extraVars());
    GitRepoRef ansibleRef =
        new GitRepoRef("ansible config", ansible.checkout(), ansible.remote(), ansible.branch());

    MetaspaceConfig.Elasticsearch e = m.elasticsearch();
    ElasticsearchActivities.Cluster cluster = null;
    MetaspaceConfig.Elasticsearch es = null;
    if (e != null) {
      c.require(b + ".elasticsearch.url", e.url());
      if (!e.url().startsWith("http://") && !e.url().startsWith("https://")) {
        throw c.error(b + ".elasticsearch.url", "expected http://HOST:PORT or https://...");
      }
      c.reference(b + ".elasticsearch.auth", e.auth(), false);
      String prefix = or(e.indexPrefix(), "sm-");
      if (!INDEX_NAME.matcher(prefix).matches()) {
        throw c.error(
            b + ".elasticsearch.indexPrefix",
            "an index name starts with a lower-case letter or digit and holds only a-z 0-9 _ . -");
      }
      String reindex = or(e.reindex(), "elasticsearch");
      if (!List.of("elasticsearch", "command").contains(reindex)) {
        throw c.error(b + ".elasticsearch.reindex", "elasticsearch or command, not " + reindex);
      }
      es =
          new MetaspaceConfig.Elasticsearch(
              e.url(),
              e.auth(),
              or(e.alias(), "sm"),
              prefix,
              or(e.definitionFile(), "metaspace/engine/sm/engine/es_index.json"),
              reindex,
              e.requestsPerSecond(),
              or(e.createdField(), "created"),
              e.dropOldIndexAfter());
      cluster = new ElasticsearchActivities.Cluster("metaspace", es.url(), es.auth());
    }

    MetaspaceConfig.Commands cm = m.commands();
    if (cm != null && cm.tempDir() != null) {
      String t = cm.tempDir();
      // The release removes this directory (rm -rf) before its checkout and after the release.
      if (!t.startsWith("/") || !t.contains("{tag}") || t.startsWith("/{tag}")) {
        throw c.error(
            b + ".commands.tempDir",
            "expected an absolute path naming the release, with {tag} below a directory (such as"
                + " /tmp/metaspace-release-{tag}): the release removes it before checking out and"
                + " when it is done");
      }
    }
    MetaspaceConfig.Commands commands =
        new MetaspaceConfig.Commands(
            cm == null || cm.tempDir() == null ? "/tmp/metaspace-release-{tag}" : cm.tempDir(),
            cm == null || cm.checkout() == null
                ? (repo.url() == null
                    ? null
                    : "git clone -q --depth 1 --branch {tag} "
                        + dev.crewchief.release.Shell.q(repo.url())
                        + " {dir}")
                : cm.checkout(),
            cm == null ? null : cm.reindex(),
            cm == null ? null : cm.partialUpdate(),
            cm == null ? null : cm.fullUpdate(),
            cm == null ? null : cm.migrate(),
            cm == null || cm.progressRegex() == null
                ? "(?<done>\\d+)/(?<total>\\d+)"
                : cm.progressRegex());

    MetaspaceConfig.Admin ad = m.admin();
    if (ad != null) {
      c.require(b + ".admin.url", ad.url());
      c.reference(b + ".admin.authorization", ad.authorization(), false);
    }
    MetaspaceConfig.Slack slack = m.slack();
    if (slack != null) {
      c.reference(b + ".slack.webhook", slack.webhook(), true);
    }
    MetaspaceConfig.Supervisor sv = m.supervisor();
    MetaspaceConfig.Supervisor supervisor =
        new MetaspaceConfig.Supervisor(
            sv == null || sv.supervisorctl() == null ? "supervisorctl" : sv.supervisorctl(),
            sv == null || sv.programs() == null
                ? List.of("sm-api", "sm-cluster-autostart", "sm-graphql", "sm-update-daemon")
                : sv.programs(),
            positive(
                c,
                b + ".supervisor.settle",
                sv == null ? null : sv.settle(),
                Duration.ofSeconds(30)));
    MetaspaceConfig.Services sc = m.services();
    MetaspaceConfig.Services services =
        new MetaspaceConfig.Services(
            sc == null || sc.check() == null ? "systemctl is-active --quiet {service}" : sc.check(),
            sc == null || sc.names() == null
                ? List.of("nginx", "postgresql", "elasticsearch")
                : sc.names());
    MetaspaceConfig.Probe p = m.probe();
    MetaspaceConfig.Probe probe = null;
    if (p != null) {
      c.require(b + ".probe.url", p.url());
      c.require(b + ".probe.messageText", p.messageText());
      probe =
          new MetaspaceConfig.Probe(
              p.url(),
              p.messageText(),
              positive(c, b + ".probe.interval", p.interval(), Duration.ofSeconds(1)),
              positive(c, b + ".probe.maxSilent", p.maxSilent(), Duration.ofMinutes(1)),
              positive(c, b + ".probe.maxDuration", p.maxDuration(), Duration.ofDays(3)));
    }
    MetaspaceConfig.Aws aw = m.aws();
    Ec2Activities.Aws aws = null;
    if (aw != null) {
      c.require(b + ".aws.region", aw.region());
      c.require(b + ".aws.instanceId", aw.instanceId());
      c.require(b + ".aws.elasticIp", aw.elasticIp());
      c.reference(b + ".aws.accessKey", aw.accessKey(), aw.secretKey() != null);
      c.reference(b + ".aws.secretKey", aw.secretKey(), aw.accessKey() != null);
      aws = new Ec2Activities.Aws(aw.region(), aw.endpoint(), aw.accessKey(), aw.secretKey());
    }
    MetaspaceConfig.Fork f = m.fork();
    HostRef newHost = f == null || f.newHost() == null ? null : c.host(env, f.newHost());
    MetaspaceConfig.Fork fork =
        new MetaspaceConfig.Fork(
            f == null ? null : f.newHost(), f == null ? null : f.terminateOldAfter());

    MetaspaceConfig filled =
        new MetaspaceConfig(
            m.host(),
            repo,
            watched,
            m.minorMarkers() == null
                ? List.of("[Milestone]", "[Breaking]", "BREAKING CHANGE")
                : m.minorMarkers(),
            ciFilled,
            ansible,
            es,
            commands,
            ad,
            slack,
            supervisor,
            services,
            probe,
            aw,
            fork,
            positive(c, b + ".longJobLimit", m.longJobLimit(), Duration.ofDays(7)));
    return new MetaspaceSite(host, newHost, repoRef, ansibleRef, cluster, aws, filled);
  }

  /**
   * What a strategy needs beyond the common settings, checked before anything starts: the review
   * may recommend it, or the releaser choose it, only if the environment can run it. Returns the
   * strategies this environment cannot run, each with the keys it lacks.
   */
  static List<String> unavailable(MetaspaceSite site) {
    MetaspaceConfig m = site.config();
    List<String> out = new java.util.ArrayList<>();
    if (m.commands().fullUpdate() == null) {
      out.add(Strategy.DEPLOY_THEN_ES_UPDATE.option() + " (needs metaspace.commands.fullUpdate)");
    }
    if (m.elasticsearch() == null || m.admin() == null || m.commands().checkout() == null) {
      out.add(
          Strategy.REINDEX_BEFORE_DEPLOYMENT.option()
              + " (needs metaspace.elasticsearch, metaspace.admin and metaspace.repo.url or"
              + " metaspace.commands.checkout)");
    } else if ("command".equals(m.elasticsearch().reindex())
        && (m.commands().reindex() == null || m.commands().partialUpdate() == null)) {
      out.add(
          Strategy.REINDEX_BEFORE_DEPLOYMENT.option()
              + " (elasticsearch.reindex is command: needs metaspace.commands.reindex and"
              + " partialUpdate)");
    }
    if (m.aws() == null || m.admin() == null) {
      out.add(Strategy.FORK_THE_VM.option() + " (needs metaspace.aws and metaspace.admin)");
    }
    return out;
  }

  private static String or(String v, String d) {
    return v == null || v.isBlank() ? d : v;
  }

  private static List<String> list(List<String> v, String d) {
    return v == null ? List.of(d) : v;
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
