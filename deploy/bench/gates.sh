#!/usr/bin/env bash
# Benchmark 2, gate latency: see starter/src/test/java/dev/crewchief/bench/GateLatency.java.
set -euo pipefail
exec java -cp "$BENCH_CP" dev.crewchief.bench.GateLatency
