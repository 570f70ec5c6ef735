package dev.crewchief.adapters;

import static dev.crewchief.release.Shell.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.Downtime;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.ProxyActivities.UpstreamSwitchRequest;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ENCODE proxy switch against the sandbox host's real nginx: a server block proxying to one of
 * two small backends on the host (answering "old" and "new") is pointed at the other by {@code
 * switchUpstream}, watched through the proxy while nginx reloads.
 */
class UpstreamSwitchAdapterTest {
  static Sandbox sandbox;
  static HostRef host;
  static RemoteHostActivitiesImpl remote;
  static NginxProxyActivitiesImpl proxy;
  static NginxConfig nginx;
  static String base;
  static int oldPort;
  static int newPort;
  static String www;

  @BeforeAll
  static void up() throws IOException {
    sandbox = Sandbox.get("ccconfig");
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
    base =
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
    oldPort = freePort();
    newPort = freePort();
    www = sandbox.home() + "/upstreams-" + System.nanoTime();
    backend("old", oldPort);
    backend("new", newPort);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A backend on the host answering {@code text}, waited for until it answers. */
  static void backend(String text, int port) {
    String d = www + "/" + text;
    run(
        "mkdir -p "
            + d
            + " && echo "
            + text
            + " > "
            + d
            + "/index.html && cd "
            + d
            + " && (setsid nohup python3 -m http.server "
            + port
            + " --bind 127.0.0.1 >/dev/null 2>&1 < /dev/null & echo $! > ../"
            + text
            + ".pid); for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:"
            + port
            + "/ && exit 0; sleep 0.1; done; exit 1");
  }

  @AfterAll
  static void down() {
    run("kill $(cat " + www + "/old.pid) $(cat " + www + "/new.pid) 2>/dev/null || true");
  }

  static String run(String command) {
    return remote.runCommand(new CommandRequest("test", host, command, false)).output();
  }

  /** A site of its own, proxied to the old backend and served (nginx reloaded, answer seen). */
  record Site(String domain, String file) {}

  static Site site() {
    String domain = "upstream-" + System.nanoTime() + ".test";
    String file = nginx.sitesDir() + "/" + domain + ".conf";
    run(
        "printf '%s\\n' "
            + q(
                "server { listen "
                    + nginx.listen()
                    + "; server_name "
                    + domain
                    + "; location / { proxy_pass http://127.0.0.1:"
                    + oldPort
                    + "; } }")
            + " > "
            + file
            + " && "
            + base
            + " -s reload && for i in $(seq 100); do curl -s -H "
            + q("Host: " + domain)
            + " "
            + nginx.probeUrl()
            + " | grep -qx old && exit 0; sleep 0.1; done; exit 1");
    return new Site(domain, file);
  }

  static String serves(Site s) {
    return run("curl -sS -m 5 -H " + q("Host: " + s.domain()) + " " + q(nginx.probeUrl())).strip();
  }

  static UpstreamSwitchRequest request(Site s, NginxConfig n, String to, boolean dryRun) {
    return new UpstreamSwitchRequest(
        "proxy switch",
        host,
        n,
        s.file(),
        "127.0.0.1:" + oldPort,
        to,
        // Both backends are the service up (status 200): the switch settles on the new one.
        new SwitchProbe(nginx.probeUrl(), s.domain(), null, "new", null, 20),
        dryRun);
  }

  @Test
  void switchesWithAReloadAndNoFailedProbeThenASecondCallChangesNothing() {
    Site s = site();
    String to = "127.0.0.1:" + newPort;
    SwitchResult r = proxy.switchUpstream(request(s, nginx, to, false));
    Downtime d = r.downtime();
    assertTrue(d.settled(), d.describe());
    assertEquals(0, d.down(), d.describe());
    assertTrue(d.probes() >= 4, "one answer before the switch, three after: " + d.describe());
    assertEquals("reloaded", r.output());
    assertEquals("new", serves(s));
    String switched = run("cat " + s.file());
    assertTrue(switched.contains("proxy_pass http://" + to + ";"), switched);
    assertTrue(!switched.contains(":" + oldPort), switched);

    SwitchResult again = proxy.switchUpstream(request(s, nginx, to, false));
    assertTrue(again.output().startsWith("already switched"), again.output());
    assertTrue(again.downtime().settled());
    assertEquals(0, again.downtime().down());
    assertEquals(switched, run("cat " + s.file()), "a second call leaves the file alone");
    assertEquals("new", serves(s));
    assertNothingLeft();
  }

  @Test
  void aReloadCommandThatRestartsIsRefusedBeforeAnythingIsTouched() {
    Site s = site();
    String before = run("cat " + s.file());
    for (String reload :
        List.of(
            "systemctl restart nginx",
            "sudo service nginx restart",
            base + " -s stop",
            base + " -s quit",
            "kill $(cat " + nginx.pidFile() + ")")) {
      NginxConfig restarting =
          new NginxConfig(
              nginx.sitesDir(),
              nginx.listen(),
              nginx.pidFile(),
              nginx.testCommand(),
              reload,
              nginx.probeUrl());
      for (boolean dryRun : new boolean[] {true, false}) {
        int ran = sandbox.commandsRun().size();
        ApplicationFailure f =
            assertThrows(
                ApplicationFailure.class,
                () -> proxy.switchUpstream(request(s, restarting, "127.0.0.1:" + newPort, dryRun)),
                reload);
        assertEquals("RestartRefused", f.getType(), reload);
        assertTrue(f.isNonRetryable());
        assertTrue(f.getOriginalMessage().contains(reload), f.getOriginalMessage());
        assertEquals(ran, sandbox.commandsRun().size(), "nothing ran on the host: " + reload);
      }
    }
    assertEquals(before, run("cat " + s.file()));
    assertEquals("old", serves(s));
    // What only reloads is not refused.
    SwitchResult rehearsed =
        proxy.switchUpstream(
            request(
                s,
                new NginxConfig(
                    nginx.sitesDir(),
                    nginx.listen(),
                    nginx.pidFile(),
                    nginx.testCommand(),
                    "kill -HUP $(cat " + nginx.pidFile() + ")",
                    nginx.probeUrl()),
                "127.0.0.1:" + newPort,
                true));
    assertTrue(rehearsed.rehearsed());
    assertNull(rehearsed.downtime());
  }

  @Test
  void aSwitchNginxRejectsPutsTheOldFileBackAndTheProxyServesTheOldServer() {
    Site s = site();
    String before = run("cat " + s.file());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                proxy.switchUpstream(
                    request(s, nginx, "127.0.0.1:" + newPort + "; no_such_directive on", false)));
    assertEquals("NginxConfigRejected", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("no_such_directive"), f.getOriginalMessage());
    assertEquals(before, run("cat " + s.file()), "the old file is back");
    assertEquals("old", serves(s));
    assertNothingLeft();

    ApplicationFailure notThere =
        assertThrows(
            ApplicationFailure.class,
            () ->
                proxy.switchUpstream(
                    new UpstreamSwitchRequest(
                        "x",
                        host,
                        nginx,
                        s.file(),
                        "10.9.9.9:5000",
                        "10.9.9.8:5000",
                        null,
                        false)));
    assertEquals("EditNotFound", notThere.getType());
    assertTrue(notThere.isNonRetryable());
  }

  /** No temporary copy of a config, and no probe's directory, is left on the host. */
  static void assertNothingLeft() {
    String left =
        run(
            "find \"${TMPDIR:-/tmp}\" -maxdepth 1 \\( -name 'crewchief-upstream.*' -o -name"
                + " 'crewchief-watch.*' \\) -user \"$(id -u)\"");
    assertEquals("", left.strip());
  }
}
