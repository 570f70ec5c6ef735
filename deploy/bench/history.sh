#!/usr/bin/env bash
# Benchmark 4, history economy: see starter/src/test/java/dev/crewchief/bench/HistoryEconomy.java.
set -euo pipefail
exec java -cp "$BENCH_CP" dev.crewchief.bench.HistoryEconomy
