package dev.crewchief.randopony;

import static dev.crewchief.release.Shell.q;

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

  String createVirtualenv(String release) {
    String venv = site.venv(release);
    return "test -x "
        + q(venv + "/bin/python")
        + " || "
        + q(site.python())
        + " -m venv "
        + q(venv)
        + "; test -x "
        + q(venv + "/bin/pip");
  }

  /** Installs from the uploaded source only: the host needs no network. */
  String installApp(String release) {
    return q(site.venv(release) + "/bin/pip")
        + " install --quiet --no-index --no-build-isolation --no-deps "
        + q(site.codeDir(release))
        + " && "
        + q(site.venv(release) + "/bin/pip")
        + " show --quiet randopony";
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

  String tightenCredentials(String release) {
    String f = site.codeDir(release) + "/randopony/private_credentials.py";
    return "chmod 400 " + q(f) + " && test \"$(stat -c %a " + q(f) + ")\" = 400";
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
        + q(site.codeDirName() + "/randopony")
        + " randopony && sed -i -E 's#[A-Za-z0-9_-]+\\.ini#"
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

  String startSupervisor(String release) {
    String conf = q(site.supervisorConf(release));
    return "cd "
        + q(site.appDir(release))
        + " && if [ -f supervisord.pid ] && kill -0 \"$(cat supervisord.pid)\" 2>/dev/null; then"
        + " echo already running; else "
        + q(site.supervisord())
        + " -c "
        + conf
        + "; fi; i=0; until "
        + q(site.supervisorctl())
        + " -c "
        + conf
        + " status celery 2>/dev/null | grep -q RUNNING; do i=$((i+1)); [ $i -gt 150 ] && "
        + q(site.supervisorctl())
        + " -c "
        + conf
        + " status >&2; [ $i -gt 150 ] && exit 1; sleep 0.2; done; echo celery RUNNING";
  }

  String stopSupervisor(String release) {
    return "cd "
        + q(site.appDir(release))
        + " 2>/dev/null || exit 0; if [ -f supervisord.pid ] && pid=$(cat supervisord.pid) &&"
        + " kill -0 \"$pid\" 2>/dev/null; then "
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
