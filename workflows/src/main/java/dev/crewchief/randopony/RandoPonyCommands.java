package dev.crewchief.randopony;

import static dev.crewchief.release.Shell.q;

import dev.crewchief.activities.SourceRequirement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shell commands of the RandoPony runbook (its Fabric tasks), built from the site layout. Each
 * checks state first so that running it twice (a retried activity) does no harm, and each ends with
 * the check that proves it worked.
 */
final class RandoPonyCommands {
  private final RandoPonySite site;

  RandoPonyCommands(RandoPonySite site) {
    this.site = site;
  }

  /**
   * The host tools the commands run, each with what to change when it is not found there: a
   * non-interactive SSH session does not read a login shell's profile, so its PATH is often shorter
   * (no /usr/local/bin, no ~/bin). Part of every command request, for the message of a command that
   * exits 127.
   */
  Map<String, String> tools() {
    Map<String, String> tools = new LinkedHashMap<>();
    tools.put(site.python(), absolute("randopony.python", site.python()));
    tools.put(site.supervisord(), absolute("randopony.supervisord", site.supervisord()));
    tools.put(site.supervisorctl(), absolute("randopony.supervisorctl", site.supervisorctl()));
    tools.put(
        "initialize_RandoPony_db",
        "the app must install the console script initialize_RandoPony_db (pyproject.toml's"
            + " [project.scripts], setup.py's console_scripts)");
    return tools;
  }

  private static String absolute(String key, String tool) {
    return "set "
        + key
        + " to the absolute path of "
        + tool
        + " on the host (`command -v "
        + tool
        + "` in a login shell there shows it): a non-interactive SSH session's PATH is not a"
        + " login shell's";
  }

  /** Fails with exit 127 and the shell's own words when the tool is not there. */
  private static String need(String tool) {
    return "command -v "
        + q(tool)
        + " >/dev/null 2>&1 || { echo "
        + q(tool + ": command not found")
        + " >&2; exit 127; }; ";
  }

  /**
   * What the source directory must hold, checked before anything is uploaded: the Python project,
   * the two ini files the runbook links and sets the port in, supervisor's config, the package
   * directory linked into the app dir, the credentials tightened to 400, and the wheelhouse when
   * pip installs from one.
   */
  List<SourceRequirement> sourceRequirements() {
    RandoPonyLayout l = site.layout();
    List<SourceRequirement> req = new ArrayList<>();
    req.add(
        new SourceRequirement(
            List.of("pyproject.toml", "setup.py"),
            "the Python project pip installs into the app's virtualenv"));
    for (String kind : List.of("staging", "production")) {
      req.add(
          new SourceRequirement(
              List.of(kind + ".ini"),
              "the app's "
                  + kind
                  + " config, linked into the app dir, its [server:main] port = set to the"
                  + " release's port"));
    }
    req.add(
        new SourceRequirement(
            List.of(l.supervisorConf()),
            "supervisor's config (supervisord -c): add it, or set randopony.supervisorConf to its"
                + " path in the source directory"));
    req.add(
        new SourceRequirement(
            List.of(l.packageDir()),
            "the app's package directory, linked into the app dir: set randopony.packageDir to its"
                + " path in the source directory"));
    for (String f : l.credentialFiles()) {
      req.add(
          new SourceRequirement(
              List.of(f),
              "a credentials file tightened to mode 400: set randopony.credentialFiles to the"
                  + " app's (an empty list when it has none)"));
    }
    if (l.wheelhouse() != null) {
      req.add(
          new SourceRequirement(
              List.of(l.wheelhouse()),
              "the wheelhouse pip installs the app's dependencies from"
                  + " (randopony.packages.wheelhouse): build it before the deployment, e.g. with"
                  + " pip wheel"));
    }
    return req;
  }

  String createVirtualenv(String release) {
    String venv = site.venv(release);
    return need(site.python())
        + "test -x "
        + q(venv + "/bin/python")
        + " || "
        + q(site.python())
        + " -m venv "
        + q(venv)
        + "; test -x "
        + q(venv + "/bin/pip");
  }

  /**
   * Installs the uploaded source and its dependencies into the release's virtualenv, from the
   * configured package source, and checks that the distribution is there. pip builds the source in
   * an isolated environment with the build backend pyproject.toml asks for (a setup.py project
   * without one installs as setup.py does), so a fresh virtualenv needs nothing of its own.
   */
  String installApp(String release) {
    RandoPonyLayout l = site.layout();
    String pip = q(site.venv(release) + "/bin/pip");
    String code = site.codeDir(release);
    String from;
    String hint;
    if (l.wheelhouse() != null) {
      String wh = code + "/" + l.wheelhouse();
      from = "--no-index --find-links " + q(wh) + " ";
      hint =
          "pip installs from the wheelhouse "
              + wh
              + " only (randopony.packages.wheelhouse): it must hold every dependency of the app"
              + " and the build backend its pyproject.toml names under [build-system] (setuptools"
              + " and wheel, say)";
    } else if (l.indexUrl() != null) {
      from = "--index-url " + q(l.indexUrl()) + " ";
      hint = "pip installs from " + l.indexUrl() + " (randopony.packages.indexUrl)";
    } else {
      from = "";
      hint =
          "pip installs from the host's own index (PyPI unless its pip.conf says otherwise): a host"
              + " that cannot reach it needs randopony.packages.indexUrl or"
              + " randopony.packages.wheelhouse";
    }
    return pip
        + " install --quiet --disable-pip-version-check "
        + from
        + q(code)
        + " || { rc=$?; echo "
        + q("installing " + code + " failed; " + hint)
        + " >&2; exit $rc; }; "
        + pip
        + " show --quiet "
        + q(l.distribution())
        + " >/dev/null 2>&1 || { { printf '%s' "
        + q(
            "the virtualenv has no distribution named "
                + l.distribution()
                + " after installing "
                + code
                + ": set randopony.distribution to the project's name (pyproject.toml's [project]"
                + " name, setup.py's name=); installed: ")
        + "; "
        + pip
        + " list --format=freeze --disable-pip-version-check 2>/dev/null | tr '\\n' ' ';"
        + " echo; } >&2; exit 1; }; echo installed "
        + q(l.distribution());
  }

  String removeTemplateFiles(String release) {
    StringBuilder sb = new StringBuilder("cd " + q(site.appDir(release)) + " && rm -rf");
    for (String f : site.templateFiles()) {
      if (f.contains("/") || f.equals("..") || f.equals(".")) {
        throw new IllegalArgumentException(
            "randopony.templateFiles entry '" + f + "' must be a plain name inside the app dir");
      }
      sb.append(' ').append(q(f));
    }
    return sb.toString();
  }

  /** Null when the app has no credentials files to tighten. */
  String tightenCredentials(String release) {
    List<String> files = site.layout().credentialFiles();
    if (files.isEmpty()) {
      return null;
    }
    StringBuilder sb = new StringBuilder("set -e");
    for (String file : files) {
      String f = q(site.codeDir(release) + "/" + file);
      sb.append("; chmod 400 ")
          .append(f)
          .append("; test \"$(stat -c %a ")
          .append(f)
          .append(")\" = 400");
    }
    return sb.toString();
  }

  String setPort(String release) {
    int port = site.port(release);
    String code = site.codeDir(release);
    return "sed -i -E 's/^port *=.*/port = "
        + port
        + "/' "
        + q(code + "/staging.ini")
        + " "
        + q(code + "/production.ini")
        + " && grep -q '^port = "
        + port
        + "$' "
        + q(code + "/staging.ini");
  }

  /** The ini symlink and the app-dir symlink, and {@code bin/start} pointed at that ini. */
  String linkConfig(String release, String kind) {
    String app = site.appDir(release);
    String other = kind.equals("staging") ? "production" : "staging";
    return "cd "
        + q(app)
        + " && rm -f "
        + other
        + ".ini && ln -sfn "
        + q(site.codeDirName() + "/" + kind + ".ini")
        + " "
        + kind
        + ".ini && ln -sfn "
        + q(site.codeDirName() + "/" + site.layout().packageDir())
        + " "
        + q(site.layout().packageLink())
        + " && sed -i -E 's#[A-Za-z0-9_-]+\\.ini#"
        + kind
        + ".ini#g' bin/start && grep -q "
        + kind
        + ".ini bin/start && test -e "
        + kind
        + ".ini";
  }

  String initDatabase(String release, String kind) {
    String db = RandoPonySite.database(kind);
    return "cd "
        + q(site.appDir(release))
        + " && if [ ! -s "
        + db
        + " ]; then "
        + q(site.venv(release) + "/bin/initialize_RandoPony_db")
        + " "
        + kind
        + ".ini; else echo "
        + db
        + " exists; fi && test -s "
        + db;
  }

  String startApp(String release) {
    return "cd "
        + q(site.appDir(release))
        + " && if [ -f app.pid ] && kill -0 \"$(cat app.pid)\" 2>/dev/null; then echo already"
        + " running; else bin/start; fi";
  }

  String stopApp(String release) {
    return "cd "
        + q(site.appDir(release))
        + " 2>/dev/null || exit 0; if [ -f app.pid ] && pid=$(cat app.pid) && kill -0 \"$pid\""
        + " 2>/dev/null; then bin/stop; i=0; while kill -0 \"$pid\" 2>/dev/null; do i=$((i+1));"
        + " [ $i -gt 100 ] && echo \"app $pid did not stop\" >&2 && exit 1; sleep 0.1; done;"
        + " echo stopped; else echo not running; fi";
  }

  /**
   * Starts supervisor with the app's config and waits until every program it runs is RUNNING
   * (whatever the app calls them: celery in the runbook).
   */
  String startSupervisor(String release) {
    String conf = q(site.supervisorConf(release));
    String ctl = q(site.supervisorctl()) + " -c " + conf;
    return need(site.supervisord())
        + need(site.supervisorctl())
        + "cd "
        + q(site.appDir(release))
        + " && if [ -f supervisord.pid ] && kill -0 \"$(cat supervisord.pid)\" 2>/dev/null; then"
        + " echo already running; else "
        + q(site.supervisord())
        + " -c "
        + conf
        + " || exit 1; fi; i=0; until out=$("
        + ctl
        + " status 2>&1) && printf '%s\\n' \"$out\" | awk 'NF && $2 != \"RUNNING\" {bad=1} NF {n++}"
        + " END {exit bad || !n}'; do i=$((i+1)); if [ $i -gt 150 ]; then printf '%s\\n' \"$out\""
        + " >&2; exit 1; fi; sleep 0.2; done; echo \"RUNNING: $(printf '%s\\n' \"$out\" | awk"
        + " 'NF {print $1}' | xargs)\"";
  }

  String stopSupervisor(String release) {
    return "cd "
        + q(site.appDir(release))
        + " 2>/dev/null || exit 0; if [ -f supervisord.pid ] && pid=$(cat supervisord.pid) &&"
        + " kill -0 \"$pid\" 2>/dev/null; then "
        + need(site.supervisorctl())
        + q(site.supervisorctl())
        + " -c "
        + q(site.supervisorConf(release))
        + " shutdown; i=0; while kill -0 \"$pid\" 2>/dev/null; do i=$((i+1)); [ $i -gt 150 ] &&"
        + " echo \"supervisord $pid did not stop\" >&2 && exit 1; sleep 0.2; done; echo stopped;"
        + " else echo not running; fi";
  }

  /** Copies the production and celery databases of the old app into the new one, verified. */
  String copyDatabases(String from, String to) {
    StringBuilder sb = new StringBuilder("set -e");
    for (String db : new String[] {RandoPonySite.database("production"), RandoPonySite.CELERY_DB}) {
      String src = q(site.appDir(from) + "/" + db);
      String dst = q(site.appDir(to) + "/" + db);
      sb.append("; if [ -f ")
          .append(src)
          .append(" ]; then cp -p ")
          .append(src)
          .append(' ')
          .append(dst)
          .append(" && cmp ")
          .append(src)
          .append(' ')
          .append(dst)
          .append("; else echo \"")
          .append(db)
          .append(" missing in old app\" >&2; ")
          .append(db.startsWith("RandoPony") ? "exit 1" : "true")
          .append("; fi");
    }
    return sb.toString();
  }

  /** Undoes {@link #copyDatabases}: the new app must not keep a fork of production data. */
  String removeCopiedDatabases(String to) {
    return "cd "
        + q(site.appDir(to))
        + " && rm -f "
        + RandoPonySite.database("production")
        + " "
        + RandoPonySite.CELERY_DB;
  }

  /** Puts back files archived by archiveAndDelete, without overwriting newer ones. */
  String restoreArchive(String release, String archive) {
    return "if [ -f "
        + q(archive)
        + " ]; then tar -xzf "
        + q(archive)
        + " -C "
        + q(site.appDir(release))
        + " --skip-old-files; fi";
  }
}
