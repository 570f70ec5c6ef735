#!/usr/bin/env bash
# Benchmark 1, orchestration overhead: see starter/src/test/java/dev/crewchief/bench/Overhead.java.
set -euo pipefail
exec java -cp "$BENCH_CP" dev.crewchief.bench.Overhead
