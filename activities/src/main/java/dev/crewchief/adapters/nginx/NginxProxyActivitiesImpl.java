package dev.crewchief.adapters.nginx;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.ActionResult;
import dev.crewchief.activities.HostRef;
import dev.crewchief.activities.LinkSiteRequest;
import dev.crewchief.activities.ProbeRequest;
import dev.crewchief.activities.ProxyActivities;
import dev.crewchief.activities.SiteRequest;
import dev.crewchief.activities.SwitchResult;
import dev.crewchief.adapters.ssh.ExecResult;
import dev.crewchief.adapters.ssh.SshHosts;
import dev.crewchief.adapters.ssh.TextReplacement;
import dev.crewchief.adapters.ssh.ToolMissing;
import dev.crewchief.config.NginxConfig;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ProxyActivities} for an nginx reached over SSH: one server block file per domain in the
 * sites directory, tested with nginx's own check, then a reload (never a restart, so open
 * connections finish). After a reload the old workers keep serving the old config until they exit,
 * so the switch waits for them before it reports done. A switch with a probe is watched while it
 * happens and reports the downtime it caused (see {@link SwitchWatch} for what that means for each
 * kind of switch). The upstream switch edits a proxy config the adapter did not write (the old
 * server's address replaced by the new one's) and refuses any reload command that would restart or
 * stop nginx.
 */
public final class NginxProxyActivitiesImpl implements ProxyActivities {
  private static final Logger log = LoggerFactory.getLogger(NginxProxyActivitiesImpl.class);
  private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?");
  private static final int REJECTED = 3;
  private static final int MISSING = 4;

  /** nginx's test or reload command was not found (the shell's 127, passed on as this). */
  private static final int TOOL_MISSING = 6;

  private final SshHosts ssh;

  public NginxProxyActivitiesImpl(SshHosts ssh) {
    this.ssh = ssh;
  }

  /** The server block for a domain: proxied to the app, or answering 503 when detached. */
  static String serverBlock(NginxConfig nginx, String domain, Integer port) {
    String body =
        port == null
            ? "    location / { return 503 \"" + domain + " is not attached to any app\\n\"; }\n"
            : "    location / {\n"
                + "        proxy_pass http://127.0.0.1:"
                + port
                + ";\n"
                + "        proxy_set_header Host $host;\n"
                + "    }\n";
    return "# managed by crewchief: "
        + (port == null ? "detached" : "attached to port " + port)
        + "\nserver {\n    listen "
        + nginx.listen()
        + ";\n    server_name "
        + domain
        + ";\n"
        + body
        + "}\n";
  }

  @Override
  public SwitchResult switchSite(SiteRequest r) {
    NginxConfig nginx = r.nginx();
    if (nginx == null
        || nginx.sitesDir() == null
        || nginx.reloadCommand() == null
        || nginx.testCommand() == null
        || nginx.listen() == null
        || nginx.pidFile() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "nginx settings need sitesDir, listen, pidFile, testCommand and reloadCommand",
          "InvalidInput");
    }
    if (r.domain() == null || !DOMAIN.matcher(r.domain()).matches()) {
      throw ApplicationFailure.newNonRetryableFailure(
          "'" + r.domain() + "' is not a domain name", "InvalidInput");
    }
    SwitchWatch watch = SwitchWatch.of(r.probe());
    String file = nginx.sitesDir() + "/" + r.domain() + ".conf";
    String block = serverBlock(nginx, r.domain(), r.upstreamPort());
    String action =
        "on "
            + r.host().describe()
            + ": "
            + (r.upstreamPort() == null
                ? "detach " + r.domain() + " (503)"
                : "point " + r.domain() + " at 127.0.0.1:" + r.upstreamPort())
            + " in "
            + file
            + ", `"
            + nginx.testCommand()
            + "`, `"
            + nginx.reloadCommand()
            + "`"
            + (watch == null ? "" : ", " + watch.describe());
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new SwitchResult(action, true, block, null);
    }
    String f = q(file);
    String cmd =
        "mkdir -p "
            + q(nginx.sitesDir())
            + " && if [ -f "
            + f
            + " ]; then cp -p "
            + f
            + " "
            + f
            + ".bak; else rm -f "
            + f
            + ".bak; fi && printf '%s' "
            + q(block)
            + " > "
            + f
            + ".new && mv "
            + f
            + ".new "
            + f
            + " && "
            + testThenReload(
                nginx,
                "if [ -f "
                    + f
                    + ".bak ]; then mv "
                    + f
                    + ".bak "
                    + f
                    + "; else rm -f "
                    + f
                    + "; fi",
                "rm -f " + f + ".bak");
    return change(
        r.host(),
        nginx,
        r.settings(),
        cmd,
        watch,
        action,
        "nginx rejected the new server block for "
            + r.domain()
            + " (the previous one is back in place)",
        "switching " + r.domain());
  }

  /**
   * Shell: nginx's own test; when it fails, {@code revert} and exit {@link #REJECTED} with its
   * message; otherwise {@code keep}, a reload, and a wait until the old worker processes are gone,
   * since for a moment after a reload they still answer with the old config.
   */
  static String testThenReload(NginxConfig nginx, String revert, String keep) {
    // In braces, so that a command chained before it with && (writing the block) skips it all.
    return "{ "
        + nginx.testCommand()
        + " 2>/tmp/crewchief-nginx-test.$$; cw_test=$?; if [ $cw_test -ne 0 ]; then cat"
        + " /tmp/crewchief-nginx-test.$$ >&2; "
        + revert
        + "; rm -f /tmp/crewchief-nginx-test.$$; [ $cw_test -eq 127 ] && exit "
        + TOOL_MISSING
        + "; exit "
        + REJECTED
        + "; fi; rm -f /tmp/crewchief-nginx-test.$$; "
        + keep
        + "; old=$(pgrep -P \"$(cat "
        + q(nginx.pidFile())
        + ")\" | xargs); "
        + nginx.reloadCommand()
        + " || { cw_reload=$?; [ $cw_reload -eq 127 ] && exit "
        + TOOL_MISSING
        + "; exit 1; }; i=0; for p in $old; do while kill -0 $p 2>/dev/null; do i=$((i+1)); [ $i"
        + " -gt 200 ] && break; sleep 0.05; done; done; echo reloaded; }";
  }

  @Override
  public SwitchResult linkSite(LinkSiteRequest r) {
    NginxConfig nginx = r.nginx();
    if (nginx == null
        || nginx.reloadCommand() == null
        || nginx.testCommand() == null
        || nginx.pidFile() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "nginx settings need pidFile, testCommand and reloadCommand", "InvalidInput");
    }
    for (String p : new String[] {r.link(), r.target()}) {
      if (p == null || !p.startsWith("/") || p.contains("..")) {
        throw ApplicationFailure.newNonRetryableFailure(
            "'" + p + "' must be an absolute path (the site link and its target)", "InvalidInput");
      }
    }
    SwitchWatch watch = SwitchWatch.of(r.probe());
    String action =
        "on "
            + r.host().describe()
            + ": ln -sfn "
            + r.target()
            + " "
            + r.link()
            + ", `"
            + nginx.testCommand()
            + "`, `"
            + nginx.reloadCommand()
            + "`"
            + (watch == null ? "" : ", " + watch.describe());
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new SwitchResult(action, true, "", null);
    }
    String link = q(r.link());
    String target = q(r.target());
    String cmd =
        "[ -e "
            + target
            + " ] || { echo "
            + q(r.target() + " does not exist")
            + " >&2; exit "
            + MISSING
            + "; }; prev=$(readlink "
            + link
            + " || true); ln -sfn "
            + target
            + " "
            + link
            + " && "
            + testThenReload(
                nginx,
                "if [ -n \"$prev\" ]; then ln -sfn \"$prev\" "
                    + link
                    + "; else rm -f "
                    + link
                    + "; fi",
                "true");
    return change(
        r.host(),
        nginx,
        null,
        cmd,
        watch,
        action,
        "nginx rejected " + r.target() + " (the previous link is back in place)",
        "linking " + r.link());
  }

  /**
   * Runs a config change built on {@link #testThenReload}, watched by {@code watch} when not null
   * (in the same command, so in one round trip and from the proxy host itself; {@link SshHosts}
   * heartbeats while it runs), and turns its exit status into the step's outcome: a missing target
   * or a config nginx rejects cannot be fixed by a retry, and neither can a host the probe cannot
   * run on.
   */
  private SwitchResult change(
      HostRef host,
      NginxConfig nginx,
      String settings,
      String cmd,
      SwitchWatch watch,
      String action,
      String rejected,
      String what) {
    return change(host, nginx, settings, cmd, null, watch, action, rejected, what);
  }

  /** As above, with {@code stdin} (null: none) given to the command (a file's new text). */
  private SwitchResult change(
      HostRef host,
      NginxConfig nginx,
      String settings,
      String cmd,
      byte[] stdin,
      SwitchWatch watch,
      String action,
      String rejected,
      String what) {
    SshHosts.Connection client = ssh.lease(host);
    try {
      ExecResult res =
          watch == null
              ? ssh.exec(client, cmd, stdin, Duration.ofMinutes(1), cmd)
              : ssh.exec(client, watch.wrap(cmd), stdin, watch.timeout(), watch.wrap(cmd));
      String err = res.stderr().strip();
      if (watch != null && res.exitStatus() == SwitchWatch.UNAVAILABLE) {
        throw ApplicationFailure.newNonRetryableFailure(
            what + " was not started, its probe cannot run: " + err, "ProbeUnavailable");
      }
      if (res.exitStatus() == TOOL_MISSING) {
        throw toolMissing(host, nginx, settings, what, err);
      }
      if (res.exitStatus() == MISSING) {
        throw ApplicationFailure.newNonRetryableFailure(
            what + " failed: " + err, "SiteConfigMissing");
      }
      if (res.exitStatus() == REJECTED) {
        throw ApplicationFailure.newNonRetryableFailure(
            rejected + ": " + err, "NginxConfigRejected");
      }
      if (res.exitStatus() != 0) {
        throw ApplicationFailure.newFailure(
            what + " failed (exit " + res.exitStatus() + "): " + err, "RemoteCommandFailed");
      }
      if (watch == null) {
        log.info("{}", action);
        return new SwitchResult(action, false, res.stdout().strip(), null);
      }
      SwitchWatch.Watched w = watch.parse(res.stdout());
      log.info(
          "{}: switched in {} ms, {}",
          action,
          w.switchEnd() - w.switchStart(),
          w.downtime().describe());
      return new SwitchResult(action, false, w.output(), w.downtime());
    } finally {
      client.close();
    }
  }

  @Override
  public SwitchResult switchUpstream(UpstreamSwitchRequest r) {
    NginxConfig nginx = r.nginx();
    if (nginx == null
        || nginx.reloadCommand() == null
        || nginx.testCommand() == null
        || nginx.pidFile() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "nginx settings need pidFile, testCommand and reloadCommand", "InvalidInput");
    }
    // First of all, in a rehearsal too: nothing is touched for a switch that would drop every
    // open connection.
    String restart = restartIn(nginx.reloadCommand());
    if (restart != null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "nginx.reloadCommand `"
              + nginx.reloadCommand()
              + "` would "
              + restart
              + " nginx, dropping every open connection: the proxy switch only reloads (e.g."
              + " `nginx -s reload` or `systemctl reload nginx`); nothing was changed",
          "RestartRefused");
    }
    String path = r.configPath();
    if (path == null || !path.startsWith("/") || path.contains("..") || path.indexOf('\n') >= 0) {
      throw ApplicationFailure.newNonRetryableFailure(
          "'" + path + "' must be an absolute path (the proxy's config file)", "InvalidInput");
    }
    if (r.from() == null || r.from().isEmpty() || r.to() == null || r.from().equals(r.to())) {
      throw ApplicationFailure.newNonRetryableFailure(
          "switchUpstream needs a non-empty 'from' (the old server's address) and a 'to' that"
              + " differs from it",
          "InvalidInput");
    }
    SwitchWatch watch = SwitchWatch.of(r.probe());
    String action =
        "on "
            + r.host().describe()
            + ": '"
            + r.from()
            + "' becomes '"
            + r.to()
            + "' in "
            + path
            + ", `"
            + nginx.testCommand()
            + "`, `"
            + nginx.reloadCommand()
            + "`"
            + (watch == null ? "" : ", " + watch.describe());
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new SwitchResult(action, true, "", null);
    }
    String real;
    byte[] before;
    SshHosts.Connection client = ssh.lease(r.host());
    try {
      ExecResult got =
          ssh.exec(
              client,
              "f=$(readlink -f -- "
                  + q(path)
                  + ") && [ -f \"$f\" ] || { echo "
                  + q(path + " is not a file")
                  + " >&2; exit "
                  + MISSING
                  + "; }; printf '%s\\n' \"$f\"; base64 -w0 -- \"$f\"",
              Duration.ofMinutes(1));
      if (got.exitStatus() == MISSING) {
        throw ApplicationFailure.newNonRetryableFailure(
            "the proxy config " + path + " is not on " + r.host().describe() + ": check the path",
            "SiteConfigMissing");
      }
      if (got.exitStatus() != 0) {
        throw ApplicationFailure.newFailure(
            "reading " + path + " failed (exit " + got.exitStatus() + "): " + got.stderr().strip(),
            "RemoteCommandFailed");
      }
      String[] parts = got.stdout().split("\n", 2);
      real = parts[0].strip();
      before = Base64.getMimeDecoder().decode(parts.length > 1 ? parts[1].strip() : "");
    } finally {
      client.close();
    }
    TextReplacement t = TextReplacement.of(TextReplacement.utf8(before, path), r.from(), r.to());
    if (!t.changes()) {
      if (t.to() == 0) {
        throw ApplicationFailure.newNonRetryableFailure(
            "neither '"
                + r.from()
                + "' nor '"
                + r.to()
                + "' is in "
                + path
                + " on "
                + r.host().describe()
                + ": check the proxy config and the addresses",
            "EditNotFound");
      }
      // Switched already (by an earlier attempt, maybe one that stopped before its reload): the
      // file is left alone, and nginx tested and reloaded, so that what it serves is the file.
      SwitchResult again =
          change(
              r.host(),
              nginx,
              null,
              testThenReload(nginx, "true", "true"),
              watch,
              action,
              "nginx rejected " + path + " as it is",
              "reloading for " + path);
      return new SwitchResult(
          again.action(),
          false,
          "already switched (no '" + r.from() + "' in " + path + "); " + again.output(),
          again.downtime());
    }
    byte[] after = t.result().getBytes(StandardCharsets.UTF_8);
    // The new text comes through stdin into a temporary file (checked whole), and is written over
    // the config in place (a symlinked site stays a symlink, owner and mode stay); the old text is
    // kept outside the config directory, which nginx may include whole, until the test and reload
    // are done, and put back if nginx rejects the new one.
    String f = q(real);
    String cmd =
        "f="
            + f
            + "; [ \"$(sha256sum -- \"$f\" | cut -d' ' -f1)\" = "
            + sha256(before)
            + " ] || { echo "
            + q(path + " changed while it was being switched")
            + " >&2; exit 1; }; cw_old=$(mktemp \"${TMPDIR:-/tmp}/crewchief-upstream.XXXXXX\") &&"
            + " cw_new=$(mktemp \"${TMPDIR:-/tmp}/crewchief-upstream.XXXXXX\") && cp -- \"$f\""
            + " \"$cw_old\" && cat > \"$cw_new\" && [ \"$(sha256sum < \"$cw_new\" | cut -d' '"
            + " -f1)\" = "
            + sha256(after)
            + " ] && { cat \"$cw_new\" > \"$f\" || { cat \"$cw_old\" > \"$f\"; rm -f \"$cw_old\""
            + " \"$cw_new\"; exit 1; }; } && "
            + testThenReload(
                nginx,
                "cat \"$cw_old\" > \"$f\"; rm -f \"$cw_old\" \"$cw_new\"",
                "rm -f \"$cw_old\" \"$cw_new\"");
    SwitchResult done =
        change(
            r.host(),
            nginx,
            null,
            cmd,
            after,
            watch,
            action,
            "nginx rejected "
                + path
                + " with '"
                + r.to()
                + "' (the previous text is back in place)",
            "switching " + path);
    // Read back: the config on the host is the switched text.
    SshHosts.Connection check = ssh.lease(r.host());
    try {
      ExecResult sum =
          ssh.exec(check, "sha256sum -- " + f + " | cut -d' ' -f1", Duration.ofMinutes(1));
      if (!sum.stdout().strip().equals(sha256(after))) {
        throw ApplicationFailure.newFailure(
            "after the switch " + path + " on " + r.host().describe() + " is not the switched text",
            "RemoteCommandFailed");
      }
    } finally {
      check.close();
    }
    return done;
  }

  /**
   * What in a reload command would restart or stop nginx rather than reload it ("restart", "stop"),
   * or null when it only reloads: a restart, a stop or quit (systemctl's and service's verbs,
   * nginx's {@code -s}), or a kill with any signal but HUP (nginx's reload).
   */
  static String restartIn(String command) {
    List<String> words = List.of(command.toLowerCase(Locale.ROOT).strip().split("[\\s;|&()`]+"));
    for (int i = 0; i < words.size(); i++) {
      String w = words.get(i);
      String next = i + 1 < words.size() ? words.get(i + 1) : "";
      if (w.contains("restart")) {
        return "restart";
      }
      if (w.equals("stop") || w.equals("-sstop") || w.equals("--signal=stop")) {
        return "stop";
      }
      if (w.equals("quit") || w.equals("-squit") || w.equals("halt")) {
        return "stop";
      }
      String base = w.substring(w.lastIndexOf('/') + 1);
      if (base.equals("kill") || base.equals("pkill") || base.equals("killall")) {
        String sig = next.equals("-s") && i + 2 < words.size() ? words.get(i + 2) : next;
        if (!sig.equals("-hup")
            && !sig.equals("-1")
            && !sig.equals("hup")
            && !sig.equals("-sighup")
            && !sig.equals("sighup")) {
          return "stop";
        }
      }
    }
    return null;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * nginx's test or reload command was not found on the host: names the command and the setting
   * that holds it (under {@code settings}, e.g. randopony.nginx, when the request says where).
   */
  static ApplicationFailure toolMissing(
      HostRef host, NginxConfig nginx, String settings, String what, String stderr) {
    String prefix = (settings == null ? "nginx" : settings) + ".";
    String tool = ToolMissing.tool(stderr);
    String first = nginx.testCommand().strip().split("\\s+")[0];
    String fix =
        "give the tool's absolute path in "
            + prefix
            + "testCommand and "
            + prefix
            + "reloadCommand (e.g. /usr/sbin/"
            + (tool == null ? first : tool.substring(tool.lastIndexOf('/') + 1))
            + " ...): a non-interactive SSH session's PATH is not a login shell's, and often lacks"
            + " /usr/sbin";
    Map<String, String> tools = new HashMap<>();
    tools.put(first, fix);
    tools.put(nginx.reloadCommand().strip().split("\\s+")[0], fix);
    return ToolMissing.failure(host, what, stderr, tools);
  }

  @Override
  public ActionResult probe(ProbeRequest r) {
    if (!SwitchWatch.isHttpUrl(r.url())) {
      throw ApplicationFailure.newNonRetryableFailure(
          "probe URL '" + r.url() + "' is not an http(s) URL", "InvalidInput");
    }
    String action =
        "on "
            + r.host().describe()
            + ": GET "
            + r.url()
            + (r.hostHeader() == null ? "" : " (Host: " + r.hostHeader() + ")")
            + " expecting "
            + expected(r);
    if (r.dryRun()) {
      // The rehearsal checks what the real run will need on this worker: the key, known_hosts.
      ssh.rehearse(r.host());
      return new ActionResult(action, true, "");
    }
    String cmd =
        "curl -sS -m 10 -w '\\n%{http_code}' "
            + (r.hostHeader() == null ? "" : "-H " + q("Host: " + r.hostHeader()) + " ")
            + q(r.url());
    SshHosts.Connection client = ssh.lease(r.host());
    try {
      ExecResult res = ssh.exec(client, cmd, Duration.ofSeconds(20));
      String out = res.stdout();
      int nl = out.lastIndexOf('\n');
      String code = nl >= 0 ? out.substring(nl + 1).strip() : out.strip();
      String body = nl >= 0 ? out.substring(0, nl) : "";
      if (res.exitStatus() != 0
          || !code.equals(String.valueOf(r.status()))
          || (r.expect() != null && !body.contains(r.expect()))) {
        throw ApplicationFailure.newFailure(
            "probe "
                + r.url()
                + (r.hostHeader() == null ? "" : " (Host: " + r.hostHeader() + ")")
                + " answered "
                + (code.isEmpty() ? "nothing" : code)
                + " "
                + abbreviate(body.isBlank() ? res.stderr() : body)
                + "; expected "
                + expected(r),
            "ProbeFailed");
      }
      return new ActionResult(action, false, code + " " + abbreviate(body));
    } finally {
      client.close();
    }
  }

  private static String expected(ProbeRequest r) {
    return r.status() + (r.expect() == null ? "" : " containing '" + r.expect() + "'");
  }

  private static String abbreviate(String s) {
    String t = s.strip().replace('\n', ' ');
    return t.length() > 200 ? t.substring(0, 200) + "..." : t;
  }
}
