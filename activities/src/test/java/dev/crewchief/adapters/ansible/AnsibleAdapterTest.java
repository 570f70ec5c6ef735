package dev.crewchief.adapters.ansible;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.crewchief.activities.AnsibleActivities;
import dev.crewchief.activities.AnsibleActivities.HostRecap;
import dev.crewchief.activities.AnsibleActivities.InventoryChange;
import dev.crewchief.activities.AnsibleActivities.InventoryRequest;
import dev.crewchief.activities.AnsibleActivities.PlaybookRequest;
import dev.crewchief.activities.AnsibleActivities.PlaybookResult;
import dev.crewchief.activities.Progress;
import dev.crewchief.adapters.Sandbox;
import dev.crewchief.adapters.secrets.SecretResolver;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Ansible adapter running ansible-core's real {@code ansible-playbook} (from the tools venv of
 * deploy/test.sh) over SSH against the sandbox host, with its key from a {@code file:} reference
 * and its host key checked; and the inventory editor on real files. Four playbook runs in all:
 * Ansible takes a second or two to start.
 */
class AnsibleAdapterTest {
  @TempDir static Path base;
  static Sandbox sandbox;
  static Path project;
  static Path tempRoot;
  static String program;
  static String keyRef;
  static String keyText;
  static Path knownHosts;
  static AnsibleActivitiesImpl ansible;

  @BeforeAll
  static void up() throws IOException {
    sandbox = Sandbox.get();
    Path tools = Path.of(System.getenv().getOrDefault("CREWCHIEF_TOOLS", "/opt/crewchief/tools"));
    Path bin = tools.resolve("bin/ansible-playbook");
    assertTrue(
        Files.isExecutable(bin), bin + " is missing: deploy/test.sh installs ansible-core there");
    program = bin.toString();
    keyRef = "file:" + sandbox.dir.resolve("client_ed25519");
    keyText = Files.readString(sandbox.dir.resolve("client_ed25519"));
    knownHosts = sandbox.dir.resolve("known_hosts");

    // The deployment checkout: an inventory as METASPACE's env/prod/hosts, and the playbooks.
    project = Files.createDirectory(base.resolve("checkout"));
    Files.createDirectories(project.resolve("env/prod"));
    Files.writeString(
        project.resolve("env/prod/hosts"),
        "# production\n[webservers]\n"
            // Not where the host is: the run below first points the inventory at it.
            + "web-1 ansible_host=192.0.2.10 ansible_port="
            + sandbox.sshPort()
            + " ansible_python_interpreter=/usr/bin/python3\n");
    // An ansible.cfg as many deployment repositories have: the adapter must override it.
    Files.writeString(
        project.resolve("ansible.cfg"),
        "[defaults]\nhost_key_checking = False\nretry_files_enabled = True\n");
    Files.writeString(
        project.resolve("site.yml"),
        """
        - hosts: webservers
          gather_facts: false
          tasks:
            - name: write the release marker
              copy:
                dest: "{{ target_dir }}/release-{{ run_id }}.txt"
                content: "release {{ version }} on {{ inventory_hostname }}\\n"
            - name: record the remote user
              command: sh -c 'id -un > {{ target_dir }}/user-{{ run_id }}.txt'
        """);
    Files.writeString(
        project.resolve("fail.yml"),
        """
        - hosts: webservers
          gather_facts: false
          tasks:
            - name: check the schema version
              command: sh -c 'echo "schema 41 is older than 42" >&2; exit 3'
            - name: never reached
              command: /bin/true
        """);
    Files.writeString(
        project.resolve("slow.yml"),
        """
        - hosts: webservers
          gather_facts: false
          tasks:
            - name: wait for the migration
              command: sleep 60
        """);
    tempRoot = Files.createDirectory(base.resolve("tmp"));
    ansible = new AnsibleActivitiesImpl(new SecretResolver(Map.of()), tempRoot, System.getenv());
  }

  static PlaybookRequest request(String playbook, Map<String, String> vars, Path knownHosts) {
    return new PlaybookRequest(
        "deploy web",
        program,
        project.toString(),
        playbook,
        "env/prod/hosts",
        "web-1",
        vars,
        sandbox.user(),
        keyRef,
        knownHosts.toString(),
        false);
  }

  static String runId() {
    return Long.toString(System.nanoTime());
  }

  @Test
  void runsThePlaybookOverSshAndReportsTheRecap() throws IOException {
    // Point the inventory at the sandbox first, as the runbook's fork-and-swap does with the new
    // VM's address: the run below only reaches the host if Ansible reads the edited line.
    InventoryChange point =
        ansible.pointInventory(
            new InventoryRequest(
                "point",
                project.resolve("env/prod/hosts").toString(),
                "web-1",
                "127.0.0.1",
                false));
    assertTrue(point.changed());
    assertEquals("192.0.2.10", point.previous());

    String id = runId();
    Path home = sandbox.home();
    List<Progress> heartbeats = new CopyOnWriteArrayList<>();
    PlaybookResult r =
        inActivity(
            heartbeats,
            a ->
                a.runPlaybook(
                    request(
                        "site.yml",
                        Map.of("version", "1.7.6", "run_id", id, "target_dir", home.toString()),
                        knownHosts)));

    assertFalse(r.rehearsed());
    assertEquals(List.of(new HostRecap("web-1", 2, 2, 0, 0, 0)), r.recap());
    // What the play did on the host, read back there.
    assertEquals(
        "release 1.7.6 on web-1\n", Files.readString(home.resolve("release-" + id + ".txt")));
    assertEquals(sandbox.user() + "\n", Files.readString(home.resolve("user-" + id + ".txt")));
    assertTrue(r.outputTail().contains("TASK [record the remote user]"), r.outputTail());
    assertTrue(r.outputTail().contains("PLAY RECAP"), r.outputTail());
    assertTrue(r.command().contains("ANSIBLE_HOST_KEY_CHECKING=True"), r.command());
    assertTrue(r.command().contains("--private-key " + tempRoot), r.command());
    assertFalse(heartbeats.isEmpty());
    assertNoKeyIn(r.toString() + heartbeats);
    // The run's private directory (the key's temp file with it) is gone, and no .retry file or
    // ssh master is left from it.
    assertEquals(List.of(), list(tempRoot));
    assertFalse(Files.exists(project.resolve("site.retry")));
    waitFor(() -> processesMentioning(tempRoot.toString()).isEmpty(), "ssh masters to exit");

    // Back to where it was: the revert the runbook asks for at the end.
    InventoryChange revert =
        ansible.pointInventory(
            new InventoryRequest(
                "revert",
                project.resolve("env/prod/hosts").toString(),
                "web-1",
                "192.0.2.10",
                false));
    assertTrue(revert.changed());
    assertEquals("127.0.0.1", revert.previous());
  }

  @Test
  void aFailingTaskIsPlaybookFailedWithTheTaskAndTheRecap() throws IOException {
    Path hosts = pointedInventory();
    ApplicationFailure f =
        assertFailure(
            "PlaybookFailed",
            () ->
                ansible.runPlaybook(
                    new PlaybookRequest(
                        "migrate",
                        program,
                        project.toString(),
                        "fail.yml",
                        project.relativize(hosts).toString(),
                        null,
                        Map.of(),
                        sandbox.user(),
                        keyRef,
                        knownHosts.toString(),
                        false)));
    String m = f.getOriginalMessage();
    assertTrue(f.isNonRetryable());
    assertTrue(m.contains("TASK [check the schema version] fatal: [web-1]: FAILED!"), m);
    assertTrue(m.contains("schema 41 is older than 42"), m);
    assertTrue(m.contains("rc: 3"), m);
    assertTrue(m.contains("web-1 ok=0 changed=0 unreachable=0 failed=1"), m);
    assertFalse(m.contains("never reached"), m);
    assertNoKeyIn(m);
    assertEquals(List.of(), list(tempRoot));
  }

  @Test
  void aHostWhoseKeyIsNotInKnownHostsIsNotConnectedTo() throws IOException {
    Path hosts = pointedInventory();
    // known_hosts with the sandbox's key, but for another port: nothing known for this host. The
    // project's ansible.cfg says host_key_checking = False; the adapter's settings win.
    Path dir = Files.createTempDirectory(base, "kh-");
    Path other = sandbox.knownHostsFor(dir, sandbox.sshPort() + 1);
    int commandsBefore = sandbox.commandsRun().size();
    ApplicationFailure f =
        assertFailure(
            "PlaybookFailed",
            () ->
                ansible.runPlaybook(
                    new PlaybookRequest(
                        "deploy web",
                        program,
                        project.toString(),
                        "site.yml",
                        hosts.toString(),
                        "web-1",
                        Map.of("version", "1", "run_id", runId(), "target_dir", "/tmp"),
                        sandbox.user(),
                        keyRef,
                        other.toString(),
                        false)));
    String m = f.getOriginalMessage();
    assertTrue(m.contains("UNREACHABLE!"), m);
    assertTrue(m.contains("Host key verification failed"), m);
    assertTrue(m.contains("unreachable=1"), m);
    assertTrue(m.contains(other.toString()), m);
    // Nothing ran on the host: the connection ended before the login.
    assertEquals(commandsBefore, sandbox.commandsRun().size());
  }

  @Test
  void aCancelledRunStopsAnsibleAndTheProcessesItStarted() throws Exception {
    Path hosts = pointedInventory();
    List<Progress> heartbeats = new CopyOnWriteArrayList<>();
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(ansible);
      env.setActivityHeartbeatListener(Progress.class, heartbeats::add);
      AnsibleActivities stub = env.newActivityStub(AnsibleActivities.class, options());
      CompletableFuture<PlaybookResult> run =
          CompletableFuture.supplyAsync(
              () ->
                  stub.runPlaybook(
                      new PlaybookRequest(
                          "migrate",
                          program,
                          project.toString(),
                          "slow.yml",
                          hosts.toString(),
                          null,
                          null,
                          sandbox.user(),
                          keyRef,
                          knownHosts.toString(),
                          false)));
      // The task being run is what the heartbeats say.
      waitFor(
          () ->
              heartbeats.stream()
                  .anyMatch(h -> "TASK [wait for the migration]".equals(h.message())),
          "a heartbeat naming the task");
      Progress p =
          heartbeats.stream()
              .filter(h -> "TASK [wait for the migration]".equals(h.message()))
              .findFirst()
              .orElseThrow();
      assertEquals(1, p.done());
      assertEquals(0, p.total());
      env.requestCancelActivity();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> run.get(60, TimeUnit.SECONDS));
      assertTrue(e.getCause() != null, e.toString());
    } finally {
      env.close();
    }
    waitFor(() -> processesMentioning("slow.yml").isEmpty(), "ansible-playbook to be stopped");
    waitFor(
        () -> processesMentioning(tempRoot.toString()).isEmpty(),
        "its ssh clients and masters to be stopped");
    waitFor(() -> list(tempRoot).isEmpty(), "its private directory to be removed");
    assertNoKeyIn(heartbeats.toString());
  }

  @Test
  void aRehearsalShowsTheCommandAndRunsNothing() {
    int commandsBefore = sandbox.commandsRun().size();
    PlaybookRequest real =
        request(
            "site.yml",
            Map.of("version", "1.7.6 final", "run_id", "x", "target_dir", "/tmp"),
            knownHosts);
    PlaybookRequest dry =
        new PlaybookRequest(
            real.step(),
            real.ansiblePlaybook(),
            real.workDir(),
            real.playbook(),
            real.inventory(),
            real.limit(),
            real.extraVars(),
            real.remoteUser(),
            real.privateKeyRef(),
            real.knownHosts(),
            true);
    PlaybookResult r = ansible.runPlaybook(dry);
    assertTrue(r.rehearsed());
    assertEquals(List.of(), r.recap());
    String c = r.command();
    assertTrue(c.startsWith("cd " + project + " && "), c);
    assertTrue(c.contains("ANSIBLE_HOST_KEY_CHECKING=True"), c);
    assertTrue(c.contains("-o UserKnownHostsFile=" + knownHosts), c);
    assertTrue(c.contains("StrictHostKeyChecking=yes"), c);
    assertTrue(
        c.endsWith(
            program
                + " -i env/prod/hosts --limit web-1 -e"
                + " '{\"run_id\":\"x\",\"target_dir\":\"/tmp\",\"version\":\"1.7.6 final\"}'"
                + " -u "
                + sandbox.user()
                + " --private-key '<private temp dir>/key' site.yml"),
        c);
    assertEquals(commandsBefore, sandbox.commandsRun().size());
    assertEquals(List.of(), list(tempRoot));

    // What a real run could not do is found by the rehearsal too.
    assertFailure(
        "AnsibleMissing",
        () ->
            ansible.runPlaybook(
                new PlaybookRequest(
                    "x",
                    "/nonexistent/ansible-playbook",
                    project.toString(),
                    "site.yml",
                    "env/prod/hosts",
                    null,
                    null,
                    null,
                    keyRef,
                    knownHosts.toString(),
                    true)));
    assertFailure(
        "AnsibleMissing",
        () ->
            new AnsibleActivitiesImpl(
                    new SecretResolver(Map.of()), tempRoot, Map.of("PATH", "/nonexistent"))
                .runPlaybook(
                    new PlaybookRequest(
                        "x",
                        null,
                        project.toString(),
                        "site.yml",
                        "env/prod/hosts",
                        null,
                        null,
                        null,
                        keyRef,
                        knownHosts.toString(),
                        true)));
    assertFailure(
        "InvalidInput",
        () ->
            ansible.runPlaybook(
                new PlaybookRequest(
                    "x",
                    program,
                    project.toString(),
                    "site.yml",
                    "env/prod/hosts",
                    null,
                    null,
                    null,
                    keyRef,
                    null,
                    true)));
    assertFailure(
        "InvalidInput",
        () ->
            ansible.runPlaybook(
                new PlaybookRequest(
                    "x",
                    program,
                    project.toString(),
                    "missing.yml",
                    "env/prod/hosts",
                    null,
                    null,
                    null,
                    keyRef,
                    knownHosts.toString(),
                    true)));
    assertFailure(
        "SecretUnresolved",
        () ->
            ansible.runPlaybook(
                new PlaybookRequest(
                    "x",
                    program,
                    project.toString(),
                    "site.yml",
                    "env/prod/hosts",
                    null,
                    null,
                    null,
                    "file:/nonexistent/key",
                    knownHosts.toString(),
                    true)));
  }

  // ---------------------------------------------------------------------------------------------
  // pointInventory, on files

  static final String INVENTORY =
      "# METASPACE production \u00e9\n"
          + "[webservers]\n"
          + "web-1 ansible_host=10.0.0.5 ansible_user=ubuntu   # the main VM\r\n"
          + "web-2\tansible_host=\"10.0.0.6\"\n"
          + "web-10 ansible_host=10.0.0.10\n"
          + "\n"
          + "[webservers:vars]\n"
          + "ansible_host=not-a-host-line\n"
          + "[all:children]\n"
          + "webservers\n"
          + "[db]\n"
          + "web-1\n"
          + "db-1 ansible_user=postgres # no address: the name is the address\n";

  static Path inventory(String text) throws IOException {
    Path dir = Files.createTempDirectory(base, "inventory-");
    Path f = dir.resolve("hosts");
    // ISO-8859-1: the é is one byte that is not UTF-8, and must survive the edit as it is.
    Files.write(f, text.getBytes(StandardCharsets.ISO_8859_1));
    return f;
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  static InventoryChange point(Path f, String host, String address) {
    return ansible.pointInventory(
        new InventoryRequest("point", f.toString(), host, address, false));
  }

  @Test
  void pointsTheHostAndKeepsEveryOtherByte() throws IOException {
    Path f = inventory(INVENTORY);
    InventoryChange c = point(f, "web-1", "203.0.113.7");
    assertEquals(
        new InventoryChange(f.toString(), "web-1", "10.0.0.5", "203.0.113.7", true, false), c);
    assertArrayEquals(
        bytes(INVENTORY.replace("ansible_host=10.0.0.5", "ansible_host=203.0.113.7")),
        Files.readAllBytes(f));

    // Again: nothing to do, and the address it has is the previous one.
    InventoryChange again = point(f, "web-1", "203.0.113.7");
    assertFalse(again.changed());
    assertEquals("203.0.113.7", again.previous());

    // Reverting with the first change's previous address gives the file back as it was.
    assertTrue(point(f, "web-1", c.previous()).changed());
    assertArrayEquals(bytes(INVENTORY), Files.readAllBytes(f));

    // A quoted value is replaced whole, and web-1 is not web-10.
    point(f, "web-2", "203.0.113.8");
    assertArrayEquals(
        bytes(INVENTORY.replace("ansible_host=\"10.0.0.6\"", "ansible_host=203.0.113.8")),
        Files.readAllBytes(f));
  }

  @Test
  void aHostWithoutAnAddressGetsOneAndRevertsToNone() throws IOException {
    Path f = inventory(INVENTORY);
    InventoryChange c = point(f, "db-1", "203.0.113.9");
    assertTrue(c.changed());
    assertNull(c.previous());
    assertArrayEquals(
        bytes(INVENTORY.replace("db-1 ansible_user", "db-1 ansible_host=203.0.113.9 ansible_user")),
        Files.readAllBytes(f));
    assertTrue(point(f, "db-1", c.previous()).changed());
    assertArrayEquals(bytes(INVENTORY), Files.readAllBytes(f));
  }

  @Test
  void aRehearsedPointChangesNothing() throws IOException {
    Path f = inventory(INVENTORY);
    InventoryChange c =
        ansible.pointInventory(
            new InventoryRequest("point", f.toString(), "web-1", "203.0.113.7", true));
    assertTrue(c.rehearsed());
    assertTrue(c.changed());
    assertEquals("10.0.0.5", c.previous());
    assertArrayEquals(bytes(INVENTORY), Files.readAllBytes(f));
  }

  @Test
  void aMissingHostOrFileOrAnAmbiguousOneIsInventoryInvalid() throws IOException {
    Path f = inventory(INVENTORY);
    ApplicationFailure missing =
        assertFailure("InventoryInvalid", () -> point(f, "web-3", "203.0.113.7"));
    assertTrue(missing.isNonRetryable());
    assertTrue(missing.getOriginalMessage().contains("web-3"), missing.getOriginalMessage());
    // A group listed under [all:children] is no host.
    assertFailure("InventoryInvalid", () -> point(f, "webservers", "1.2.3.4"));
    assertFailure(
        "InventoryInvalid", () -> point(f.resolveSibling("nonexistent"), "web-1", "1.2.3.4"));
    Path twice = inventory("[a]\nweb-1 ansible_host=1.1.1.1\n[b]\nweb-1 ansible_host=2.2.2.2\n");
    assertFailure("InventoryInvalid", () -> point(twice, "web-1", "3.3.3.3"));
    // host_vars next to the inventory would win over the line: the edit would change nothing.
    Path hv = inventory(INVENTORY);
    Files.createDirectories(hv.resolveSibling("host_vars"));
    Files.writeString(hv.resolveSibling("host_vars/web-1.yml"), "ansible_host: 10.9.9.9\n");
    assertFailure("InventoryInvalid", () -> point(hv, "web-1", "3.3.3.3"));
    assertArrayEquals(bytes(INVENTORY), Files.readAllBytes(hv));
    assertFailure("InvalidInput", () -> point(f, "web-1", "1.2.3.4 evil=1"));
    assertFailure(
        "InvalidInput",
        () ->
            ansible.pointInventory(
                new InventoryRequest("point", "relative/hosts", "web-1", "1.2.3.4", false)));
  }

  // ---------------------------------------------------------------------------------------------

  /** A copy of the project's inventory pointed at the sandbox, for runs of their own. */
  static Path pointedInventory() throws IOException {
    Path f = Files.createTempFile(project.resolve("env/prod"), "hosts-", "");
    Files.writeString(
        f,
        "[webservers]\nweb-1 ansible_host=127.0.0.1 ansible_port="
            + sandbox.sshPort()
            + " ansible_python_interpreter=/usr/bin/python3\n");
    return f;
  }

  interface Call<T> {
    T call(AnsibleActivities a);
  }

  static ActivityOptions options() {
    return ActivityOptions.newBuilder()
        .setStartToCloseTimeout(Duration.ofMinutes(2))
        .setHeartbeatTimeout(Duration.ofSeconds(2))
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .build();
  }

  static <T> T inActivity(List<Progress> heartbeats, Call<T> call) {
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(ansible);
      env.setActivityHeartbeatListener(Progress.class, heartbeats::add);
      return call.call(env.newActivityStub(AnsibleActivities.class, options()));
    } finally {
      env.close();
    }
  }

  static void assertNoKeyIn(String text) {
    for (String line : keyText.split("\n")) {
      if (line.length() > 20 && !line.startsWith("-----")) {
        assertFalse(text.contains(line), "the private key appears in: " + text);
      }
    }
  }

  static List<Path> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<ProcessHandle> processesMentioning(String text) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(text)).orElse(false))
        .filter(p -> p.pid() != ProcessHandle.current().pid())
        .toList();
  }

  static void waitFor(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static ApplicationFailure assertFailure(String type, Executable call) {
    ApplicationFailure f = assertThrows(ApplicationFailure.class, call);
    assertEquals(type, f.getType(), f.getOriginalMessage());
    return f;
  }
}
