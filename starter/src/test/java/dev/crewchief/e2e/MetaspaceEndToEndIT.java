package dev.crewchief.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.aws.MotoServer;
import dev.crewchief.adapters.elasticsearch.EsNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;

/**
 * METASPACE's runbook end to end: the worker and the CLI as processes, the real Temporal server,
 * the stand-in app on the sandbox host behind its nginx (deploy/sandbox/metaspace), a real
 * Elasticsearch node with tens of thousands of datasets, the app's real git origin and the Ansible
 * config repository, ansible-playbook over SSH, and GitHub's status API and Slack as HTTP servers
 * in this JVM. First a "reindex before deployment" release (the review finds the changed mapping)
 * with a prober searching through the site all along; then a "fork the VM" release on moto's EC2.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetaspaceEndToEndIT {
  static final String ENV = "ccmeta";
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static Sandbox sandbox;
  static Map<String, String> ms;
  static EsNode es;
  static HttpServer apis;
  static final List<String> slack = new CopyOnWriteArrayList<>();
  static final AtomicInteger ciAsked = new AtomicInteger();
  static Stack stack;
  static WorkerProcess worker;
  static Crewchief cc;
  static Histories histories;
  static Ec2Client ec2;
  static String oldInstance;
  static String elasticIp;

  @BeforeAll
  static void up() throws Exception {
    sandbox = Sandbox.get(ENV);
    es = EsNode.get();
    Path dir = sandbox.dir;
    Map<String, String> setupEnv = new HashMap<>();
    setupEnv.put("METASPACE_CHANGES", "es-mapping graphql-migration");
    setupEnv.put("METASPACE_DATASETS", "30000");
    run(
        setupEnv,
        "bash",
        Sandbox.repoRoot().resolve("deploy/sandbox/metaspace/setup.sh").toString(),
        dir.toString(),
        dir.resolve("sandbox.env").toString(),
        es.url());
    ms = readEnv(dir.resolve("metaspace.env"));

    // The index 1.7.4 serves, made from 1.7.4's own definition, and its datasets.
    String definition =
        git(ms.get("METASPACE_CLONE"), "show", "1.7.4:metaspace/engine/sm/engine/es_index.json");
    es("PUT", "/sm-1-7-4", definition);
    es("POST", "/_aliases", "{\"actions\":[{\"add\":{\"index\":\"sm-1-7-4\",\"alias\":\"sm\"}}]}");
    run(
        Map.of(),
        Sandbox.repoRoot().resolve("deploy/sandbox/metaspace/load-index.sh").toString(),
        es.url(),
        "sm-1-7-4",
        "sm",
        ms.get("METASPACE_DATA_FILE"));
    es("POST", "/sm-1-7-4/_refresh", "");

    // GitHub's combined status (green for every commit) and Slack's incoming webhook.
    apis = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    apis.createContext(
        "/repos/",
        x -> {
          ciAsked.incrementAndGet();
          boolean authorized =
              "Bearer ghp-test-token".equals(x.getRequestHeaders().getFirst("Authorization"));
          String sha = x.getRequestURI().getPath().replaceAll(".*/commits/([^/]+)/status", "$1");
          byte[] body =
              (authorized
                      ? "{\"state\":\"success\",\"sha\":\""
                          + sha
                          + "\",\"total_count\":2,\"statuses\":[{\"context\":\"ci/webapp\",\"state\":\"success\",\"target_url\":\"http://ci/1\"},{\"context\":\"ci/graphql\",\"state\":\"success\",\"target_url\":\"http://ci/2\"}]}"
                      : "{\"message\":\"Bad credentials\"}")
                  .getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Content-Type", "application/json");
          x.sendResponseHeaders(authorized ? 200 : 401, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    apis.createContext(
        "/slack/",
        x -> {
          slack.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          byte[] ok = "ok".getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, ok.length);
          x.getResponseBody().write(ok);
          x.close();
        });
    apis.start();

    // The VM on moto: an instance with an Elastic IP, the copy's properties to come from it.
    ec2 =
        Ec2Client.builder()
            .endpointOverride(URI.create(MotoServer.endpoint()))
            .region(Region.of(MotoServer.REGION))
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(MotoServer.ACCESS_KEY, MotoServer.SECRET_KEY)))
            .build();
    String ami = ec2.describeImages(b -> b.owners("amazon")).images().get(0).imageId();
    oldInstance =
        ec2.runInstances(
                b ->
                    b.imageId(ami)
                        .instanceType("m5.xlarge")
                        .minCount(1)
                        .maxCount(1)
                        .tagSpecifications(
                            t ->
                                t.resourceType("instance")
                                    .tags(x -> x.key("Name").value("metaspace-prod"))))
            .instances()
            .get(0)
            .instanceId();
    ec2.modifyInstanceAttribute(
        b -> b.instanceId(oldInstance).disableApiTermination(a -> a.value(true)));
    var address = ec2.allocateAddress(b -> b.domain("vpc"));
    elasticIp = address.publicIp();
    ec2.associateAddress(b -> b.allocationId(address.allocationId()).instanceId(oldInstance));

    Files.writeString(dir.resolve("gh-token"), "ghp-test-token\n");
    Files.writeString(
        dir.resolve("slack-url"),
        "http://127.0.0.1:" + apis.getAddress().getPort() + "/slack/T000/B000/XXXX\n");
    Files.writeString(
        dir.resolve("admin-authorization"),
        "Bearer " + Files.readString(Path.of(ms.get("METASPACE_ADMIN_TOKEN_FILE"))).strip() + "\n");
    Path config = dir.resolve("metaspace-crewchief.yaml");
    Files.writeString(config, config(dir));

    stack =
        Stack.start(
            config.toString(),
            Map.of("MS_AWS_KEY", MotoServer.ACCESS_KEY, "MS_AWS_SECRET", MotoServer.SECRET_KEY));
    worker = stack.worker;
    cc = stack.cc;
    histories = stack.histories;
  }

  @AfterAll
  static void down() throws Exception {
    if (stack != null) {
      stack.close();
    }
    if (apis != null) {
      apis.stop(0);
    }
    if (ec2 != null) {
      ec2.close();
    }
  }

  static String config(Path dir) {
    String tools = System.getenv().getOrDefault("CREWCHIEF_TOOLS", "/opt/crewchief/tools");
    String programs = String.join(", ", ms.get("METASPACE_PROGRAMS").split("\\s+"));
    return "taskQueue: crewchief-metaspace\n"
        + "environments:\n"
        + "  "
        + ENV
        + ":\n"
        + "    approvers: {driver: [bob]}\n"
        + "    hosts:\n"
        + "      vm: {address: 127.0.0.1, port: "
        + sandbox.sshPort()
        + ", user: "
        + sandbox.user()
        + ", privateKey: 'file:"
        + dir.resolve("client_ed25519")
        + "', knownHosts: "
        + dir.resolve("known_hosts")
        + "}\n"
        + "    gates:\n"
        + "      strategy: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "      drop-old-index: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "      confirmed-working: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: ROLLBACK}\n"
        + "      terminate-old-vm: {roles: [driver], timeout: PT1H, remindEvery: PT30M, onTimeout: FAIL}\n"
        + "    metaspace:\n"
        + "      host: vm\n"
        + "      repo: {path: "
        + ms.get("METASPACE_CLONE")
        + ", remote: origin, url: "
        + ms.get("METASPACE_ORIGIN")
        + "}\n"
        + "      watched: {esMappings: [metaspace/engine/sm/engine/es_index.json]}\n"
        + "      ci: {provider: GITHUB, apiUrl: 'http://127.0.0.1:"
        + apis.getAddress().getPort()
        + "', project: metaspace2020/metaspace, required: [ci/webapp, ci/graphql], token: 'file:"
        + dir.resolve("gh-token")
        + "', waitLimit: PT2M, pollEvery: PT1S}\n"
        + "      ansible: {program: "
        + tools
        + "/bin/ansible-playbook, checkout: "
        + ms.get("METASPACE_ANSIBLE_CLONE")
        + ", branch: "
        + ms.get("METASPACE_ANSIBLE_BRANCH")
        + ", playbook: "
        + ms.get("METASPACE_PLAYBOOK")
        + ", inventory: "
        + ms.get("METASPACE_INVENTORY")
        + ", inventoryHost: "
        + ms.get("METASPACE_INVENTORY_HOST")
        + "}\n"
        + "      elasticsearch: {url: '"
        + es.url()
        + "', alias: sm, indexPrefix: sm-, requestsPerSecond: 1000, createdField: ds_upload_dt}\n"
        + "      commands:\n"
        // In the sandbox host's home, not the machine's /tmp: nothing another run left there.
        + "        tempDir: "
        + sandbox.home().resolve("tmp/metaspace-release-{tag}")
        + "\n"
        + "        fullUpdate: \""
        + ms.get("METASPACE_UPDATE_COMMAND").replace("\"", "\\\"")
        + "\"\n"
        + "        progressRegex: '"
        + ms.get("METASPACE_PROGRESS_REGEX")
        + "'\n"
        + "      admin: {url: '"
        + ms.getOrDefault("METASPACE_SITE_ADMIN_URL", ms.get("METASPACE_ADMIN_URL"))
        + "', authorization: 'file:"
        + dir.resolve("admin-authorization")
        + "'}\n"
        + "      slack: {channel: '#metaspace_dev', webhook: 'file:"
        + dir.resolve("slack-url")
        + "'}\n"
        + "      supervisor: {supervisorctl: '"
        + ms.get("METASPACE_SUPERVISORCTL")
        + "', programs: ["
        + programs
        + "], settle: PT20S}\n"
        + "      services: {check: 'pgrep -u "
        + sandbox.user()
        + " -f {service} >/dev/null', names: [supervisord]}\n"
        + "      probe: {url: '"
        + site()
        + "', messageText: '"
        + ms.get("METASPACE_READ_ONLY_TEXT")
        + "', interval: PT0.2S, maxSilent: PT1M, maxDuration: PT30M}\n"
        + "      aws: {region: "
        + MotoServer.REGION
        + ", endpoint: '"
        + MotoServer.endpoint()
        + "', accessKey: 'env:MS_AWS_KEY', secretKey: 'env:MS_AWS_SECRET', instanceId: "
        + oldInstance
        + ", elasticIp: "
        + elasticIp
        + "}\n"
        + "      fork: {newHost: vm}\n"
        + "      longJobLimit: PT1H\n";
  }

  static String site() {
    return ms.getOrDefault("METASPACE_SITE_URL", ms.get("METASPACE_APP_URL"));
  }

  static String searchUrl() {
    return ms.getOrDefault("METASPACE_SITE_SEARCH_URL", ms.get("METASPACE_SEARCH_URL"));
  }

  /** Searches through the site every 50 ms while the release runs. */
  static final class Prober implements AutoCloseable {
    final AtomicInteger ok = new AtomicInteger();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final Map<String, Integer> byIndex = new java.util.concurrent.ConcurrentHashMap<>();
    final AtomicBoolean stop = new AtomicBoolean();
    final Thread thread;

    Prober() {
      thread =
          new Thread(
              () -> {
                HttpClient client =
                    HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                while (!stop.get()) {
                  try {
                    HttpResponse<String> r =
                        client.send(
                            HttpRequest.newBuilder(URI.create(searchUrl()))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                    JsonNode body = r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
                    if (body == null || body.path("total").asLong() <= 0) {
                      failures.add(r.statusCode() + " " + r.body());
                    } else {
                      ok.incrementAndGet();
                      byIndex.merge(body.path("index").asText(), 1, Integer::sum);
                    }
                  } catch (Exception e) {
                    failures.add(e.toString());
                  }
                  try {
                    Thread.sleep(50);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "metaspace-prober");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(10_000);
    }
  }

  @Test
  @Order(1)
  void aReindexBeforeDeploymentServesEverySearchAndDropsTheOldIndexAfterTheGate() throws Exception {
    String id = "release-metaspace-release-" + ENV + "-1.7.5";
    try {
      reindexRelease(id);
    } catch (AssertionError | Exception e) {
      // The next release must not find this one holding the lane.
      cc.run("cancel", id);
      throw e;
    }
  }

  void reindexRelease(String id) throws Exception {
    try (Prober prober = new Prober()) {
      Crewchief.Result started =
          cc.run("start", "metaspace-release", "--env", ENV, "--version", "1.7.5");
      assertEquals(0, started.exit(), started.out() + "\nworker:\n" + worker.logText());
      cc.awaitStatus(id, "gate strategy: WAITING", 180);
      Crewchief.Result status = cc.run("status", id);
      assertTrue(status.out().contains("proposed: reindex-before-deployment"), status.out());
      assertTrue(status.out().contains("| - Elasticsearch index mappings changed"), status.out());
      assertEquals(
          0,
          cc.run("approve", id, "strategy", "--as", "bob", "-m", "mapping changed: full rebuild")
              .exit());
      cc.awaitStatus(id, "gate drop-old-index: WAITING", 600);
      // The new index serves; the old one is still there until the gate allows its drop.
      assertEquals(200, es("HEAD", "/sm-1-7-4", null).statusCode());
      assertTrue(aliasIndices().equals(List.of("sm-1-7-5")), aliasIndices().toString());
      assertEquals(
          0, cc.run("approve", id, "drop-old-index", "--as", "bob", "-m", "new index fine").exit());
      Crewchief.Result watched = cc.run("watch", id);
      assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + worker.logText());
      prober.close();
      System.out.println(
          "prober: "
              + prober.ok.get()
              + " searches ok, by index "
              + prober.byIndex
              + ", failed "
              + prober.failures.size());
      assertEquals(List.of(), prober.failures, "failed searches");
      assertTrue(prober.byIndex.getOrDefault("sm-1-7-4", 0) > 0, prober.byIndex.toString());
      assertTrue(prober.byIndex.getOrDefault("sm-1-7-5", 0) > 0, prober.byIndex.toString());
    }
    assertEquals(404, es("HEAD", "/sm-1-7-4", null).statusCode(), "the old index is gone");
    JsonNode count = JSON.readTree(es("GET", "/sm-1-7-5/_count", null).body());
    assertEquals(30000, count.path("count").asLong());
    assertTrue(get(site()).contains("METASPACE 1.7.5"), get(site()));

    Crewchief.Result report = cc.run("report", id);
    String r = report.out();
    assertEquals(0, report.exit(), r);
    for (String step :
        List.of(
            "review changes release...master",
            "CI green on master",
            "tag 1.7.5 with the release notes",
            "check out 1.7.5 into " + sandbox.home().resolve("tmp/metaspace-release-1.7.5"),
            "create the inactive index sm-1-7-5",
            "reindex sm-1-7-4 into sm-1-7-5",
            "turn dataset processing off",
            "partial update of sm-1-7-5",
            "swap alias sm: sm-1-7-4 -> sm-1-7-5",
            "Ansible web deployment of 1.7.5",
            "turn dataset processing back on",
            "supervisor programs RUNNING",
            "full incremental update of sm-1-7-5",
            "drop the old index sm-1-7-4",
            "remove the temp dir")) {
      assertTrue(r.contains(step), "report lacks '" + step + "':\n" + r);
    }
    assertTrue(r.contains("reindex-before-deployment (proposed)"), r);
    assertTrue(r.contains("measured: read-only or maintenance message shown"), r);
    assertTrue(r.contains("rule kept"), r);
    assertTrue(
        git(ms.get("METASPACE_ORIGIN"), "tag", "-n5", "1.7.5").contains("[Task] Task name #921"));
    assertTrue(
        slack.stream().anyMatch(m -> m.contains("Starting the deployment of METASPACE 1.7.5")),
        slack.toString());
    assertTrue(
        slack.stream().anyMatch(m -> m.contains("METASPACE 1.7.5 deployed successfully")),
        slack.toString());
    assertTrue(ciAsked.get() > 0);
    histories.replayAndKeep(id);
    histories.assertNoSecret(id, Files.readString(sandbox.dir.resolve("client_ed25519")));
    histories.assertNoSecret(
        id,
        "ghp-test-token-not-in-history\n"
            + Files.readString(sandbox.dir.resolve("admin-authorization")).replace("Bearer ", ""));
    assertFalse(
        histories.everything(id).contains("ghp-test-token"), "the CI token is in the history");
    assertFalse(
        histories.everything(id).contains("/slack/T000/B000/XXXX"),
        "the Slack webhook is in the history");
  }

  @Test
  @Order(2)
  void forkingTheVmMovesTheElasticIpAndTerminatesTheOldInstance() throws Exception {
    String id = "release-metaspace-release-" + ENV + "-1.7.6";
    Crewchief.Result started =
        cc.run("start", "metaspace-release", "--env", ENV, "--version", "1.7.6");
    assertEquals(0, started.exit(), started.out() + "\nworker:\n" + worker.logText());
    cc.awaitStatus(id, "gate strategy: WAITING", 180);
    // Nothing watched changed, so the review proposes in place; the releaser knows of
    // infrastructure work and chooses to fork the VM, with the reason (without one: refused).
    Crewchief.Result noReason =
        cc.run("approve", id, "strategy", "--as", "bob", "--choice", "fork-the-vm");
    assertEquals(1, noReason.exit(), noReason.out());
    assertTrue(noReason.out().contains("needs the reason"), noReason.out());
    assertEquals(
        0,
        cc.run(
                "approve",
                id,
                "strategy",
                "--as",
                "bob",
                "--choice",
                "fork-the-vm",
                "-m",
                "the database server moves")
            .exit());
    cc.awaitStatus(id, "gate confirmed-working: WAITING", 600);
    assertTrue(
        get(site()).contains(ms.get("METASPACE_READ_ONLY_TEXT")), "read-only during the fork");
    assertEquals(
        0, cc.run("approve", id, "confirmed-working", "--as", "bob", "-m", "works").exit());
    cc.awaitStatus(id, "gate terminate-old-vm: WAITING", 300);
    assertEquals(
        InstanceStateName.STOPPED,
        ec2.describeInstances(b -> b.instanceIds(oldInstance))
            .reservations()
            .get(0)
            .instances()
            .get(0)
            .state()
            .name());
    assertEquals(0, cc.run("approve", id, "terminate-old-vm", "--as", "bob", "-m", "").exit());
    Crewchief.Result watched = cc.run("watch", id);
    assertEquals(0, watched.exit(), watched.out() + "\nworker:\n" + worker.logText());

    var address = ec2.describeAddresses(b -> b.publicIps(elasticIp)).addresses().get(0);
    String now = address.instanceId();
    assertFalse(now.equals(oldInstance), "the Elastic IP moved");
    var copy =
        ec2.describeInstances(b -> b.instanceIds(now)).reservations().get(0).instances().get(0);
    assertEquals("m5.xlarge", copy.instanceTypeAsString());
    assertEquals(InstanceStateName.RUNNING, copy.state().name());
    assertTrue(
        ec2.describeInstanceAttribute(b -> b.instanceId(now).attribute("disableApiTermination"))
            .disableApiTermination()
            .value());
    assertEquals(
        InstanceStateName.TERMINATED,
        ec2.describeInstances(b -> b.instanceIds(oldInstance))
            .reservations()
            .get(0)
            .instances()
            .get(0)
            .state()
            .name());
    assertFalse(get(site()).contains(ms.get("METASPACE_READ_ONLY_TEXT")), "read-only ended");
    String report = cc.run("report", id).out();
    assertTrue(report.contains("fork-the-vm (instead of the proposed in-place)"), report);
    assertTrue(report.contains("move Elastic IP " + elasticIp), report);
    histories.replayAndKeep(id);
  }

  static List<String> aliasIndices() throws Exception {
    JsonNode a = JSON.readTree(es("GET", "/_alias/sm", null).body());
    List<String> out = new java.util.ArrayList<>();
    a.fieldNames().forEachRemaining(out::add);
    return out;
  }

  static HttpResponse<String> es(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(es.url() + path))
            .header("Content-Type", "application/json");
    b.method(
        method,
        body == null || body.isEmpty()
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (!method.equals("HEAD") && r.statusCode() >= 300) {
      throw new AssertionError(method + " " + path + ": " + r.statusCode() + " " + r.body());
    }
    return r;
  }

  static String get(String url) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  static String git(String dir, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", dir));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    return out;
  }

  static void run(Map<String, String> env, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + ":\n" + out);
  }

  static Map<String, String> readEnv(Path file) throws Exception {
    Map<String, String> out = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      int eq = line.indexOf('=');
      if (eq > 0 && !line.startsWith("#")) {
        String v = line.substring(eq + 1).trim();
        if (v.length() >= 2
            && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
          v = v.substring(1, v.length() - 1);
        }
        out.put(line.substring(0, eq).replace("export ", "").trim(), v.replace("'\\''", "'"));
      }
    }
    return out;
  }
}
