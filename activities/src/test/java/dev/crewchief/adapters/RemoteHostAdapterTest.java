package dev.crewchief.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.ArchiveRequest;
import dev.crewchief.activities.CommandRequest;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.InspectRequest;
import dev.crewchief.activities.LinkSiteRequest;
import dev.crewchief.activities.PathFacts;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SourceRequirement;
import dev.crewchief.activities.SyncRequest;
import dev.crewchief.activities.SyncResult;
import dev.crewchief.adapters.nginx.NginxProxyActivitiesImpl;
import dev.crewchief.adapters.secrets.SecretResolver;
import dev.crewchief.adapters.ssh.RemoteHostActivitiesImpl;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.config.NginxConfig;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SSH and nginx adapters against the real sandbox host (sshd, nginx, python3). */
class RemoteHostAdapterTest {
  static Sandbox sandbox;
  static HostRef host;
  static RemoteHostActivitiesImpl remote;
  static NginxProxyActivitiesImpl proxy;

  @BeforeAll
  static void up() {
    sandbox = Sandbox.get();
    host =
        hostWith(
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    SshHosts ssh = new SshHosts(new SecretResolver(Map.of()));
    remote = new RemoteHostActivitiesImpl(ssh);
    proxy = new NginxProxyActivitiesImpl(ssh);
  }

  static HostRef hostWith(String keyRef, String knownHosts) {
    return new HostRef(
        "sandbox", "127.0.0.1", sandbox.sshPort(), sandbox.user(), keyRef, knownHosts);
  }

  String run(String command) {
    return remote.runCommand(new CommandRequest("test", host, command, false)).output();
  }

  @Test
  void runsCommandsAsTheConfiguredUser() {
    assertEquals(sandbox.user(), run("id -un").strip());
  }

  @Test
  void commandRunningLongerThanAHeartbeatIntervalCompletesWithItsOutputAndStatus() {
    // The adapter heartbeats every two seconds while a command runs: a five-second command
    // must come back whole, and its exit status must still count.
    assertEquals("before\nafter", run("echo before; sleep 5; echo after").strip());
    ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> run("sleep 3; exit 4"));
    assertEquals("RemoteCommandFailed", f.getType());
    assertTrue(f.getOriginalMessage().contains("exit 4"), f.getOriginalMessage());
  }

  @Test
  void failingCommandIsRemoteCommandFailedWithItsError() {
    ApplicationFailure f =
        assertThrows(ApplicationFailure.class, () -> run("echo nope >&2; exit 7"));
    assertEquals("RemoteCommandFailed", f.getType());
    assertTrue(f.getOriginalMessage().contains("exit 7"), f.getOriginalMessage());
    assertTrue(f.getOriginalMessage().contains("nope"), f.getOriginalMessage());
  }

  @Test
  void wrongHostKeyIsRefusedNonRetryable(@TempDir Path tmp) throws Exception {
    Sandbox.run(
        "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp.resolve("other").toString());
    String otherKey = Files.readString(tmp.resolve("other.pub")).split(" ")[1];
    Path known = tmp.resolve("known_hosts");
    Files.writeString(
        known, "[127.0.0.1]:" + sandbox.sshPort() + " ssh-ed25519 " + otherKey + "\n");
    HostRef h = hostWith("file:" + sandbox.dir.resolve("client_ed25519"), known.toString());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> remote.runCommand(new CommandRequest("test", h, "true", false)));
    assertEquals("SshHostKeyMismatch", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains(known.toString()), f.getOriginalMessage());
  }

  @Test
  void hostMissingFromKnownHostsIsRefused(@TempDir Path tmp) throws Exception {
    Path known = tmp.resolve("known_hosts");
    Files.writeString(known, "");
    HostRef h = hostWith("file:" + sandbox.dir.resolve("client_ed25519"), known.toString());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> remote.runCommand(new CommandRequest("test", h, "true", false)));
    assertEquals("SshHostKeyMismatch", f.getType());
  }

  @Test
  void refusedKeyIsSshAuthFailedNonRetryable() {
    HostRef h =
        hostWith(
            "file:" + sandbox.dir.resolve("stranger_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> remote.runCommand(new CommandRequest("test", h, "true", false)));
    assertEquals("SshAuthFailed", f.getType());
    assertTrue(f.isNonRetryable());
    assertTrue(f.getOriginalMessage().contains("stranger_ed25519"), f.getOriginalMessage());
  }

  @Test
  void keyFromEnvironmentReference() throws IOException {
    String key = Files.readString(sandbox.dir.resolve("client_ed25519"));
    SshHosts ssh = new SshHosts(new SecretResolver(Map.of("SANDBOX_KEY", key)));
    HostRef h = hostWith("env:SANDBOX_KEY", sandbox.dir.resolve("known_hosts").toString());
    ActionResult r =
        new RemoteHostActivitiesImpl(ssh).runCommand(new CommandRequest("t", h, "echo hi", false));
    assertEquals("hi", r.output().strip());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                new RemoteHostActivitiesImpl(new SshHosts(new SecretResolver(Map.of())))
                    .runCommand(new CommandRequest("t", h, "true", false)));
    assertEquals("SecretUnresolved", f.getType());
    assertFalse(f.getOriginalMessage().contains("PRIVATE KEY"));
  }

  @Test
  void unreachableHostIsRetryable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    HostRef h =
        new HostRef(
            "gone",
            "127.0.0.1",
            port,
            "x",
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.dir.resolve("known_hosts").toString());
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () -> remote.runCommand(new CommandRequest("test", h, "true", false)));
    assertEquals("SshUnreachable", f.getType());
    assertFalse(f.isNonRetryable());
  }

  @Test
  void dryRunTouchesNothing(@TempDir Path dir) throws IOException {
    // Nothing listens on port 1: a rehearsal that connected would fail. Its key and known_hosts
    // entry are real, so the rehearsal's checks pass.
    HostRef nowhere =
        new HostRef(
            "nowhere",
            "127.0.0.1",
            1,
            "x",
            "file:" + sandbox.dir.resolve("client_ed25519"),
            sandbox.knownHostsFor(dir, 1).toString());
    ActionResult r = remote.runCommand(new CommandRequest("t", nowhere, "rm -rf /tmp/x", true));
    assertTrue(r.rehearsed());
    assertTrue(r.action().contains("rm -rf /tmp/x"));
    assertFalse(remote.inspect(new InspectRequest("t", nowhere, List.of("/"), true)).known());
  }

  @Test
  void aRehearsalChecksTheKeyAndTheKnownHostsEntryTheRealRunWillNeed(@TempDir Path dir)
      throws IOException {
    String key = "file:" + sandbox.dir.resolve("client_ed25519");
    String knownHosts = sandbox.knownHostsFor(dir, 1).toString();
    record Case(String keyRef, String knownHosts, String type, String message) {}
    List<Case> cases =
        List.of(
            new Case(
                "file:" + dir.resolve("no-such-key"),
                knownHosts,
                "SecretUnresolved",
                "no-such-key"),
            new Case(
                "env:CREWCHIEF_TEST_UNSET_KEY",
                knownHosts,
                "SecretUnresolved",
                "CREWCHIEF_TEST_UNSET_KEY"),
            new Case(
                key,
                dir.resolve("no-known-hosts").toString(),
                "SshConfigInvalid",
                "does not exist"),
            new Case(
                key,
                sandbox.dir.resolve("known_hosts").toString(),
                "SshConfigInvalid",
                "has no key for [127.0.0.1]:1 (host nowhere): add the host's key"));
    for (Case c : cases) {
      HostRef h = new HostRef("nowhere", "127.0.0.1", 1, "x", c.keyRef(), c.knownHosts());
      ApplicationFailure f =
          assertThrows(
              ApplicationFailure.class,
              () -> remote.runCommand(new CommandRequest("t", h, "true", true)),
              c.toString());
      assertEquals(c.type(), f.getType(), f.getOriginalMessage());
      assertTrue(f.getOriginalMessage().contains(c.message()), f.getOriginalMessage());
      assertTrue(f.isNonRetryable(), c.toString());
      ApplicationFailure proxied =
          assertThrows(
              ApplicationFailure.class,
              () ->
                  proxy.switchSite(
                      new SiteRequest("t", h, nginxConfig(), "x.example", null, true, null)),
              c.toString());
      assertEquals(c.type(), proxied.getType(), proxied.getOriginalMessage());
    }
  }

  @Test
  void aPortThatAcceptsButNeverSpeaksSshFailsWithinTheHandshakeBoundNamingTheHost(@TempDir Path dir)
      throws IOException {
    try (ServerSocket silent = new ServerSocket(0)) {
      int port = silent.getLocalPort();
      HostRef h =
          new HostRef(
              "silent",
              "127.0.0.1",
              port,
              sandbox.user(),
              "file:" + sandbox.dir.resolve("client_ed25519"),
              sandbox.knownHostsFor(dir, port).toString());
      RemoteHostActivitiesImpl bounded =
          new RemoteHostActivitiesImpl(
              new SshHosts(new SecretResolver(Map.of()), java.time.Duration.ofSeconds(2)));
      ApplicationFailure f =
          assertThrows(
              ApplicationFailure.class,
              () -> bounded.runCommand(new CommandRequest("t", h, "true", false)));
      assertEquals("SshUnreachable", f.getType(), f.getOriginalMessage());
      assertTrue(
          f.getOriginalMessage()
              .contains(
                  "127.0.0.1:"
                      + port
                      + " (host silent) accepted the connection but did not complete the SSH"
                      + " handshake within 2 s"),
          f.getOriginalMessage());
    }
  }

  @Test
  void syncUploadsOnlyWhatChanged(@TempDir Path src) throws IOException {
    Files.createDirectories(src.resolve("pkg/__pycache__"));
    Files.writeString(src.resolve("a.txt"), "one");
    Files.writeString(src.resolve("pkg/b.py"), "print('b')");
    Files.writeString(src.resolve("pkg/__pycache__/b.cpython.pyc"), "junk");
    String dest = sandbox.home() + "/sync-test-" + System.nanoTime();
    SyncRequest req =
        new SyncRequest("sync", host, src.toString(), dest, List.of("__pycache__", "*.pyc"), false);

    SyncResult first = remote.syncDirectory(req);
    assertEquals(List.of("a.txt", "pkg/b.py"), first.uploaded());

    SyncResult again = remote.syncDirectory(req);
    assertEquals(List.of(), again.uploaded());
    assertEquals(2, again.unchanged());

    run("chmod 400 " + dest + "/pkg/b.py");
    Files.writeString(src.resolve("pkg/b.py"), "print('b2')");
    SyncResult changed = remote.syncDirectory(req);
    assertEquals(List.of("pkg/b.py"), changed.uploaded());
    assertEquals("print('b2')", run("cat " + dest + "/pkg/b.py"));
    assertEquals("", run("ls " + dest + "/pkg | grep pycache || true").strip());
  }

  @Test
  void inspectAndArchiveThenDelete() {
    String base = sandbox.home() + "/archive-test-" + System.nanoTime();
    run("mkdir -p " + base + " && cd " + base + " && echo db > data.sqlite && echo log > app.log");
    PathFacts facts =
        remote.inspect(
            new InspectRequest(
                "i", host, List.of(base + "/data.sqlite", base + "/missing"), false));
    assertTrue(facts.known());
    assertEquals(List.of(base + "/data.sqlite"), facts.existing());

    String archive = base + "-archive/staging.tar.gz";
    ArchiveRequest req =
        new ArchiveRequest(
            "a", host, base, List.of("data.sqlite", "app.log", "absent.log"), archive, false);
    ActionResult r = remote.archiveAndDelete(req);
    assertTrue(r.output().contains("archived"), r.output());
    assertEquals("", run("ls " + base).strip());
    String listing = run("tar -tzf " + archive);
    assertTrue(listing.contains("data.sqlite") && listing.contains("app.log"), listing);
    assertEquals("db", run("tar -xzOf " + archive + " data.sqlite").strip());

    // A retry after the delete is a no-op that keeps the archive.
    assertTrue(remote.archiveAndDelete(req).output().contains("nothing left"));
    assertTrue(run("tar -tzf " + archive).contains("data.sqlite"));
  }

  @Test
  void nginxSiteSwitchReloadAndProbe() throws IOException {
    int appPort;
    try (ServerSocket s = new ServerSocket(0)) {
      appPort = s.getLocalPort();
    }
    String www = sandbox.home() + "/www-" + appPort;
    run(
        "mkdir -p "
            + www
            + " && echo hello-app-"
            + appPort
            + " > "
            + www
            + "/index.html && cd "
            + www
            + " && (setsid nohup python3 -m http.server "
            + appPort
            + " --bind 127.0.0.1 >/dev/null 2>&1 & echo $! > server.pid) ; for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:"
            + appPort
            + "/ && break; sleep 0.1; done");
    NginxConfig nginx = nginxConfig();
    String domain = "switch-" + appPort + ".test";
    ProbeRequest probe =
        new ProbeRequest(
            "p",
            host,
            "http://127.0.0.1:" + sandbox.nginxPort() + "/",
            domain,
            "hello-app-" + appPort,
            false);

    proxy.switchSite(new SiteRequest("attach", host, nginx, domain, appPort, false));
    assertTrue(proxy.probe(probe).output().startsWith("200"));

    proxy.switchSite(new SiteRequest("detach", host, nginx, domain, null, false));
    ApplicationFailure detached = assertThrows(ApplicationFailure.class, () -> proxy.probe(probe));
    assertEquals("ProbeFailed", detached.getType());
    assertTrue(
        detached
            .getOriginalMessage()
            .endsWith("; expected 200 containing 'hello-app-" + appPort + "'"),
        detached.getOriginalMessage());
    // A probe that expects the detached answer's status, and no text, passes.
    ActionResult status =
        proxy.probe(
            new ProbeRequest(
                "p",
                host,
                "http://127.0.0.1:" + sandbox.nginxPort() + "/",
                domain,
                null,
                false,
                503));
    assertTrue(status.output().startsWith("503 " + domain + " is not attached"), status.output());
    assertTrue(status.action().endsWith("expecting 503"), status.action());

    // A block nginx rejects is put back and fails non-retryable; the site keeps serving.
    proxy.switchSite(new SiteRequest("attach", host, nginx, domain, appPort, false));
    NginxConfig broken =
        new NginxConfig(
            nginx.sitesDir(),
            "127.0.0.1:notaport",
            nginx.pidFile(),
            nginx.testCommand(),
            nginx.reloadCommand(),
            nginx.probeUrl());
    ApplicationFailure rejected =
        assertThrows(
            ApplicationFailure.class,
            () -> proxy.switchSite(new SiteRequest("bad", host, broken, domain, appPort, false)));
    assertEquals("NginxConfigRejected", rejected.getType());
    assertTrue(rejected.isNonRetryable());
    assertTrue(proxy.probe(probe).output().contains("hello-app-" + appPort));
    run("kill $(cat " + www + "/server.pid)");
  }

  @Test
  void nginxSiteLinkSwitchesBetweenMaintenanceAndAppAndRevertsARejectedConfig() {
    NginxConfig nginx = nginxConfig();
    String avail = sandbox.home() + "/nginx/available-" + System.nanoTime();
    String domain = "atmo-" + System.nanoTime() + ".test";
    String listen = "listen 127.0.0.1:" + sandbox.nginxPort() + "; server_name " + domain + ";";
    run(
        "mkdir -p "
            + avail
            + " && printf '%s' 'server { "
            + listen
            + " location / { return 200 \"down for maintenance\\n\"; } }' > "
            + avail
            + "/default && printf '%s' 'server { "
            + listen
            + " location / { return 200 \"the app\\n\"; } }' > "
            + avail
            + "/proxy.conf && printf '%s' 'server { listen 127.0.0.1:notaport; }' > "
            + avail
            + "/broken.conf");
    String link = nginx.sitesDir() + "/" + domain + ".conf";
    ProbeRequest maintenance =
        new ProbeRequest("p", host, nginx.probeUrl(), domain, "down for maintenance", false);
    ProbeRequest app = new ProbeRequest("p", host, nginx.probeUrl(), domain, "the app", false);

    proxy.linkSite(new LinkSiteRequest("maint", host, nginx, link, avail + "/default", false));
    assertTrue(proxy.probe(maintenance).output().startsWith("200"));
    proxy.linkSite(new LinkSiteRequest("back", host, nginx, link, avail + "/proxy.conf", false));
    assertTrue(proxy.probe(app).output().startsWith("200"));
    // Again: already linked, only reloaded.
    proxy.linkSite(new LinkSiteRequest("back", host, nginx, link, avail + "/proxy.conf", false));
    assertTrue(proxy.probe(app).output().startsWith("200"));

    ApplicationFailure rejected =
        assertThrows(
            ApplicationFailure.class,
            () ->
                proxy.linkSite(
                    new LinkSiteRequest("bad", host, nginx, link, avail + "/broken.conf", false)));
    assertEquals("NginxConfigRejected", rejected.getType());
    assertTrue(rejected.isNonRetryable());
    assertTrue(proxy.probe(app).output().startsWith("200"), "the previous link is back");
    ApplicationFailure missing =
        assertThrows(
            ApplicationFailure.class,
            () ->
                proxy.linkSite(
                    new LinkSiteRequest("gone", host, nginx, link, avail + "/nope.conf", false)));
    assertEquals("SiteConfigMissing", missing.getType());
    assertTrue(
        proxy
            .linkSite(new LinkSiteRequest("rehearse", host, nginx, link, avail + "/default", true))
            .rehearsed());
    assertTrue(proxy.probe(app).output().startsWith("200"), "a dry run changes nothing");
    run("rm -f " + link + " && " + nginx.reloadCommand());
  }

  @Test
  void syncMirrorsTheSourceDeletingWhatItNoLongerHasButNeverWhatIsExcludedOrProtected(
      @TempDir Path src) throws IOException {
    Files.createDirectories(src.resolve("pkg"));
    Files.createDirectories(src.resolve("old/deeper"));
    Files.writeString(src.resolve("a.txt"), "one");
    Files.writeString(src.resolve("pkg/b.py"), "print('b')");
    Files.writeString(src.resolve("old/c.py"), "c");
    Files.writeString(src.resolve("old/deeper/d.py"), "d");
    Files.writeString(src.resolve("pyproject.toml"), "[project]");
    // A developer's own database in the checkout is not the host's: never sent.
    Files.writeString(src.resolve("pkg/dev.sqlite"), "local data");
    String dest = sandbox.home() + "/mirror-test-" + System.nanoTime();
    List<String> excludes = List.of("__pycache__", "*.pyc", "build");
    List<String> protect = List.of("*.sqlite", "*.log", "data/uploads");
    SyncRequest req =
        new SyncRequest(
            "sync", host, src.toString(), dest, excludes, false, true, protect, List.of());

    SyncResult first = remote.syncDirectory(req);
    assertEquals(
        List.of("a.txt", "old/c.py", "old/deeper/d.py", "pkg/b.py", "pyproject.toml"),
        first.uploaded());
    assertEquals(List.of(), first.deleted());
    // What the app and the install made on the host, none of it in the source.
    run(
        "cd "
            + dest
            + " && mkdir -p data/uploads build/lib pkg/__pycache__ && echo rows > app.sqlite && echo"
            + " line > pkg/app.log && echo jpg > data/uploads/photo.jpg && echo x > build/lib/x.py"
            + " && echo pyc > pkg/__pycache__/b.cpython-311.pyc && echo stray > stray.txt");

    Files.delete(src.resolve("old/deeper/d.py"));
    Files.delete(src.resolve("old/deeper"));
    Files.delete(src.resolve("old/c.py"));
    Files.delete(src.resolve("old"));
    Files.delete(src.resolve("pyproject.toml"));
    SyncResult second = remote.syncDirectory(req);
    assertEquals(
        List.of("old/c.py", "old/deeper/d.py", "pyproject.toml", "stray.txt"), second.deleted());
    assertEquals(List.of(), second.uploaded());
    assertEquals(
        "uploaded 0 changed files (2 unchanged) from "
            + src
            + " to "
            + host.describe()
            + ":"
            + dest
            + "; deleted 4 no longer in the source (old/c.py, old/deeper/d.py, pyproject.toml,"
            + " stray.txt); kept 5 not in the source that match __pycache__, *.pyc, build,"
            + " *.sqlite, *.log, data/uploads",
        second.action());
    assertEquals(
        "a.txt\napp.sqlite\nbuild/lib/x.py\ndata/uploads/photo.jpg\npkg/__pycache__/b.cpython-311.pyc\n"
            + "pkg/app.log\npkg/b.py",
        run("cd " + dest + " && find . -type f | sed 's#^./##' | sort").strip());
    assertEquals(
        "", run("cd " + dest + " && ls -d old 2>/dev/null || true").strip(), "emptied dirs go");
    assertEquals("rows", run("cat " + dest + "/app.sqlite").strip());

    // Again: nothing left to delete. And a request of before the mirror deletes nothing.
    SyncResult third = remote.syncDirectory(req);
    assertTrue(third.action().contains("; deleted nothing; kept 5"), third.action());
    run("echo again > " + dest + "/stray.txt");
    SyncResult old =
        remote.syncDirectory(new SyncRequest("sync", host, src.toString(), dest, excludes, false));
    assertEquals(List.of(), old.deleted());
    assertEquals("again", run("cat " + dest + "/stray.txt").strip());
  }

  @Test
  void aSourceWithoutWhatTheLayoutNeedsIsRefusedBeforeAnythingIsSent(@TempDir Path src)
      throws IOException {
    Files.writeString(src.resolve("staging.ini"), "[server:main]\nport = 1\n");
    Files.createDirectories(src.resolve("etc"));
    String dest = sandbox.home() + "/refused-test-" + System.nanoTime();
    List<SourceRequirement> required =
        List.of(
            new SourceRequirement(List.of("pyproject.toml", "setup.py"), "the Python project"),
            new SourceRequirement(List.of("staging.ini"), "the staging config"),
            new SourceRequirement(
                List.of("etc/supervisord.conf"),
                "supervisor's config: set randopony.supervisorConf to its path"));
    for (boolean dryRun : new boolean[] {true, false}) {
      SyncRequest req =
          new SyncRequest(
              "sync", host, src.toString(), dest, List.of(), dryRun, true, List.of(), required);
      ApplicationFailure f =
          assertThrows(ApplicationFailure.class, () -> remote.syncDirectory(req));
      assertEquals("SourceIncomplete", f.getType());
      assertTrue(f.isNonRetryable());
      assertEquals(
          "source directory "
              + src
              + " has no pyproject.toml or setup.py (the Python project); no etc/supervisord.conf"
              + " (supervisor's config: set randopony.supervisorConf to its path). Nothing was"
              + " uploaded.",
          f.getOriginalMessage());
    }
    assertEquals("absent", run("test -e " + dest + " || echo absent").strip());
  }

  @Test
  void aToolNotOnTheSessionsPathIsRemoteToolMissingNamingTheToolAndTheSetting() {
    String fix = "set app.pserve to the absolute path of pserve on the host";
    Map<String, String> tools =
        Map.of("pserve", fix, "/opt/nowhere/bin/python3", "set randopony.python");
    record Case(String command, String message) {}
    for (Case c :
        List.of(
            new Case(
                "cd /tmp && pserve staging.ini",
                "pserve was not found on "
                    + host.describe()
                    + " while step 'start' ran (exit 127: /bin/bash: line 1: pserve: command not"
                    + " found): "
                    + fix),
            new Case(
                "/opt/nowhere/bin/python3 -m venv /tmp/v",
                "/opt/nowhere/bin/python3 was not found on "
                    + host.describe()
                    + " while step 'start' ran (exit 127: /bin/bash: line 1:"
                    + " /opt/nowhere/bin/python3: No such file or directory): set"
                    + " randopony.python"),
            new Case(
                "no-such-tool-here --version",
                "no-such-tool-here was not found on "
                    + host.describe()
                    + " while step 'start' ran (exit 127: /bin/bash: line 1: no-such-tool-here:"
                    + " command not found): install it there, or give its absolute path in the setting"
                    + " that runs it (a non-interactive SSH session's PATH is not a login"
                    + " shell's)"))) {
      ApplicationFailure f =
          assertThrows(
              ApplicationFailure.class,
              () ->
                  remote.runCommand(new CommandRequest("start", host, c.command(), false, tools)));
      assertEquals("RemoteToolMissing", f.getType(), f.getOriginalMessage());
      assertTrue(f.isNonRetryable());
      assertEquals(c.message(), f.getOriginalMessage());
    }
  }

  @Test
  void nginxNotOnTheSessionsPathNamesTheSettingToChange() {
    // A non-interactive SSH session's PATH has no /usr/sbin here, as on many hosts: a bare
    // `nginx` is not found, and nothing is left changed.
    assertFalse(run("echo $PATH").contains("/usr/sbin"), run("echo $PATH"));
    NginxConfig full = nginxConfig();
    NginxConfig bare =
        new NginxConfig(
            full.sitesDir(),
            full.listen(),
            full.pidFile(),
            full.testCommand().replace("/usr/sbin/nginx", "nginx"),
            full.reloadCommand().replace("/usr/sbin/nginx", "nginx"),
            full.probeUrl());
    String domain = "path-" + System.nanoTime() + ".test";
    ApplicationFailure f =
        assertThrows(
            ApplicationFailure.class,
            () ->
                proxy.switchSite(
                    new SiteRequest(
                        "attach", host, bare, domain, 1, false, null, "randopony.nginx")));
    assertEquals("RemoteToolMissing", f.getType(), f.getOriginalMessage());
    assertTrue(f.isNonRetryable());
    assertEquals(
        "nginx was not found on "
            + host.describe()
            + " while switching "
            + domain
            + " (exit 127: /bin/bash: line 10: nginx: command not found): give the tool's absolute path"
            + " in randopony.nginx.testCommand and randopony.nginx.reloadCommand (e.g."
            + " /usr/sbin/nginx ...): a non-interactive SSH session's PATH is not a login shell's,"
            + " and often lacks /usr/sbin",
        f.getOriginalMessage());
    assertEquals(
        "",
        run("ls " + full.sitesDir() + " | grep " + domain + " || true").strip(),
        "the server block is taken back");
  }

  NginxConfig nginxConfig() {
    String prefix = sandbox.home() + "/nginx";
    String base =
        "/usr/sbin/nginx -p "
            + prefix
            + "/ -e "
            + prefix
            + "/logs/error.log -c "
            + prefix
            + "/conf/nginx.conf";
    return new NginxConfig(
        prefix + "/sites",
        "127.0.0.1:" + sandbox.nginxPort(),
        prefix + "/nginx.pid",
        base + " -t",
        base + " -s reload",
        "http://127.0.0.1:" + sandbox.nginxPort() + "/");
  }
}
