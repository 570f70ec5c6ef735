#!/usr/bin/env bash
# A whole RandoPony promotion rehearsed on the embedded default: builds the tree, then runs the
# release with --dry-run, approving the gate as alice, and prints the report.
# A rehearsal checks every reference the real run would need (the SSH key, the host's entry in
# known_hosts), so the demo makes a throwaway key and host entry for its host and removes them after.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# CREWCHIEF_DEMO_SKIP_BUILD=1 skips the build (the tests run this script after theirs).
[ "${CREWCHIEF_DEMO_SKIP_BUILD:-}" = 1 ] || mvn -q -B -ntp -DskipTests package
export CREWCHIEF__environments__demo__randopony__sourceDir="$root/deploy/sandbox/randopony-tetra"
export CREWCHIEF_LOG_LEVEL=${CREWCHIEF_LOG_LEVEL:-WARN}
unset TEMPORAL_ADDRESS
command -v ssh-keygen >/dev/null || { echo "demo.sh: ssh-keygen is needed (Debian: apt-get install openssh-client)" >&2; exit 2; }
demo_dir=$(mktemp -d -t crewchief-demo.XXXXXX)
trap 'rm -rf "$demo_dir"' EXIT
ssh-keygen -q -t ed25519 -N '' -C crewchief-demo -f "$demo_dir/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C demo-host -f "$demo_dir/host_key"
echo "127.0.0.1 $(cut -d' ' -f1,2 "$demo_dir/host_key.pub")" > "$demo_dir/known_hosts"
RANDOPONY_SSH_KEY=$(cat "$demo_dir/id_ed25519")
export RANDOPONY_SSH_KEY
export CREWCHIEF__environments__demo__hosts__webfaction__knownHosts="$demo_dir/known_hosts"
deploy/bin/crewchief --config deploy/examples/randopony-demo.yaml \
  start randopony-promote --env demo --version 2014r1 --previous 2013r1 --dry-run --approve-as alice
