"""RandoPony's staging update (`deploy_staging`) as a Fabric 3 fabfile, for benchmark 6.

Does on the sandbox host what Crew Chief's StagingDeploy does for an update of a deployed release,
step for step and with the same shell commands (RandoPonyCommands): inspect the app dir, upload
the changed files over SFTP (checksums compared, removed files deleted, data and build output left
alone), install into the virtualenv, set the port, credentials to 400, the ini and package
symlinks, stop and start the app, probe it, restart supervisor, attach the staging domain in nginx
(test, reload, wait for the old workers) and probe the domain. One SSH connection for the whole
task, as Fabric does; the host key is checked against the sandbox's known_hosts (RejectPolicy, no
auto-adding), the same key as Crew Chief's.

Run by deploy/bench/fabric.sh:
  fab -r deploy/bench -H USER@127.0.0.1:PORT -i KEY deploy-staging
with the sandbox's layout in FAB_* environment variables (see settings()).
"""

import fnmatch
import hashlib
import os
import posixpath
import shlex
import stat
import time

import paramiko
from fabric import task


def q(s):
    """Quotes as Crew Chief's Shell.q does."""
    return s if s and all(ch.isalnum() or ch in "_./:=@%+-" for ch in s) else shlex.quote(s)


def settings():
    e = os.environ
    app_name = e["FAB_APP"]
    release = e["FAB_RELEASE"]
    app = e["FAB_WEBAPPS"] + "/" + app_name + release
    code = app + "/" + e["FAB_CODE_DIR_NAME"]
    return {
        "known_hosts": e["FAB_KNOWN_HOSTS"],
        "source": e["FAB_SOURCE"],
        "app_name": app_name,
        "release": release,
        "app": app,
        "code": code,
        "code_dir_name": e["FAB_CODE_DIR_NAME"],
        "venv": app + "/venv",
        "port": int(e["FAB_PORT"]),
        "supervisord": e["FAB_SUPERVISORD"],
        "supervisorctl": e["FAB_SUPERVISORCTL"],
        "sites": e["FAB_NGINX_SITES"],
        "listen": e["FAB_NGINX_LISTEN"],
        "nginx_pid": e["FAB_NGINX_PID"],
        "nginx_test": e["FAB_NGINX_TEST"],
        "nginx_reload": e["FAB_NGINX_RELOAD"],
        "probe_url": e["FAB_NGINX_PROBE_URL"],
        "domain": e["FAB_DOMAIN"],
        "probe_text": app_name + release,
    }


EXCLUDES = [".git", ".hg", ".svn", "__pycache__", "*.pyc", "*.egg-info", "build", "dist"]
PROTECT = ["*.sqlite", "*.sqlite3", "*.db", "*.log", "*.pid", "*.sock"]


def matches(patterns, rel):
    """As PathPatterns: a pattern matches the path or any of its parts."""
    parts = rel.split("/")
    for p in patterns:
        if fnmatch.fnmatchcase(rel, p) or any(fnmatch.fnmatchcase(part, p) for part in parts):
            return True
    return False


def local_files(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            path = os.path.join(d, n)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if not matches(EXCLUDES, rel) and not matches(PROTECT, rel):
                files[rel] = path
    return files


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8192), b""):
            h.update(chunk)
    return h.hexdigest()


def run(c, cmd):
    return c.run(cmd, hide=True, in_stream=False)


def mkdirs(sftp, path):
    """mkdir -p over SFTP, as sshj's SFTPClient.mkdirs."""
    try:
        if stat.S_ISDIR(sftp.stat(path).st_mode):
            return
    except FileNotFoundError:
        pass
    mkdirs(sftp, posixpath.dirname(path))
    sftp.mkdir(path)


def sync(c, s):
    """rsync_code: the changed files up over SFTP, the ones the source lost deleted."""
    res = run(
        c,
        "mkdir -p %s && cd %s && find . -type f -print0 | xargs -0 -r sha256sum"
        % (q(s["code"]), q(s["code"])),
    )
    remote = {}
    for line in res.stdout.splitlines():
        digest, sep, path = line.partition("  ")
        if sep:
            remote[path[2:] if path.startswith("./") else path] = digest
    files = local_files(s["source"])
    sftp = c.sftp()
    uploaded = []
    for rel, path in sorted(files.items()):
        if remote.get(rel) == sha256(path):
            continue
        dest = s["code"] + "/" + rel
        mkdirs(sftp, posixpath.dirname(dest))
        if rel in remote:
            sftp.remove(dest)  # a file at 400 (the credentials) is replaced, not written over
        sftp.put(path, dest)
        sftp.chmod(dest, 0o755 if os.access(path, os.X_OK) else 0o644)
        uploaded.append(rel)
    gone = [
        rel
        for rel in sorted(remote)
        if rel not in files and not matches(EXCLUDES, rel) and not matches(PROTECT, rel)
    ]
    if gone:
        run(c, "cd %s && rm -f -- %s" % (q(s["code"]), " ".join(q(g) for g in gone)))
    return uploaded, gone


def install_app(s):
    pip = q(s["venv"] + "/bin/pip")
    code = s["code"]
    return (
        "%s install --quiet --disable-pip-version-check %s || { rc=$?; echo %s >&2; exit $rc; };"
        " %s show --quiet randopony >/dev/null 2>&1 || exit 1; echo installed randopony"
        % (pip, q(code), q("installing " + code + " failed"), pip)
    )


def set_port(s):
    code, port = s["code"], s["port"]
    return "sed -i -E 's/^port *=.*/port = %d/' %s %s && grep -q '^port = %d$' %s" % (
        port,
        q(code + "/staging.ini"),
        q(code + "/production.ini"),
        port,
        q(code + "/staging.ini"),
    )


def tighten_credentials(s):
    f = q(s["code"] + "/randopony/private_credentials.py")
    return 'set -e; chmod 400 %s; test "$(stat -c %%a %s)" = 400' % (f, f)


def link_config(s):
    return (
        "cd %s && rm -f production.ini && ln -sfn %s staging.ini && ln -sfn %s randopony"
        " && sed -i -E 's#[A-Za-z0-9_-]+\\.ini#staging.ini#g' bin/start"
        " && grep -q staging.ini bin/start && test -e staging.ini"
        % (q(s["app"]), q(s["code_dir_name"] + "/staging.ini"), q(s["code_dir_name"] + "/randopony"))
    )


def stop_app(s):
    return (
        "cd %s 2>/dev/null || exit 0; if [ -f app.pid ] && pid=$(cat app.pid) && kill -0 \"$pid\""
        ' 2>/dev/null; then bin/stop; i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i+1));'
        ' [ $i -gt 100 ] && echo "app $pid did not stop" >&2 && exit 1; sleep 0.1; done;'
        " echo stopped; else echo not running; fi" % q(s["app"])
    )


def start_app(s):
    return (
        "cd %s && if [ -f app.pid ] && kill -0 \"$(cat app.pid)\" 2>/dev/null; then echo already"
        " running; else bin/start; fi" % q(s["app"])
    )


def supervisor_conf(s):
    return q(s["code"] + "/supervisord.conf")


def stop_supervisor(s):
    return (
        "cd %s 2>/dev/null || exit 0; if [ -f supervisord.pid ] && pid=$(cat supervisord.pid) &&"
        ' kill -0 "$pid" 2>/dev/null; then %s -c %s shutdown; i=0; while kill -0 "$pid"'
        ' 2>/dev/null; do i=$((i+1)); [ $i -gt 150 ] && echo "supervisord $pid did not stop" >&2'
        " && exit 1; sleep 0.2; done; echo stopped; else echo not running; fi"
        % (q(s["app"]), q(s["supervisorctl"]), supervisor_conf(s))
    )


def start_supervisor(s):
    ctl = "%s -c %s" % (q(s["supervisorctl"]), supervisor_conf(s))
    return (
        "cd %s && if [ -f supervisord.pid ] && kill -0 \"$(cat supervisord.pid)\" 2>/dev/null; then"
        " echo already running; else %s -c %s || exit 1; fi; i=0; until out=$(%s status 2>&1) &&"
        " printf '%%s\\n' \"$out\" | awk 'NF && $2 != \"RUNNING\" {bad=1} NF {n++}"
        " END {exit bad || !n}'; do i=$((i+1)); if [ $i -gt 150 ]; then printf '%%s\\n' \"$out\""
        " >&2; exit 1; fi; sleep 0.2; done; echo RUNNING"
        % (q(s["app"]), q(s["supervisord"]), supervisor_conf(s), ctl)
    )


def attach_domain(s):
    """The server block for the domain, nginx's test, a reload, the old workers gone."""
    f = q(s["sites"] + "/" + s["domain"] + ".conf")
    block = (
        "# managed by crewchief: attached to port %d\nserver {\n    listen %s;\n"
        "    server_name %s;\n    location / {\n        proxy_pass http://127.0.0.1:%d;\n"
        "        proxy_set_header Host $host;\n    }\n}\n"
        % (s["port"], s["listen"], s["domain"], s["port"])
    )
    return (
        "mkdir -p %s && printf '%%s' %s > %s.new && mv %s.new %s && %s && old=$(pgrep -P"
        ' "$(cat %s)" | xargs); %s; i=0; for p in $old; do while kill -0 $p 2>/dev/null; do'
        " i=$((i+1)); [ $i -gt 200 ] && break; sleep 0.05; done; done; echo reloaded"
        % (
            q(s["sites"]),
            q(block),
            f,
            f,
            f,
            s["nginx_test"] + " 2>/dev/null",
            q(s["nginx_pid"]),
            s["nginx_reload"],
        )
    )


def probe(c, url, text, host_header=None, attempts=150):
    """curl on the host until the page answers 200 with the text (as Crew Chief's probe)."""
    cmd = "curl -sS -m 10 -w '\\n%%{http_code}' %s%s" % (
        "-H " + q("Host: " + host_header) + " " if host_header else "",
        q(url),
    )
    for _ in range(attempts):
        r = c.run(cmd, hide=True, warn=True, in_stream=False)
        body, _, code = r.stdout.rpartition("\n")
        if r.ok and code.strip() == "200" and text in body:
            return
        time.sleep(0.2)
    raise SystemExit("probe %s never answered 200 with %r" % (url, text))


@task(name="deploy-staging")
def deploy_staging(c):
    """The update of a deployed staging release (deploy_staging)."""
    s = settings()
    # Host keys verified against the sandbox's known_hosts, never added on the fly.
    c.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.client.load_host_keys(s["known_hosts"])
    c.connect_kwargs.update(look_for_keys=False, allow_agent=False)
    app = s["app"]
    paths = [app, s["venv"] + "/bin/python", app + "/RandoPony-staging.sqlite", app + "/production.ini"]
    found = run(
        c,
        "for p in %s; do [ -e \"$p\" ] && printf '%%s\\n' \"$p\"; done; true"
        % " ".join(q(p) for p in paths),
    ).stdout.split()
    if app not in found or app + "/RandoPony-staging.sqlite" not in found:
        raise SystemExit("%s is not deployed to staging yet" % app)
    if app + "/production.ini" in found:
        raise SystemExit("%s has been promoted to production" % app)
    uploaded, gone = sync(c, s)
    run(c, install_app(s))
    run(c, set_port(s))
    run(c, tighten_credentials(s))
    run(c, link_config(s))
    run(c, stop_app(s))
    run(c, start_app(s))
    probe(c, "http://127.0.0.1:%d/" % s["port"], s["probe_text"])
    run(c, stop_supervisor(s))
    run(c, start_supervisor(s))
    run(c, attach_domain(s))
    probe(c, s["probe_url"], s["probe_text"], host_header=s["domain"])
    print("%s deployed to staging at %s (%d uploaded, %d deleted)" % (app, s["domain"], len(uploaded), len(gone)))
