#!/usr/bin/env bash
# Crew Chief's benchmarks, on this machine, against the real Temporal dev server on loopback:
#   bash deploy/bench.sh [--quick] [NAME...]
# Run after the README's test command (deploy/test.sh) has installed the tools. Builds the tree,
# starts `temporal server start-dev` (in memory, the Crew Chief search attributes registered), runs
# each benchmark of deploy/bench/ (or only those NAMEd: overhead gates parked history cli fabric),
# prints a table (figure, value, target, met) with the machine's cores and load, and writes the
# same as JSON to target/bench.json. --quick runs smaller samples (under 3 minutes in all).
#
# A benchmark is deploy/bench/NAME.sh; it gets BENCH_QUICK (0/1), BENCH_TEMPORAL (host:port),
# BENCH_ROOT, BENCH_OUT (its own scratch dir) and BENCH_CP (the classpath of the built tree with
# the starter's test classes, where the Java benchmarks live: dev.crewchief.bench) and prints one
# JSON object per figure on stdout:
#   {"benchmark":"overhead","figure":"median wall-time ratio","value":1.04,"unit":"x",
#    "target":"<= 1.1","met":true,"note":"20 pairs, A B A B"}
# Anything else it prints goes to stderr (shown, not parsed).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
quick=0
names=()
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench.sh: unknown option $a (expected --quick or benchmark names)" >&2; exit 2 ;;
    *) names+=("$a") ;;
  esac
done
all=(overhead gates parked history cli fabric)
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for n in "${names[@]}"; do
  [ -f "deploy/bench/$n.sh" ] || { echo "bench.sh: no benchmark '$n' (known: ${all[*]})" >&2; exit 2; }
done

temporal_bin=${CREWCHIEF_TEMPORAL_BIN:-${CREWCHIEF_TOOLS:-/opt/crewchief/tools}/bin/temporal}
if [ ! -x "$temporal_bin" ]; then
  echo "bench.sh: the Temporal CLI is not at $temporal_bin: run the README's test command (bash deploy/test.sh) first, or set CREWCHIEF_TEMPORAL_BIN" >&2
  exit 2
fi

echo "building (mvn -DskipTests package)..." >&2
mvn -B -q -o -DskipTests package >&2 || mvn -B -q -ntp -DskipTests package >&2
lib="$root/starter/target"
export BENCH_CP="$lib/test-classes:$(ls "$lib"/crewchief-starter-*.jar | head -1):$lib/lib/*"
export BENCH_ROOT=$root BENCH_QUICK=$quick

out="$root/target/bench"
rm -rf "$out"; mkdir -p "$out"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
ui_port=$(free_port)
sa=()
for name in CrewChiefRunbook CrewChiefEnvironment CrewChiefVersion CrewChiefStep CrewChiefStatus; do
  sa+=(--search-attribute "$name=Keyword")
done
"$temporal_bin" server start-dev --ip 127.0.0.1 --port "$port" --ui-ip 127.0.0.1 --ui-port "$ui_port" \
  --headless --log-level error "${sa[@]}" > "$out/temporal.log" 2>&1 &
temporal_pid=$!
cleanup() { kill "$temporal_pid" 2>/dev/null || true; wait "$temporal_pid" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
export BENCH_TEMPORAL=127.0.0.1:$port
for _ in $(seq 1 120); do
  "$temporal_bin" operator namespace describe --address "$BENCH_TEMPORAL" default >/dev/null 2>&1 && break
  kill -0 "$temporal_pid" 2>/dev/null || { cat "$out/temporal.log" >&2; echo "bench.sh: the dev server exited" >&2; exit 1; }
  sleep 0.5
done

results="$out/results.jsonl"
: > "$results"
failed=()
for n in "${names[@]}"; do
  echo "== $n" >&2
  mkdir -p "$out/$n"
  if ! BENCH_OUT="$out/$n" bash "deploy/bench/$n.sh" > "$out/$n/figures.jsonl"; then
    failed+=("$n")
    echo "bench.sh: benchmark $n failed (its output: $out/$n)" >&2
  fi
  grep '^{' "$out/$n/figures.jsonl" >> "$results" || true
done

cores=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$results" "$root/target/bench.json" "$cores" "$load" "$quick" "${failed[*]:-}" <<'PY'
import json, sys, platform, datetime
src, dst, cores, load, quick, failed = sys.argv[1:7]
rows = [json.loads(l) for l in open(src) if l.strip()]
machine = {"cores": int(cores), "load": load, "host": platform.node(),
           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
           "quick": quick == "1", "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
json.dump({"machine": machine, "figures": rows, "failed": failed.split()}, open(dst, "w"), indent=2)
def fmt(v):
    return ("%.3g" % v) if isinstance(v, float) else str(v)
table = [("benchmark", "figure", "value", "target", "met", "note")]
for r in rows:
    table.append((r.get("benchmark", ""), r.get("figure", ""), fmt(r.get("value", "")) + " " + r.get("unit", ""),
                  r.get("target", ""), {True: "yes", False: "NO"}.get(r.get("met"), "-"), r.get("note", "")))
w = [max(len(str(t[i])) for t in table) for i in range(5)]
print("machine: %d cores (%s), load %s%s" % (machine["cores"], machine["cpu"], load, ", --quick" if machine["quick"] else ""))
for i, t in enumerate(table):
    print("| " + " | ".join(str(t[j]).ljust(w[j]) for j in range(5)) + " | " + t[5])
    if i == 0:
        print("|" + "|".join("-" * (w[j] + 2) for j in range(5)) + "|")
print("written to " + dst)
if failed:
    print("FAILED benchmarks: " + failed)
PY
[ ${#failed[@]} -eq 0 ]
