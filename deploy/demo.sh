#!/usr/bin/env bash
# A whole RandoPony promotion rehearsed on the embedded default: builds the tree, then runs the
# release with --dry-run, approving the gate as alice, and prints the report.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mvn -q -B -ntp -DskipTests package
export CREWCHIEF__environments__demo__randopony__sourceDir="$root/deploy/sandbox/randopony-tetra"
export CREWCHIEF_LOG_LEVEL=${CREWCHIEF_LOG_LEVEL:-WARN}
unset TEMPORAL_ADDRESS
exec deploy/bin/crewchief --config deploy/examples/randopony-demo.yaml \
  start randopony-promote --env demo --version 2014r1 --previous 2013r1 --dry-run --approve-as alice
