#!/usr/bin/env bash
# A local stand-in for RandoPony's shared host, for tests and rehearsals (run as root):
#   sandbox.sh up DIR [RELEASES...]   sshd on 127.0.0.1 (own host key, key-only user), nginx run by
#                                     that user, app dirs as the hosting control panel makes them,
#                                     and DIR/crewchief.yaml + DIR/sandbox.env describing it all;
#                                     also a second app laid out otherwise (pony-express, see
#                                     below) in the environment SANDBOX_ENV-express
#   sandbox.sh down DIR               stops everything the sandbox user runs and removes the user
# SANDBOX_USER (default ccsandbox) names the local user; SANDBOX_ENV (default sandbox) the
# environment in crewchief.yaml. Every command sshd runs for the user is logged in DIR/commands.log.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:?usage: sandbox.sh up|down DIR [RELEASES...]}
DIR=${2:?usage: sandbox.sh up|down DIR [RELEASES...]}
shift 2
U=${SANDBOX_USER:-ccsandbox}
E=${SANDBOX_ENV:-sandbox}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

down() {
  [ -f "$DIR/sshd.pid" ] && kill "$(cat "$DIR/sshd.pid")" 2>/dev/null || true
  if id "$U" >/dev/null 2>&1; then
    pkill -u "$U" 2>/dev/null || true
    for _ in $(seq 50); do pgrep -u "$U" >/dev/null || break; sleep 0.1; done
    pkill -9 -u "$U" 2>/dev/null || true
    userdel "$U" 2>/dev/null || true
  fi
  # The crontab spool outlives the user; a user made again with another uid could not read it.
  rm -f "/var/spool/cron/crontabs/$U"
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "usage: sandbox.sh up|down DIR [RELEASES...]" >&2; exit 2; }
RELEASES=("$@"); [ ${#RELEASES[@]} -gt 0 ] || RELEASES=(2013r1 2014r1 2015r1)

need=()
for pb in openssh-server:/usr/sbin/sshd openssh-client:/usr/bin/ssh-keygen nginx-light:/usr/sbin/nginx \
  supervisor:/usr/bin/supervisord curl:/usr/bin/curl python3-venv:/usr/lib/python3.11/venv procps:/usr/bin/pgrep \
  python3-setuptools:/usr/lib/python3/dist-packages/setuptools python3-wheel:/usr/lib/python3/dist-packages/wheel \
  python3-setuptools-whl:/usr/share/doc/python3-setuptools-whl python3-wheel-whl:/usr/share/doc/python3-wheel-whl; do
  [ -e "${pb#*:}" ] || need+=("${pb%%:*}")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

down
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
# Every directory above DIR must be traversable by the sandbox user and nginx workers.
p="$DIR"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
chmod 755 "$DIR"
H="$DIR/home"; mkdir -p "$H" "$DIR/authorized_keys"
# The user's login shell records every command sshd runs for it (time, then the command in
# base64) in DIR/commands.log before running it with bash: rehearsals and the durability tests
# count the side effects on the host from it. SFTP (internal-sftp) runs no shell.
cat > "$DIR/audit-shell" <<SH
#!/bin/bash
if [ "\$1" = -c ]; then
  printf '%s %s\n' "\$(date +%s.%N)" "\$(printf '%s' "\$2" | base64 -w0)" >> "$DIR/commands.log"
  exec /bin/bash -c "\$2"
fi
exec /bin/bash "\$@"
SH
chmod 755 "$DIR/audit-shell"
: > "$DIR/commands.log"
useradd -M -d "$H" -s "$DIR/audit-shell" "$U"
chown "$U:" "$DIR/commands.log"
usermod -p '*' "$U"   # a locked account ('!') is refused by sshd with UsePAM no

SSH_PORT=$(free_port); NGINX_PORT=$(free_port)
rm -f "$DIR"/ssh_host_ed25519_key* "$DIR"/client_ed25519* "$DIR"/stranger_ed25519*
ssh-keygen -q -t ed25519 -f "$DIR/ssh_host_ed25519_key" -N '' -C sandbox-host
ssh-keygen -q -t ed25519 -f "$DIR/client_ed25519" -N '' -C crewchief
ssh-keygen -q -t ed25519 -f "$DIR/stranger_ed25519" -N '' -C stranger
cp "$DIR/client_ed25519.pub" "$DIR/authorized_keys/$U"
echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" > "$DIR/known_hosts"
cat > "$DIR/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $U
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel VERBOSE
CONF
mkdir -p -m 0755 /run/sshd
/usr/sbin/sshd -t -f "$DIR/sshd_config"
/usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
for _ in $(seq 200); do ss -ltn | grep -q "127.0.0.1:$SSH_PORT " && break; sleep 0.05; done

# nginx, run by the sandbox user so that the deployment can test and reload it over SSH.
N="$H/nginx"; mkdir -p "$N/conf" "$N/sites" "$N/logs" "$N/tmp"
cat > "$N/conf/nginx.conf" <<CONF
worker_processes 1;
pid $N/nginx.pid;
error_log $N/logs/error.log info;
events { worker_connections 64; }
http {
  access_log $N/logs/access.log;
  client_body_temp_path $N/tmp/body; proxy_temp_path $N/tmp/proxy;
  fastcgi_temp_path $N/tmp/fastcgi; uwsgi_temp_path $N/tmp/uwsgi; scgi_temp_path $N/tmp/scgi;
  server { listen 127.0.0.1:$NGINX_PORT default_server; location / { return 404 "no site\n"; } }
  include $N/sites/*.conf;
}
CONF
NGINX="/usr/sbin/nginx -p $N/ -e $N/logs/error.log -c $N/conf/nginx.conf"

# The hosting control panel: one app dir per release, with its start/stop scripts and templates.
# control_panel_app NAME RELEASE PORT MODULE: the app dir NAME+RELEASE, whose bin/start runs
# `venv/bin/python -m MODULE INI` (the deployment points it at staging.ini or production.ini).
control_panel_app() {
  local A="$H/webapps/$1$2"
  mkdir -p "$A/bin" "$A/myapp"
  echo "template app created by the control panel" > "$A/myapp/index.py"
  printf '[app:main]\n\n[server:main]\nport = %s\n' "$3" > "$A/development.ini"
  sed "s/@MODULE@/$4/" > "$A/bin/start" <<'SH'
#!/bin/sh
# Start the app (made by the hosting control panel).
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$APP_DIR" || exit 1
if [ -f app.pid ] && kill -0 "$(cat app.pid)" 2>/dev/null; then echo "already running"; exit 0; fi
setsid nohup "$APP_DIR/venv/bin/python" -m @MODULE@ "$APP_DIR/development.ini" >> "$APP_DIR/pyramid.log" 2>&1 < /dev/null &
echo $! > app.pid
echo "started $(cat app.pid)"
SH
  cat > "$A/bin/stop" <<'SH'
#!/bin/sh
# Stop the app (made by the hosting control panel).
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$APP_DIR" || exit 1
if [ -f app.pid ] && pid=$(cat app.pid) && kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && kill -9 "$pid"; sleep 0.1; done
fi
rm -f app.pid
SH
  chmod 755 "$A/bin/start" "$A/bin/stop"
}
mkdir -p "$H/webapps" "$H/archive"
declare -A PORTS
for r in "${RELEASES[@]}"; do
  PORTS[$r]=$(free_port)
  control_panel_app randopony "$r" "${PORTS[$r]}" randopony.app
done

# A second app, laid out as current Python projects are (deploy/sandbox/pony-express: a
# pyproject.toml, a src/ layout, its own distribution name, a dependency, supervisor's config under
# etc/), deployed from a developer's checkout of it: a copy in DIR/checkouts with the wheelhouse
# pip installs from on a host without an index (built offline by wheelhouse.sh).
declare -A EXPRESS_PORTS
for r in "${RELEASES[@]}"; do
  EXPRESS_PORTS[$r]=$(free_port)
  control_panel_app ponyexpress "$r" "${EXPRESS_PORTS[$r]}" ponyexpress.app
done
EXPRESS_SRC="$DIR/checkouts/pony-express"
rm -rf "$EXPRESS_SRC"; mkdir -p "$DIR/checkouts"
cp -r "$here/pony-express" "$EXPRESS_SRC"
rm -rf "$EXPRESS_SRC"/build "$EXPRESS_SRC"/src/*.egg-info "$EXPRESS_SRC"/wheelhouse
"$here/wheelhouse.sh" "$EXPRESS_SRC/wheelhouse" "$here/cuesheet" >/dev/null
chown -R "$U:" "$H"
runuser -u "$U" -- $NGINX -t 2>/dev/null
runuser -u "$U" -- $NGINX
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && break; sleep 0.05; done

cat > "$DIR/sandbox.env" <<ENV
SSH_PORT=$SSH_PORT
NGINX_PORT=$NGINX_PORT
SANDBOX_USER=$U
SANDBOX_DIR=$DIR
SANDBOX_ENV=$E
EXPRESS_ENV=$E-express
EXPRESS_SOURCE=$EXPRESS_SRC
ENV
{
  cat <<YAML
taskQueue: crewchief
environments:
  $E:
    approvers:
      crew-chief: [alice]
      driver: [bob]
    hosts:
      webfaction:
        address: 127.0.0.1
        port: $SSH_PORT
        user: $U
        privateKey: file:$DIR/client_ed25519
        knownHosts: $DIR/known_hosts
    gates:
      confirm-release: { roles: [crew-chief], timeout: PT2H, remindEvery: PT30M, onTimeout: ROLLBACK }
    randopony:
      host: webfaction
      appName: randopony
      webappsDir: $H/webapps
      sourceDir: $here/randopony-tetra
      codeDirName: randopony-tetra
      python: /usr/bin/python3
      supervisord: /usr/bin/supervisord
      supervisorctl: /usr/bin/supervisorctl
      archiveDir: $H/archive
      stagingDomain: randopony.staging.test
      productionDomain: randopony.production.test
      templateFiles: [myapp, development.ini]
      # The stand-in's page names its app dir: a switch settles once the new release answers.
      probe: { text: "{appName}{release}" }
      releasePorts:
YAML
  for r in "${RELEASES[@]}"; do echo "        \"$r\": ${PORTS[$r]}"; done
  cat <<YAML
      nginx:
        sitesDir: $N/sites
        listen: 127.0.0.1:$NGINX_PORT
        pidFile: $N/nginx.pid
        testCommand: $NGINX -t
        reloadCommand: $NGINX -s reload
        probeUrl: http://127.0.0.1:$NGINX_PORT/
YAML
  # The second app: its own environment on the same host (own app dirs, ports and domains).
  cat <<YAML
  $E-express:
    approvers:
      crew-chief: [alice]
      driver: [bob]
    hosts:
      webfaction:
        address: 127.0.0.1
        port: $SSH_PORT
        user: $U
        privateKey: file:$DIR/client_ed25519
        knownHosts: $DIR/known_hosts
    gates:
      confirm-release: { roles: [crew-chief], timeout: PT2H, remindEvery: PT30M, onTimeout: ROLLBACK }
    randopony:
      host: webfaction
      appName: ponyexpress
      webappsDir: $H/webapps
      sourceDir: $EXPRESS_SRC
      codeDirName: pony-express
      python: /usr/bin/python3
      supervisord: /usr/bin/supervisord
      supervisorctl: /usr/bin/supervisorctl
      archiveDir: $H/archive
      stagingDomain: express.staging.test
      productionDomain: express.production.test
      templateFiles: [myapp, development.ini]
      distribution: pony-express
      packageDir: src/ponyexpress
      credentialFiles: [src/ponyexpress/private_credentials.py]
      supervisorConf: etc/supervisord.conf
      packages: { wheelhouse: wheelhouse }
      probe: { status: 200, text: "<title>Pony Express</title>" }
      releasePorts:
YAML
  for r in "${RELEASES[@]}"; do echo "        \"$r\": ${EXPRESS_PORTS[$r]}"; done
  cat <<YAML
      nginx:
        sitesDir: $N/sites
        listen: 127.0.0.1:$NGINX_PORT
        pidFile: $N/nginx.pid
        testCommand: $NGINX -t
        reloadCommand: $NGINX -s reload
        probeUrl: http://127.0.0.1:$NGINX_PORT/
YAML
} > "$DIR/crewchief.yaml"
echo "sandbox up: ssh $U@127.0.0.1:$SSH_PORT, nginx 127.0.0.1:$NGINX_PORT, releases ${RELEASES[*]} of randopony ($E) and ponyexpress ($E-express), config $DIR/crewchief.yaml"
