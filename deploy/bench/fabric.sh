#!/usr/bin/env bash
# Benchmark 6: RandoPony's staging update by Crew Chief and by a Fabric fabfile doing the same
# steps (deploy/bench/fabfile.py), on the same sandbox host with the same key, pairs alternating
# which side goes first. Run by deploy/bench.sh (as root: the sandbox makes a user, sshd and nginx),
# which gives BENCH_TEMPORAL, BENCH_OUT, BENCH_ROOT and BENCH_QUICK.
#
# Crew Chief's side is what a release engineer runs: `crewchief start randopony-staging --env bench
# --version R --wait`, a CLI JVM start included, against the packaged worker (deploy/bin). Fabric's
# side is `fab deploy-staging` (PyPI fabric, pinned), its Python start included. Both update the
# same already deployed release, so each run does the same work. Prints the median wall-time ratio
# crewchief/fabric and the release's own wall time (workflow start to close, from the server).
set -euo pipefail
root=${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
out=${BENCH_OUT:?BENCH_OUT: run through deploy/bench.sh}
: "${BENCH_TEMPORAL:?BENCH_TEMPORAL: run through deploy/bench.sh}"
quick=${BENCH_QUICK:-0}
pairs=10; [ "$quick" = 1 ] && pairs=3
release=2015r1
fabric_version=3.2.2
# invoke 3 breaks fab 3.2.2's task calls (make_context's core_parse_result): pinned with it.
pins=("fabric==$fabric_version" "invoke==2.2.0" "paramiko==3.5.1")
[ "$(id -u)" = 0 ] || { echo "fabric.sh: run as root (the sandbox host makes a user, sshd and nginx)" >&2; exit 2; }

# Fabric, pinned, in its own virtualenv next to the other tools (or in the scratch dir).
tools=${CREWCHIEF_TOOLS:-/opt/crewchief/tools}
venv=$tools/fabric-$fabric_version
if ! "$venv/bin/fab" --version 2>/dev/null | grep -q 'Invoke 2.2.0'; then
  if ! { mkdir -p "$tools" && [ -w "$tools" ]; }; then venv=$out/fabric-$fabric_version; fi
  echo "installing ${pins[*]} into $venv" >&2
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}" >&2
fi
"$venv/bin/fab" --version >&2

sandbox=$out/sandbox
worker_pid=
cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
  SANDBOX_USER=ccbench SANDBOX_ENV=bench bash "$root/deploy/sandbox/sandbox.sh" down "$sandbox" >&2 || true
}
trap cleanup EXIT
SANDBOX_USER=ccbench SANDBOX_ENV=bench bash "$root/deploy/sandbox/sandbox.sh" up "$sandbox" >&2
# shellcheck disable=SC1091
. "$sandbox/sandbox.env"
config=$sandbox/crewchief.yaml
app_port=$(grep -m1 "\"$release\":" "$config" | sed -E 's/.*: *([0-9]+).*/\1/')
nginx_dir=$SANDBOX_DIR/home/nginx
nginx="/usr/sbin/nginx -p $nginx_dir/ -e $nginx_dir/logs/error.log -c $nginx_dir/conf/nginx.conf"

export TEMPORAL_ADDRESS=$BENCH_TEMPORAL CREWCHIEF_CONFIG=$config
"$root/deploy/bin/crewchief-worker" > "$out/worker.log" 2>&1 &
worker_pid=$!

temporal_bin=${CREWCHIEF_TEMPORAL_BIN:-$tools/bin/temporal}
wf_id=release-randopony-staging-bench-$release
now() { date +%s.%N; }

crewchief_deploy() {
  "$root/deploy/bin/crewchief" start randopony-staging --env bench --version "$release" --wait \
    >> "$out/crewchief.log" 2>&1 || { tail -40 "$out/crewchief.log" >&2; tail -40 "$out/worker.log" >&2; return 1; }
}
# The release's own wall time: the workflow's start to close on the server, in seconds.
release_time() {
  "$temporal_bin" workflow describe --address "$BENCH_TEMPORAL" -w "$wf_id" -o json 2>/dev/null | python3 -c '
import json, sys, re, calendar
i = json.load(sys.stdin)["workflowExecutionInfo"]
def t(s):
    m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(\.\d+)?Z$", s)
    return calendar.timegm(tuple(int(g) for g in m.groups()[:6])) + float(m.group(7) or 0)
print("%.3f" % (t(i["closeTime"]) - t(i["startTime"])))'
}
fabric_deploy() {
  FAB_APP=randopony FAB_RELEASE=$release FAB_WEBAPPS=$SANDBOX_DIR/home/webapps \
  FAB_CODE_DIR_NAME=randopony-tetra FAB_SOURCE=$root/deploy/sandbox/randopony-tetra \
  FAB_KNOWN_HOSTS=$SANDBOX_DIR/known_hosts FAB_PORT=$app_port \
  FAB_SUPERVISORD=/usr/bin/supervisord FAB_SUPERVISORCTL=/usr/bin/supervisorctl \
  FAB_NGINX_SITES=$nginx_dir/sites FAB_NGINX_LISTEN=127.0.0.1:$NGINX_PORT \
  FAB_NGINX_PID=$nginx_dir/nginx.pid FAB_NGINX_TEST="$nginx -t" FAB_NGINX_RELOAD="$nginx -s reload" \
  FAB_NGINX_PROBE_URL=http://127.0.0.1:$NGINX_PORT/ FAB_DOMAIN=randopony.staging.test \
    "$venv/bin/fab" -r "$root/deploy/bench" -H "$SANDBOX_USER@127.0.0.1:$SSH_PORT" \
    -i "$SANDBOX_DIR/client_ed25519" deploy-staging >> "$out/fabric.log" 2>&1 \
    || { tail -40 "$out/fabric.log" >&2; return 1; }
}
timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); python3 -c "print('%.3f' % ($t1 - $t0))"; }

# The worker polls before the first start: `start --wait` would not wait for a queue nobody polls.
for _ in $(seq 1 240); do
  "$temporal_bin" task-queue describe --address "$BENCH_TEMPORAL" --task-queue crewchief -o json 2>/dev/null \
    | grep -q '"identity"' && break
  kill -0 "$worker_pid" 2>/dev/null || { cat "$out/worker.log" >&2; echo "fabric.sh: the worker exited" >&2; exit 1; }
  sleep 0.5
done

echo "first deployment of randopony$release by Crew Chief (not timed)" >&2
crewchief_deploy
echo "one update by each side to warm up (not timed)" >&2
crewchief_deploy
fabric_deploy
# SSH logins (connections: TCP, key exchange, public-key auth) sshd accepted, for each side's run.
logins() { grep -c 'Accepted publickey' "$sandbox/sshd.log" || true; }
run_crewchief() { local n; n=$(logins); c=$(timed crewchief_deploy); r=$(release_time); cl=$(( $(logins) - n )); }
run_fabric() { local n; n=$(logins); f=$(timed fabric_deploy); fl=$(( $(logins) - n )); }

printf 'pair\tcrewchief_s\trelease_s\tfabric_s\tcrewchief_logins\tfabric_logins\n' >&2
: > "$out/pairs.tsv"
for i in $(seq 1 "$pairs"); do
  if [ $((i % 2)) = 1 ]; then run_crewchief; run_fabric; else run_fabric; run_crewchief; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$c" "$r" "$f" "$cl" "$fl" | tee -a "$out/pairs.tsv" >&2
done

python3 - "$out/pairs.tsv" "$pairs" <<'PY'
import json, statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
pairs = int(sys.argv[2])
c = [float(r[1]) for r in rows]; rel = [float(r[2]) for r in rows]; f = [float(r[3]) for r in rows]
cl = [int(r[4]) for r in rows]; fl = [int(r[5]) for r in rows]
ratio = statistics.median(a / b for a, b in zip(c, f))
relratio = statistics.median(a / b for a, b in zip(rel, f))
med = statistics.median
def fig(figure, value, unit, target, met, note):
    print(json.dumps({"benchmark": "fabric", "figure": figure, "value": round(value, 3), "unit": unit,
                      "target": target, "met": met, "note": note}))
fig("median wall-time ratio crewchief/fabric", ratio, "x", "<= 1.0", ratio <= 1.0,
    "%d pairs alternating; crewchief (CLI start --wait) %.2f s, fabric (fab) %.2f s" % (pairs, med(c), med(f)))
fig("median ratio release's own wall time/fabric", relratio, "x", "", None,
    "workflow start to close %.2f s (no CLI JVM start)" % med(rel))
fig("SSH logins per Crew Chief deploy", med(cl), "", "", None,
    "median of sshd's accepted logins during a run (0: the worker's connection from the run"
    " before still served); the fabfile's: %d" % med(fl))
PY
