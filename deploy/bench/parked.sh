#!/usr/bin/env bash
# Benchmark 3, parked releases: see starter/src/test/java/dev/crewchief/bench/Parked.java.
# Like every benchmark's worker, this one runs with $CREWCHIEF_JAVA_OPTS when set (what
# deploy/bin/crewchief-worker passes to java), else with the options the README's performance
# section recommends (Bench.WORKER_JAVA_OPTS), and MALLOC_ARENA_MAX=2 unless set.
set -euo pipefail
exec java -cp "$BENCH_CP" dev.crewchief.bench.Parked
