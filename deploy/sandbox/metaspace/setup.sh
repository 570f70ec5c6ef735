#!/usr/bin/env bash
# The stand-in METASPACE on a sandbox host (run as root, after `sandbox.sh up DIR`):
#   setup.sh DIR SANDBOX_ENV_FILE ES_URL
# makes, in DIR:
#   metaspace-origin.git          the app's origin (bare): 1.7.3, 1.7.4 (= release), then on master
#                                 only the pull requests of the next release (see CHANGES below)
#   metaspace-clone               the worker's clone of it (remote origin, master checked out)
#   metaspace-ansible-origin.git  the Ansible config repository (ansible/aws/env), inventory filled
#   metaspace-ansible             the worker's clone of it
#   metaspace-admin-token         the admin API token, for the worker (0600)
#   metaspace.env                 what tests need (KEY='value' lines)
# and on the sandbox host (its user's home): the app checked out at 1.7.4, its config, data
# (METASPACE_DATASETS datasets, default 20000), admin token, supervisord running sm-api (two
# processes, sm-api:sm-api_0 and sm-api:sm-api_1, on a port each), sm-graphql and sm-update-daemon,
# and the site ~/nginx/sites/metaspace.conf on the sandbox's nginx (a port of its own, in front of
# both sm-api processes). It creates no Elasticsearch index: load-index.sh fills one.
# Rerunning it on the same DIR starts over (the host's programs stopped, everything remade).
#
# A second host of the same app (the forked VM: another sandbox.sh user):
#   METASPACE_ORIGIN=DIR/metaspace-origin.git [METASPACE_CHECKOUT=TAG] setup.sh DIR2 ENV2 ES_URL
# sets up only the host part (checkout of TAG, default 1.7.4, from that origin); no repositories.
#
# METASPACE_CHANGES (default "es-field") lists the changes master has over release, each its own
# pull request after "[Task] Task name #921" and "[Bug] Bug name #922" (which touch no watched
# file); "none" for only those two:
#   es-field                  a new exported field in metaspace/engine/sm/engine/es_export.py
#   es-mapping                a changed field mapping in metaspace/engine/sm/engine/es_index.json
#   graphql-migration         a new migration in metaspace/graphql/src/migrations/
#   graphql-migration-broken  a new migration there that fails (sm-graphql then won't start)
#   engine-migration          a new manual migration in metaspace/engine/migrations/
#   config                    a change to metaspace/engine/conf/config.json
#   breaking                  a pull request titled "[Breaking] ..." (a minor version bump)
#   hotfix                    a fix on release that master lacks (`git merge release` merges it)
#   ansible                   a commit on the Ansible config origin the clone has not pulled yet
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage="usage: setup.sh DIR SANDBOX_ENV_FILE ES_URL"
DIR=${1:?$usage}; ENV_FILE=${2:?$usage}; ES_URL=${3:?$usage}
ES_URL=${ES_URL%/}
N=${METASPACE_DATASETS:-20000}
CHANGES=${METASPACE_CHANGES:-es-field}
[ "$CHANGES" = none ] && CHANGES=""
for c in $CHANGES; do
  case $c in
    es-field|es-mapping|graphql-migration|graphql-migration-broken|engine-migration|config|breaking|hotfix|ansible) ;;
    *) echo "setup.sh: unknown change '$c' in METASPACE_CHANGES" >&2; exit 2 ;;
  esac
done
has() { case " $CHANGES " in *" $1 "*) return 0 ;; esac; return 1; }

# shellcheck disable=SC1090
. "$ENV_FILE"
U=$SANDBOX_USER
H=$(getent passwd "$U" | cut -d: -f6)
[ -d "$H" ] || { echo "setup.sh: the sandbox user $U has no home $H: run sandbox.sh up first" >&2; exit 2; }
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
chmod 755 "$DIR"
p="$DIR"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
as_user() { runuser -u "$U" -- env HOME="$H" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

APP=$H/metaspace
HCONF=$H/metaspace-conf/metaspace.json
DATA=$H/metaspace-data
SUP=$H/supervisor
NG=$H/nginx
SITE=$NG/sites/metaspace.conf
[ -f "$NG/conf/nginx.conf" ] || { echo "setup.sh: no sandbox nginx in $NG: run sandbox.sh up first" >&2; exit 2; }
NGINX="/usr/sbin/nginx -p $NG/ -e $NG/logs/error.log -c $NG/conf/nginx.conf"
# METASPACE_ORIGIN: another host of the same app (a forked VM): only the host part, from that
# origin, checked out at METASPACE_CHECKOUT (default 1.7.4); no repositories are made.
SHARED=${METASPACE_ORIGIN:-}
V=${METASPACE_CHECKOUT:-1.7.4}
if [ -n "$SHARED" ]; then ORIGIN=$(cd "$SHARED" && pwd); else ORIGIN=$DIR/metaspace-origin.git; fi
CLONE=$DIR/metaspace-clone
AORIGIN=$DIR/metaspace-ansible-origin.git
ACLONE=$DIR/metaspace-ansible
WORK=$DIR/.metaspace-work

# Rerun: stop what a previous run started for this user, then start from nothing.
if [ -f "$SUP/supervisord.pid" ] && pid=$(cat "$SUP/supervisord.pid") && kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
[ -n "$SHARED" ] || rm -rf "$ORIGIN"
rm -rf "$APP" "$H/metaspace-conf" "$DATA" "$SUP" "$H/supervisord.conf" \
  "$CLONE" "$AORIGIN" "$ACLONE" "$WORK" "$DIR/metaspace-admin-token" "$DIR/metaspace.env" "$SITE"

# --- The app's history --------------------------------------------------------------------------
export GIT_AUTHOR_NAME="METASPACE Dev" GIT_AUTHOR_EMAIL="dev@metaspace.test"
export GIT_COMMITTER_NAME="METASPACE Dev" GIT_COMMITTER_EMAIL="dev@metaspace.test"
t0=$(( $(date +%s) - 40 * 86400 )); tick=0
at() { tick=$((tick + 1)); export GIT_AUTHOR_DATE="@$((t0 + tick * 3600)) +0000" GIT_COMMITTER_DATE="@$((t0 + tick * 3600)) +0000"; }
g() { git -C "$WORK" "$@"; }
commit() { at; g add -A; g commit -q -m "$1"; }
# pr NUMBER BRANCH TITLE FUNCTION: the GitHub way, a branch with the change merged --no-ff
pr() {
  g switch -q -c "$2"; "$4"; commit "${3#\[*\] }"
  g switch -q master; at; g merge -q --no-ff "$2" -m "Merge pull request #$1 from $2" -m "$3"
  g branch -q -D "$2"
}
# squash NUMBER TITLE FUNCTION: a squash-merged pull request, one commit "TITLE (#N)"
squash() { "$3"; commit "$2 (#$1)"; }
tag() { at; g tag -a "$1" -m "Release notes:
$2"; }

make_app_repos() {
git init -q -b master "$WORK"
cp -r "$here/app/." "$WORK/"
find "$WORK" -name __pycache__ -prune -exec rm -rf {} +
rm "$WORK/metaspace/graphql/src/migrations/1598000000000-DatasetProject.py"
commit "Initial import"
tag 1.7.3 "  [Task] Initial import"
change_projects() { cp "$here/app/metaspace/graphql/src/migrations/1598000000000-DatasetProject.py" "$WORK/metaspace/graphql/src/migrations/"; }
pr 910 dev/projects "[Feature] Datasets in projects" change_projects
tag 1.7.4 "  [Feature] Datasets in projects #910"
g branch -q release

# The next release's pull requests (on master only).
readme() { printf '%s\n' "$1" >> "$WORK/metaspace/webapp/README.md"; }
change_task() { readme "The search page lists the newest datasets first."; }
change_bug() { readme "An empty search shows every dataset."; }
change_es_field() {
  python3 - "$WORK/metaspace/engine/sm/engine/es_export.py" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
s = s.replace('    "ds_organism": "organism",\n', '    "ds_organism": "organism",\n    "ds_project_ids": "projects",\n')
open(p, "w").write(s)
PY
}
change_es_mapping() { sed -i 's/"ds_polarity": {"type": "keyword"}/"ds_polarity": {"type": "text", "fields": {"raw": {"type": "keyword"}}}/' "$WORK/metaspace/engine/sm/engine/es_index.json"; }
change_graphql_migration() {
  cat > "$WORK/metaspace/graphql/src/migrations/1600000000000-ProjectReviewStatus.py" <<'PY'
"""Projects get a review status."""


def up(schema):
    schema["project"] = schema.get("project", []) + ["review_status"]
PY
}
change_graphql_migration_broken() {
  cat > "$WORK/metaspace/graphql/src/migrations/1600000000001-ProjectPublicationDate.py" <<'PY'
"""Projects get a publication date (written against a schema production does not have)."""


def up(schema):
    if "publication" not in schema:
        raise RuntimeError('relation "publication" does not exist')
    schema["publication"].append("published_dt")
PY
}
change_engine_migration() {
  mkdir -p "$WORK/metaspace/engine/migrations/r1_8"
  touch "$WORK/metaspace/engine/migrations/r1_8/__init__.py"
  cat > "$WORK/metaspace/engine/migrations/r1_8/move_projects.py" <<'PY'
"""Move the project links of old datasets into dataset_project (run by hand after deploying 1.8):

    python3 -m migrations.r1_8.move_projects --config CONF
"""
import sys

if __name__ == "__main__":
    print("move_projects: moved 0 links")
    sys.exit(0)
PY
}
change_config() { sed -i 's/"batch_size": 500/"batch_size": 1000/' "$WORK/metaspace/engine/conf/config.json"; }
change_breaking() { readme "The v1 search API is gone: use /search."; }
change_hotfix() { printf 'User-agent: *\nDisallow: /admin/\n' > "$WORK/metaspace/webapp/robots.txt"; }

pr 921 dev/task "[Task] Task name" change_task
squash 922 "[Bug] Bug name" change_bug
n=923
for c in $CHANGES; do
  case $c in
    es-field) pr $n dev/es-projects "[Task] Export dataset projects to Elasticsearch" change_es_field ;;
    es-mapping) pr $n dev/polarity-text "[Task] Full-text search on polarity" change_es_mapping ;;
    graphql-migration) pr $n dev/review-status "[Task] Project review status" change_graphql_migration ;;
    graphql-migration-broken) pr $n dev/publication-date "[Task] Project publication date" change_graphql_migration_broken ;;
    engine-migration) pr $n dev/move-projects "[Task] Move old project links" change_engine_migration ;;
    config) pr $n dev/bigger-batches "[Task] Bigger ES update batches" change_config ;;
    breaking) pr $n dev/drop-v1 "[Breaking] Remove the v1 search API" change_breaking ;;
    *) continue ;;
  esac
  n=$((n + 1))
done
if has hotfix; then
  g switch -q release; squash 920 "[Bug] Hotfix name" change_hotfix; g switch -q master
fi
git init -q --bare "$ORIGIN"
g remote add origin "$ORIGIN"
g push -q origin master release --tags
git -C "$ORIGIN" symbolic-ref HEAD refs/heads/master
git clone -q "$ORIGIN" "$CLONE"
git -C "$CLONE" branch -q --track release origin/release
git -C "$CLONE" config user.name "Crew Chief"; git -C "$CLONE" config user.email "crewchief@metaspace.test"
rm -rf "$WORK"
chmod -R a+rX "$ORIGIN"
}
if [ -z "$SHARED" ]; then make_app_repos; fi

# --- The host ------------------------------------------------------------------------------------
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE  # the host's reflog records when it really checked out
APP_PORT=$(free_port); APP_PORT1=$(free_port); SITE_PORT=$(free_port)
while [ "$APP_PORT1" = "$APP_PORT" ]; do APP_PORT1=$(free_port); done
while [ "$SITE_PORT" = "$APP_PORT" ] || [ "$SITE_PORT" = "$APP_PORT1" ]; do SITE_PORT=$(free_port); done
printf '[safe]\n\tdirectory = %s\n[user]\n\tname = METASPACE Host\n\temail = ubuntu@metaspace.test\n' "$ORIGIN" > "$H/.gitconfig"
chown "$U:" "$H/.gitconfig"
as_user git clone -q "file://$ORIGIN" "$APP"
as_user git -C "$APP" -c advice.detachedHead=false checkout -q "$V"
as_user mkdir -p "$APP/metaspace/engine/logs" "$APP/metaspace/graphql/logs" "$H/metaspace-conf" "$DATA/queue" "$SUP/conf.d" "$SUP/logs"
as_user sh -c "echo $V > '$APP/VERSION'"
python3 - "$HCONF" "$APP_PORT" "$APP_PORT1" "$SITE_PORT" "$ES_URL" "$DATA" "$APP/VERSION" <<'PY'
import json, sys
path, port, port1, site_port, es, data, version = sys.argv[1:]
json.dump({
    # port: sm-api_0's (also api_ports[0]); site_port: nginx's, in front of api_ports
    "host": "127.0.0.1", "port": int(port), "api_ports": [int(port), int(port1)],
    "site_port": int(site_port), "es_url": es, "alias": "sm",
    "data_dir": data, "data_file": data + "/datasets.jsonl", "queue_dir": data + "/queue",
    "state_file": data + "/health.json", "admin_token_file": data + "/admin-token",
    "version_file": version,
}, open(path, "w"), indent=2)
PY
python3 - "$DATA/datasets.jsonl" "$N" <<'PY'
import json, sys, time
from datetime import datetime, timezone
path, n = sys.argv[1], int(sys.argv[2])
end = int(time.time()) - 86400
span = 2 * 365 * 86400
step = max(1, span // max(n, 1))
start = end - step * n
organisms = ["Homo sapiens", "Mus musculus", "Rattus norvegicus", "Arabidopsis thaliana", "Danio rerio"]
labs = ["EMBL", "Alexandrov lab", "UCSD", "Stanford", "Oxford"]
with open(path, "w") as f:
    for i in range(n):
        t = datetime.fromtimestamp(start + i * step, timezone.utc)
        f.write(json.dumps({
            "id": t.strftime("%Y-%m-%d_%Hh%Mm%Ss"),
            "name": "%s sample %d" % (organisms[i % 5].split()[0], i),
            "created": t.isoformat(timespec="seconds"),
            "submitter": labs[i % 5], "status": "FINISHED", "public": i % 7 != 0,
            "polarity": "POSITIVE" if i % 2 else "NEGATIVE", "organism": organisms[i % 5],
            "projects": ["project-%d" % (i % 40)],
        }) + "\n")
PY
printf '{"processing": true, "readOnly": false}\n' > "$DATA/health.json"
python3 -c 'import secrets; print(secrets.token_hex(24))' > "$DATA/admin-token"
chmod 600 "$DATA/admin-token"
install -m 600 "$DATA/admin-token" "$DIR/metaspace-admin-token"
sed -e "s|@SUP@|$SUP|g" -e "s|@HOME@|$H|g" "$here/supervisor/supervisord.conf.in" > "$SUP/supervisord.conf"
sed -e "s|@APP@|$APP|g" -e "s|@CONF@|$HCONF|g" -e "s|@HOME@|$H|g" -e "s|@PYTHON@|/usr/bin/python3|g" \
  "$here/supervisor/metaspace.conf.in" > "$SUP/conf.d/metaspace.conf"
ln -s supervisor/supervisord.conf "$H/supervisord.conf"
chown -R "$U:" "$H/metaspace-conf" "$DATA" "$SUP"
chown -h "$U:" "$H/supervisord.conf"
SUPERVISORCTL="/usr/bin/supervisorctl -c $SUP/supervisord.conf"
(cd "$H" && as_user /usr/bin/supervisord -c "$SUP/supervisord.conf")
# The site: nginx in front of both sm-api processes (tested, then reloaded as sandbox.sh does).
sed -e "s|@PORT0@|$APP_PORT|g" -e "s|@PORT1@|$APP_PORT1|g" -e "s|@SITE_PORT@|$SITE_PORT|g" \
  "$here/nginx/metaspace.conf.in" > "$SITE"
chown "$U:" "$SITE"
as_user $NGINX -t 2>/dev/null || { as_user $NGINX -t >&2; exit 1; }
as_user $NGINX -s reload
ok=""
for _ in $(seq 150); do
  if curl -sf "http://127.0.0.1:$APP_PORT/" 2>/dev/null | grep -q "METASPACE $V" \
    && curl -sf "http://127.0.0.1:$APP_PORT1/" 2>/dev/null | grep -q "METASPACE $V" \
    && curl -sf "http://127.0.0.1:$SITE_PORT/" 2>/dev/null | grep -q "METASPACE $V" \
    && [ "$(as_user $SUPERVISORCTL status 2>/dev/null | grep -c ' RUNNING ')" = 4 ]; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || { echo "setup.sh: the programs or the site did not start:" >&2; as_user $SUPERVISORCTL status >&2 || true; tail -20 "$APP"/metaspace/*/logs/*.log "$NG/logs/error.log" >&2 || true; exit 1; }

# --- The Ansible config repository (ansible/aws/env) ---------------------------------------------
make_ansible_repos() {
git init -q -b master "$WORK"
cp -r "$here/ansible/." "$WORK/"
sed -i -e "s|@SSH_PORT@|$SSH_PORT|g" -e "s|@USER@|$U|g" "$WORK/env/prod/hosts"
sed -i -e "s|@ORIGIN@|$ORIGIN|g" "$WORK/env/prod/group_vars/webservers.yml"
commit "Production inventory and web deployment"
git init -q --bare "$AORIGIN"
g remote add origin "$AORIGIN"; g push -q origin master
git clone -q "$AORIGIN" "$ACLONE"
if has ansible; then
  sed -i 's/^metaspace_start_timeout: 60$/metaspace_start_timeout: 90/' "$WORK/env/prod/group_vars/webservers.yml"
  commit "Give the app longer to start"; g push -q origin master
fi
rm -rf "$WORK"
chmod -R a+rX "$AORIGIN"
}
if [ -z "$SHARED" ]; then make_ansible_repos; fi
if [ -n "$SHARED" ]; then CLONE=; AORIGIN=; ACLONE=; fi

ENVF=$DIR/metaspace.env
cat > "$ENVF" <<ENV
METASPACE_DIR='$DIR'
METASPACE_HOST_USER='$U'
METASPACE_HOST_HOME='$H'
METASPACE_SSH_PORT='$SSH_PORT'
METASPACE_PRIVATE_KEY='$SANDBOX_DIR/client_ed25519'
METASPACE_KNOWN_HOSTS='$SANDBOX_DIR/known_hosts'
METASPACE_SITE_PORT='$SITE_PORT'
METASPACE_SITE_URL='http://127.0.0.1:$SITE_PORT/'
METASPACE_SITE_SEARCH_URL='http://127.0.0.1:$SITE_PORT/search'
METASPACE_SITE_ADMIN_URL='http://127.0.0.1:$SITE_PORT/admin/health'
METASPACE_SITE_SUBMIT_URL='http://127.0.0.1:$SITE_PORT/datasets'
METASPACE_NGINX_SITE='$SITE'
METASPACE_NGINX_RELOAD='$NGINX -s reload'
METASPACE_APP_PORT='$APP_PORT'
METASPACE_APP_PORTS='$APP_PORT $APP_PORT1'
METASPACE_APP_URL='http://127.0.0.1:$APP_PORT/'
METASPACE_APP_URLS='http://127.0.0.1:$APP_PORT/ http://127.0.0.1:$APP_PORT1/'
METASPACE_SEARCH_URL='http://127.0.0.1:$APP_PORT/search'
METASPACE_ADMIN_URL='http://127.0.0.1:$APP_PORT/admin/health'
METASPACE_SUBMIT_URL='http://127.0.0.1:$APP_PORT/datasets'
METASPACE_ADMIN_TOKEN_FILE='$DIR/metaspace-admin-token'
METASPACE_HOST_ADMIN_TOKEN_FILE='$DATA/admin-token'
METASPACE_READ_ONLY_TEXT='METASPACE is in read-only mode'
METASPACE_VERSION='$V'
METASPACE_LAST_TAG='1.7.4'
METASPACE_CHANGES='$CHANGES'
METASPACE_ORIGIN='$ORIGIN'
METASPACE_ORIGIN_URL='file://$ORIGIN'
METASPACE_CLONE='$CLONE'
METASPACE_MAIN_BRANCH='master'
METASPACE_RELEASE_BRANCH='release'
METASPACE_ANSIBLE_ORIGIN='$AORIGIN'
METASPACE_ANSIBLE_CLONE='$ACLONE'
METASPACE_ANSIBLE_BRANCH='master'
METASPACE_INVENTORY='env/prod/hosts'
METASPACE_INVENTORY_FILE='${ACLONE:+$ACLONE/env/prod/hosts}'
METASPACE_INVENTORY_HOST='metaspace-web'
METASPACE_PLAYBOOK='deploy.yml'
METASPACE_APP_DIR='$APP'
METASPACE_ENGINE_DIR='$APP/metaspace/engine'
METASPACE_HOST_CONFIG='$HCONF'
METASPACE_DATA_FILE='$DATA/datasets.jsonl'
METASPACE_DATASETS='$N'
METASPACE_STATE_FILE='$DATA/health.json'
METASPACE_ES_URL='$ES_URL'
METASPACE_ES_ALIAS='sm'
METASPACE_ES_INDEX_DEFINITION='${CLONE:+$CLONE/metaspace/engine/sm/engine/es_index.json}'
METASPACE_LOAD_INDEX='$here/load-index.sh'
METASPACE_UPDATE_COMMAND='python3 $APP/metaspace/engine/scripts/update_es_index.py --config $HCONF'
METASPACE_PROGRESS_REGEX='indexed (?<done>\\d+)/(?<total>\\d+)'
METASPACE_SUPERVISORCTL='$SUPERVISORCTL'
METASPACE_PROGRAMS='sm-api:sm-api_0 sm-api:sm-api_1 sm-graphql sm-update-daemon'
METASPACE_API_PROCESSES='sm-api:sm-api_0 sm-api:sm-api_1'
METASPACE_LOGS='$APP/metaspace/engine/logs/sm-api_0.log $APP/metaspace/engine/logs/sm-api_1.log $APP/metaspace/graphql/logs/sm-graphql.log $APP/metaspace/engine/logs/sm-update-daemon.log'
ENV
cat "$ENVF"
echo "metaspace up: $V on $U@127.0.0.1:$SSH_PORT, site http://127.0.0.1:$SITE_PORT/ (nginx in front of sm-api on $APP_PORT and $APP_PORT1), $N datasets, changes on master: ${CHANGES:-none}"
