package dev.crewchief.adapters;

import static dev.crewchief.release.Shell.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Downtime;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.LinkSiteRequest;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SwitchProbe;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.adapters.nginx.NginxProxyActivitiesImpl;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.config.NginxConfig;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Switches watched by their probe, against a real sandbox host and its nginx: the downtime each
 * kind of switch causes, and that no probe loop outlives its switch. The sandbox is one of its own
 * (user ccdowntime), so that the processes and temporary files it checks for are this class's only.
 */
class SwitchDowntimeAdapterTest {
  private static final Logger log = LoggerFactory.getLogger(SwitchDowntimeAdapterTest.class);
  private static final String APP = "the app";
  private static final String FIRST = "the app (first config)";
  private static final String SECOND = "the app (second config)";
  private static final String MAINTENANCE = "down for maintenance";

  static Sandbox sandbox;
  static HostRef host;
  static RemoteHostActivitiesImpl remote;
  static NginxProxyActivitiesImpl proxy;
  static NginxConfig nginx;
  static String domain;
  static String avail;
  static String link;

  @BeforeAll
  static void up() {
    sandbox = Sandbox.get("ccdowntime");
    host =
        new HostRef(
            "sandbox",
            "127.0.0.1",
            sandbox.sshPort(),
            sandbox.user(),
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    SshHosts ssh = new SshHosts(new SecretResolver(Map.of()));
    remote = new RemoteHostActivitiesImpl(ssh);
    proxy = new NginxProxyActivitiesImpl(ssh);
    String prefix = sandbox.home() + "/nginx";
    String base =
        "/usr/sbin/nginx -p "
            + prefix
            + "/ -e "
            + prefix
            + "/logs/error.log -c "
            + prefix
            + "/conf/nginx.conf";
    nginx =
        new NginxConfig(
            prefix + "/sites",
            "127.0.0.1:" + sandbox.nginxPort(),
            prefix + "/nginx.pid",
            base + " -t",
            base + " -s reload",
            "http://127.0.0.1:" + sandbox.nginxPort() + "/");
    domain = "downtime-" + System.nanoTime() + ".test";
    avail = prefix + "/available-" + domain;
    link = nginx.sitesDir() + "/" + domain + ".conf";
    String server = "server { listen 127.0.0.1:" + sandbox.nginxPort() + "; server_name " + domain;
    run(
        "mkdir -p "
            + avail
            + " && cd "
            + avail
            + " && printf '%s' "
            + q(server + "; location / { return 503 \"" + MAINTENANCE + "\\n\"; } }")
            + " > maintenance.conf && printf '%s' "
            + q(server + "; location / { return 200 \"" + FIRST + "\\n\"; } }")
            + " > first.conf && printf '%s' "
            + q(
                server
                    + "; location / { add_header X-Config second; return 200 \""
                    + SECOND
                    + "\\n\"; } }")
            + " > second.conf && printf '%s' 'server { listen 127.0.0.1:notaport; }' >"
            + " broken.conf");
  }

  static String run(String command) {
    return remote.runCommand(new CommandRequest("test", host, command, false)).output();
  }

  static SwitchProbe probe(String upText, String settleText, Integer settleStatus, int interval) {
    return new SwitchProbe(nginx.probeUrl(), domain, upText, settleText, settleStatus, interval);
  }

  static SwitchResult relink(String config, SwitchProbe probe) {
    return proxy.linkSite(
        new LinkSiteRequest("link", host, nginx, link, avail + "/" + config, false, probe));
  }

  /**
   * What the domain answers through nginx now, whatever its status (the maintenance page's is 503).
   */
  static void assertServes(String text) {
    String body = run("curl -sS -m 5 -H " + q("Host: " + domain) + " " + q(nginx.probeUrl()));
    assertTrue(body.contains(text), "expected '" + text + "', got: " + body);
  }

  /**
   * Neither a probe loop nor one of its curls is running on the host (both carry the domain in
   * their command line, as the switch itself does), and no temporary directory of a watch is left.
   * The bracket keeps pgrep from finding the shell that runs it.
   */
  static void assertNoWatchLeft() {
    String pattern = "[" + domain.charAt(0) + "]" + domain.substring(1);
    String left =
        run(
            "pgrep -a -u \"$(id -u)\" -f "
                + q(pattern)
                + " || true; find \"${TMPDIR:-/tmp}\" -maxdepth 1 -name 'crewchief-watch.*' -user"
                + " \"$(id -u)\"");
    assertEquals("", left.strip(), "left on the host after the switch");
  }

  /** The figures are the switch's own: within the step, and consistent with each other. */
  static Downtime assertWithin(SwitchResult r, Instant before, Instant after, int interval) {
    Downtime d = r.downtime();
    log.info("{} (first down {}, last down {})", d.describe(), d.firstDown(), d.lastDown());
    assertEquals("reloaded", r.output(), "the step's output is the switch's, without the answers");
    assertTrue(d.settled(), d.describe());
    if (d.down() > 0) {
      assertFalse(d.firstDown().isBefore(before.minusMillis(1)), d.firstDown() + " < " + before);
      assertFalse(d.lastDown().isAfter(after), d.lastDown() + " > " + after);
      assertFalse(d.lastDown().isBefore(d.firstDown()));
      assertEquals(
          d.lastDown().toEpochMilli() - d.firstDown().toEpochMilli() + interval, d.millis());
    }
    return d;
  }

  @Test
  void theStatusAloneTellsUpFromDownForAnAppWhosePagesSayNothingToCountOn() {
    relink("maintenance.conf", null);
    Instant before = Instant.now();
    SwitchResult r =
        relink("first.conf", new SwitchProbe(nginx.probeUrl(), domain, null, null, 200, 0, 200));
    Instant after = Instant.now();
    Downtime d = assertWithin(r, before, after, 50);
    // The maintenance page's 503 before the reload is down; three 200s after it settle.
    assertTrue(d.down() >= 1, d.describe());
    assertTrue(d.probes() >= d.down() + 3, d.describe());
    assertServes(FIRST);

    before = Instant.now();
    SwitchResult down =
        relink(
            "maintenance.conf",
            new SwitchProbe(nginx.probeUrl(), domain, null, null, 503, 0, null));
    Downtime d2 = assertWithin(down, before, Instant.now(), 50);
    assertTrue(d2.down() >= 3, d2.describe());
    assertTrue(d2.probes() > d2.down(), "the app's 200 before the reload is up: " + d2.describe());
    assertNoWatchLeft();
  }

  @Test
  void appToMaintenanceIsDownFromTheReloadOn() {
    relink("first.conf", null);
    Instant before = Instant.now();
    SwitchResult r = relink("maintenance.conf", probe(APP, MAINTENANCE, null, 0));
    Instant after = Instant.now();
    Downtime d = assertWithin(r, before, after, 50);
    // Settled means three maintenance answers after the switch, all down; and the probe answered
    // at least once before the switch, while the app still served.
    assertTrue(d.down() >= 3, d.describe());
    assertTrue(d.probes() > d.down(), d.describe());
    assertServes(MAINTENANCE);
    assertNoWatchLeft();
  }

  @Test
  void maintenanceBackToTheAppEndsTheDowntime() {
    relink("maintenance.conf", null);
    Instant before = Instant.now();
    SwitchResult r = relink("first.conf", probe(APP, FIRST, null, 0));
    Instant after = Instant.now();
    Downtime d = assertWithin(r, before, after, 50);
    // The answer before the switch was the maintenance page; the three that settled it, the app.
    assertTrue(d.down() >= 1, d.describe());
    assertTrue(d.probes() >= d.down() + 3, d.describe());
    assertTrue(d.millis() >= 50, d.describe());
    assertServes(FIRST);
    assertNoWatchLeft();
  }

  @Test
  void reloadBetweenTwoConfigsThatBothServeTheAppCausesNoDowntime() {
    relink("first.conf", null);
    // Both ways, a few times, with a dense probe: nginx's graceful reload must not drop or refuse
    // a single request. The settling text tells the configs apart, so each switch is seen done.
    for (int i = 0; i < 6; i++) {
      boolean toSecond = i % 2 == 0;
      Instant before = Instant.now();
      SwitchResult r =
          relink(
              toSecond ? "second.conf" : "first.conf",
              probe(APP, toSecond ? SECOND : FIRST, null, 10));
      Instant after = Instant.now();
      Downtime d = assertWithin(r, before, after, 10);
      assertEquals(0, d.down(), d.describe());
      assertEquals(0, d.millis());
      assertNull(d.firstDown());
      assertNull(d.lastDown());
      assertTrue(d.probes() >= 4, "one answer before the switch, three after: " + d.describe());
      assertServes(toSecond ? SECOND : FIRST);
    }
    assertNoWatchLeft();
  }

  @Test
  void detachSettlesOn503AndAttachSettlesOnTheAppsAnswer() throws IOException {
    int appPort;
    try (ServerSocket s = new ServerSocket(0)) {
      appPort = s.getLocalPort();
    }
    String hello = "hello-app-" + appPort;
    String www = sandbox.home() + "/www-" + appPort;
    run(
        "mkdir -p "
            + www
            + " && echo "
            + hello
            + " > "
            + www
            + "/index.html && cd "
            + www
            + " && (setsid nohup python3 -m http.server "
            + appPort
            + " --bind 127.0.0.1 >/dev/null 2>&1 & echo $! > server.pid); for i in $(seq 100); do"
            + " curl -s -o /dev/null http://127.0.0.1:"
            + appPort
            + "/ && exit 0; sleep 0.1; done; exit 1");
    try {
      SwitchResult attached =
          proxy.switchSite(new SiteRequest("attach", host, nginx, domain, appPort, false));
      assertNull(attached.downtime());
      assertServes(hello);

      Instant before = Instant.now();
      SwitchResult detach =
          proxy.switchSite(
              new SiteRequest(
                  "detach", host, nginx, domain, null, false, probe(hello, null, 503, 0)));
      Downtime d = assertWithin(detach, before, Instant.now(), 50);
      assertTrue(d.down() >= 3, d.describe());
      assertTrue(d.probes() > d.down(), "the app answered before the switch: " + d.describe());
      assertNoWatchLeft();

      before = Instant.now();
      SwitchResult attach =
          proxy.switchSite(
              new SiteRequest(
                  "attach", host, nginx, domain, appPort, false, probe(hello, hello, null, 0)));
      d = assertWithin(attach, before, Instant.now(), 50);
      assertTrue(d.down() >= 1, "503 before the switch: " + d.describe());
      assertTrue(d.probes() >= d.down() + 3, d.describe());
      assertServes(hello);
      assertNoWatchLeft();
    } finally {
      run("kill $(cat " + www + "/server.pid); rm -f " + nginx.sitesDir() + "/" + domain + ".conf");
    }
  }

  @Test
  void failedSwitchesWithAProbeFailAsBeforeAndLeaveNoProbeBehind() {
    relink("first.conf", null);
    SwitchProbe probe = probe(APP, FIRST, null, 0);
    ApplicationFailure rejected =
        assertThrows(ApplicationFailure.class, () -> relink("broken.conf", probe));
    assertEquals("NginxConfigRejected", rejected.getType());
    assertTrue(rejected.isNonRetryable());
    assertTrue(rejected.getOriginalMessage().contains("notaport"), "nginx's own message is kept");
    assertNoWatchLeft();
    assertServes(FIRST);
    assertEquals(avail + "/first.conf", run("readlink " + link).strip(), "the link is reverted");

    ApplicationFailure missing =
        assertThrows(ApplicationFailure.class, () -> relink("nope.conf", probe));
    assertEquals("SiteConfigMissing", missing.getType());
    assertNoWatchLeft();
    assertServes(FIRST);
  }

  @Test
  void switchesWithoutAProbeAreNotWatched() {
    int before = sandbox.commandsRun().size();
    SwitchResult r = relink("first.conf", null);
    assertNull(r.downtime());
    assertEquals("reloaded", r.output());
    List<String> commands = sandbox.commandsRun();
    assertEquals(before + 1, commands.size());
    assertFalse(commands.get(before).contains("curl"), "no probe ran: " + commands.get(before));
    assertServes(FIRST);
  }

  @Test
  void dryRunWithAProbeTouchesNothing(@TempDir Path dir) throws IOException {
    // Nothing listens on port 1: a rehearsal that connected would fail.
    HostRef nowhere =
        new HostRef(
            "nowhere",
            "127.0.0.1",
            1,
            "x",
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.knownHostsFor(dir, 1).toString());
    SwitchProbe probe = probe(APP, MAINTENANCE, null, 0);
    SwitchResult linked =
        proxy.linkSite(
            new LinkSiteRequest(
                "maint", nowhere, nginx, link, avail + "/maintenance.conf", true, probe));
    assertTrue(linked.rehearsed());
    assertNull(linked.downtime());
    assertTrue(linked.action().contains("watched with GET " + nginx.probeUrl()), linked.action());
    SwitchResult detached =
        proxy.switchSite(
            new SiteRequest(
                "detach", nowhere, nginx, domain, null, true, probe(APP, null, 503, 0)));
    assertTrue(detached.rehearsed());
    assertNull(detached.downtime());
    assertTrue(detached.action().contains("until it answers 503"), detached.action());
  }

  @Test
  void probesThatCannotBeRunAreInvalidInputBeforeAnythingIsTouched() {
    HostRef nowhere =
        new HostRef("nowhere", "127.0.0.1", 1, "x", "file:/nonexistent", "/nonexistent");
    List<SwitchProbe> bad =
        List.of(
            new SwitchProbe("ftp://127.0.0.1/", domain, APP, FIRST, null, 0),
            new SwitchProbe("http://127.0.0.1/'; rm -rf ~; '", domain, APP, FIRST, null, 0),
            new SwitchProbe(nginx.probeUrl(), "a b", APP, FIRST, null, 0),
            new SwitchProbe(nginx.probeUrl(), domain, "", FIRST, null, 0),
            new SwitchProbe(nginx.probeUrl(), domain, "two\nlines", FIRST, null, 0),
            new SwitchProbe(nginx.probeUrl(), domain, APP, FIRST, null, 0, 42),
            new SwitchProbe(nginx.probeUrl(), domain, APP, null, null, 0),
            new SwitchProbe(nginx.probeUrl(), domain, APP, FIRST, 503, 0),
            new SwitchProbe(nginx.probeUrl(), domain, APP, "two\nlines", null, 0),
            new SwitchProbe(nginx.probeUrl(), domain, APP, FIRST, null, 60_000));
    for (SwitchProbe p : bad) {
      for (boolean dryRun : new boolean[] {true, false}) {
        Executable linking =
            () ->
                proxy.linkSite(
                    new LinkSiteRequest("l", nowhere, nginx, link, avail + "/x", dryRun, p));
        Executable switching =
            () -> proxy.switchSite(new SiteRequest("s", nowhere, nginx, domain, 1, dryRun, p));
        for (Executable e : List.of(linking, switching)) {
          ApplicationFailure f = assertThrows(ApplicationFailure.class, e, p.toString());
          assertEquals("InvalidInput", f.getType(), f.getOriginalMessage());
          assertTrue(f.isNonRetryable());
        }
      }
    }
  }
}
