#!/usr/bin/env bash
# Benchmark 5, CLI speed: `crewchief status`, `list`, `approve` and `start --help` (median of 10,
# 5 with BENCH_QUICK=1), each beside the Temporal CLI's equivalent (`workflow describe`,
# `workflow list`, `workflow update execute`, `workflow start --help`), alternating A B per sample.
# Run by deploy/bench.sh, which built the tree and started the dev server (BENCH_TEMPORAL).
#
# It starts the packaged worker (deploy/bin/crewchief-worker) with the demo's config (a throwaway
# SSH key and host entry: a rehearsal only checks that its references resolve) and parks RandoPony
# promotion rehearsals (--dry-run) at their gate: each approve, Crew Chief's and Temporal's, gets a
# fresh one. The first figure is the first command after a build, which writes the launcher's
# class-data-sharing archive (deploy/bin/crewchief); every later command maps it.
set -euo pipefail
root=${BENCH_ROOT:?run by deploy/bench.sh}
out=${BENCH_OUT:?}
address=${BENCH_TEMPORAL:?}
quick=${BENCH_QUICK:-0}
n=10
[ "$quick" = 1 ] && n=5
temporal_bin=${CREWCHIEF_TEMPORAL_BIN:-${CREWCHIEF_TOOLS:-/opt/crewchief/tools}/bin/temporal}
cc="$root/deploy/bin/crewchief"
gate=confirm-release

# The demo's environment, with a port for every rehearsal's version and references that resolve.
ssh-keygen -q -t ed25519 -N '' -C bench -f "$out/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$out/host_key"
echo "127.0.0.1 $(cut -d' ' -f1,2 "$out/host_key.pub")" > "$out/known_hosts"
ports='"2013r1": 19306'
for i in $(seq 1 $((2 * n + 1))); do ports="$ports, \"2014r$i\": $((19400 + i))"; done
sed -e "s#knownHosts: .*#knownHosts: $out/known_hosts#" \
  -e "s#sourceDir: .*#sourceDir: $root/deploy/sandbox/randopony-tetra#" \
  -e "s#releasePorts: .*#releasePorts: { $ports }#" \
  "$root/deploy/examples/randopony-demo.yaml" > "$out/crewchief.yaml"
RANDOPONY_SSH_KEY=$(cat "$out/id_ed25519")
export RANDOPONY_SSH_KEY TEMPORAL_ADDRESS=$address CREWCHIEF_LOG_LEVEL=WARN
unset TEMPORAL_NAMESPACE TEMPORAL_PROFILE TEMPORAL_CONFIG_FILE CREWCHIEF_CDS
export CREWCHIEF_CONFIG="$out/crewchief.yaml"

"$root/deploy/bin/crewchief-worker" --config "$out/crewchief.yaml" > "$out/worker.log" 2>&1 &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  "$temporal_bin" task-queue describe --address "$address" --task-queue crewchief -o json 2>/dev/null |
    grep -q '"identity"' && break
  kill -0 "$worker_pid" 2>/dev/null || { cat "$out/worker.log" >&2; echo "cli.sh: the worker exited" >&2; exit 1; }
  sleep 0.5
done

# The first command after a build writes the archive: measured once, from no archive.
rm -f "$root/starter/target/crewchief.jsa"
echo "starting $((2 * n + 1)) rehearsals (the first one writes the class-data archive)..." >&2
first_start=$(date +%s.%N)
"$cc" start randopony-promote --env demo --version 2014r1 --previous 2013r1 --dry-run > /dev/null
first=$(echo "$(date +%s.%N) - $first_start" | bc)
for i in $(seq 2 $((2 * n + 1))); do
  "$cc" start randopony-promote --env demo --version "2014r$i" --previous 2013r1 --dry-run > /dev/null
done
for i in $(seq 1 $((2 * n + 1))); do
  id="release-randopony-promote-demo-2014r$i"
  # The search attribute is shown as its JSON payload, base64: "WAITING_FOR_GATE" is IldBSVRJTkdfRk9SX0dBVEUi.
  for _ in $(seq 1 100); do
    "$temporal_bin" workflow describe --address "$address" -w "$id" -o json 2>/dev/null |
      grep -q -e WAITING_FOR_GATE -e IldBSVRJTkdfRk9SX0dBVEUi && break
    sleep 0.2
  done
done

python3 - "$n" "$cc" "$temporal_bin" "$address" "$gate" "$first" <<'PY'
import json, os, statistics, subprocess, sys, time, datetime
n, cc, tb, address, gate, first = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])

def run(cmd):
    """Wall and CPU seconds (user + sys of the process and its children) of one command."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit("cli.sh: %s exited %d: %s" % (" ".join(cmd), code, err.strip()[-400:]))
    return wall, ru.ru_utime + ru.ru_stime

def decision():
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({"gate": gate, "decision": "APPROVE", "approver": "alice", "comment": "bench", "issuedAt": now})

parked = ["release-randopony-promote-demo-2014r%d" % i for i in range(1, 2 * n + 2)]
watched = parked[0]  # stays at its gate: status reads it
fresh = parked[1:]
t = ["--address", address]
cases = [
    ("status", lambda i: [cc, "status", watched],
     lambda i: [tb, "workflow", "describe", *t, "-w", watched], "temporal workflow describe", "<= 0.5"),
    ("list", lambda i: [cc, "list"],
     lambda i: [tb, "workflow", "list", *t], "temporal workflow list", "<= 0.5"),
    ("approve", lambda i: [cc, "approve", fresh[2 * i], gate, "--as", "alice", "-m", "bench"],
     lambda i: [tb, "workflow", "update", "execute", *t, "-w", fresh[2 * i + 1], "--name", "decideGate",
                "--input", decision()], "temporal workflow update execute", None),
    ("start --help", lambda i: [cc, "start", "randopony-promote", "--help"],
     lambda i: [tb, "workflow", "start", "--help"], "temporal workflow start --help", None),
]
figures = [{"benchmark": "cli", "figure": "first command after a build (crewchief start, writes the class-data archive)",
            "value": round(first, 2), "unit": "s", "target": "", "met": None,
            "note": "once per build; every later command maps the archive"}]
for name, ours, theirs, what, target in cases:
    a, b, cpu = [], [], []
    for i in range(n):
        w, c = run(ours(i)); a.append(w); cpu.append(c)
        w, _ = run(theirs(i)); b.append(w)
    med = statistics.median(a)
    row = {"benchmark": "cli", "figure": "crewchief %s median of %d" % (name, n), "value": round(med, 3), "unit": "s",
           "target": target or "", "met": (med <= float(target.split()[-1])) if target else None,
           "note": "%s: %.3f s; crewchief CPU %.2f s; min-max %.2f-%.2f s"
                   % (what, statistics.median(b), statistics.median(cpu), min(a), max(a))}
    print(json.dumps(row), flush=True)
    print("%-14s crewchief %.3f s (CPU %.2f s)  %s %.3f s" % (name, med, statistics.median(cpu), what, statistics.median(b)), file=sys.stderr)
print(json.dumps(figures[0]), flush=True)
PY
