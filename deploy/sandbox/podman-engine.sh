#!/usr/bin/env bash
# A Docker-Engine-API-compatible engine for tests and rehearsals (run as root): Debian's podman
# with runc, serving the Docker API on a unix socket, everything (config, storage, socket) under DIR.
#   podman-engine.sh up DIR     installs podman runc catatonit busybox-static docker-registry
#                               apache2-utils when missing, starts `podman system service` on
#                               DIR/podman.sock, imports three versions of a small busybox httpd
#                               image, starts a registry (Debian's docker-registry, the
#                               distribution project's server) on a free loopback port with basic
#                               auth, pushes the images there, and writes DIR/engine.env
#                               (DOCKER_HOST, APP_IMAGE_V1..V3, REGISTRY, REGISTRY_AUTH_FILE)
#   podman-engine.sh down DIR   removes every container of the engine, stops the service and the
#                               registry (DIR, with the images, stays; delete it afterwards if it
#                               was temporary)
# The images serve /www/index.html, which says "crewchief-app v1", "v2" or "v3". In the registry
# they are REGISTRY/crewchief/app:v1..v3; REGISTRY_AUTH_FILE is the JSON login
# ({"username":..,"password":..}) that a registryAuth: file:... reference points at. The registry
# speaks plain HTTP on loopback; the engine is told so in DIR/registries.conf.
#
# podman runs healthchecks from systemd timers, and these machines have no systemd: a small loop
# (DIR/health.pid) stands in for the timers and runs the healthcheck of every running container
# that has one, once a second, so that health goes from "starting" to "healthy" as on Docker.
set -euo pipefail
cmd=${1:?usage: podman-engine.sh up|down DIR}
DIR=${2:?usage: podman-engine.sh up|down DIR}
mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
# CONTAINERS_CONF is also handed on to conmon's cleanup process, so containers stay in this engine.
export CONTAINERS_CONF=$DIR/containers.conf CONTAINERS_STORAGE_CONF=$DIR/storage.conf
export CONTAINERS_REGISTRIES_CONF=$DIR/registries.conf

down() {
  if [ -f "$DIR/containers.conf" ]; then podman rm -af -t 2 >/dev/null 2>&1 || true; fi
  if [ -f "$DIR/health.pid" ]; then kill "$(cat "$DIR/health.pid")" 2>/dev/null || true; fi
  if [ -f "$DIR/registry.pid" ]; then kill "$(cat "$DIR/registry.pid")" 2>/dev/null || true; fi
  if [ -f "$DIR/service.pid" ]; then
    pid=$(cat "$DIR/service.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DIR/service.pid" "$DIR/health.pid" "$DIR/registry.pid" "$DIR/podman.sock"
  # The overlay driver keeps its home bind-mounted; release it so that DIR can be deleted.
  umount "$DIR/storage/overlay" 2>/dev/null || true
}

if [ "$cmd" = down ]; then down; exit 0; fi
[ "$cmd" = up ] || { echo "usage: podman-engine.sh up|down DIR" >&2; exit 2; }

# runc, not crun: Debian 12's crun refuses this kind of machine's hybrid cgroup v1/v2 layout.
# catatonit is podman's init for containers created with Init: true (fast, clean stops).
need=()
for pb in podman:/usr/bin/podman runc:/usr/sbin/runc catatonit:/usr/bin/catatonit \
  busybox-static:/bin/busybox curl:/usr/bin/curl docker-registry:/usr/bin/docker-registry \
  apache2-utils:/usr/bin/htpasswd; do
  [ -e "${pb#*:}" ] || need+=("${pb%%:*}")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package's own registry service is not wanted: each engine runs its own.
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

down
# podman's default nofile/nproc limits (1048576) cannot be applied without CAP_SYS_RESOURCE, and
# podman caps its own nproc at 32768: containers get the limits this process already has.
HN=$(ulimit -Hn); HU=$(ulimit -Hu); [ "$HU" = unlimited ] && HU=32768; [ "$HU" -gt 32768 ] && HU=32768
cat > "$DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$HN:$HN", "nproc=$HU:$HU"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
# Exec sessions made through the API keep their conmon this long so that clients can read the
# exit code after the output (the default is 300 s).
exit_command_delay = 30
tmp_dir = "$DIR/libpod-tmp"
[network]
network_config_dir = "$DIR/net"
CONF
# The storage driver must be set before the first use of the graph root.
cat > "$DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "$DIR/run"
CONF

# Three versions of one app image, imported from a busybox-static root filesystem (no public
# registry is reachable from test machines).
for v in v1 v2 v3; do
  if ! podman image exists "localhost/crewchief-app:$v"; then
    R=$DIR/rootfs-$v; rm -rf "$R"; mkdir -p "$R"/{bin,www,tmp,etc,proc,sys,dev,root}
    cp /bin/busybox "$R/bin/busybox"
    for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
    echo "crewchief-app $v" > "$R/www/index.html"
    echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"; echo 'root:x:0:' > "$R/etc/group"
    tar -C "$R" -cf "$DIR/rootfs-$v.tar" .
    podman import -q --change 'CMD ["/bin/sh"]' --change "LABEL org.opencontainers.image.version=$v" \
      "$DIR/rootfs-$v.tar" "localhost/crewchief-app:$v" >/dev/null
    rm -rf "$R" "$DIR/rootfs-$v.tar"
  fi
done

# The registry: plain HTTP on loopback, basic auth (bcrypt htpasswd) for one user. It starts
# before the engine's service, which reads registries.conf (the registry is insecure) at start.
REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
REGISTRY=127.0.0.1:$REG_PORT
REG_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
mkdir -p "$DIR/registry"
htpasswd -Bbn crewchief "$REG_PASSWORD" > "$DIR/registry/htpasswd"
printf '{"username":"crewchief","password":"%s"}' "$REG_PASSWORD" > "$DIR/registry-auth.json"
chmod 600 "$DIR/registry-auth.json"
cat > "$DIR/registry/config.yml" <<CONF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $DIR/registry/data }, delete: { enabled: true } }
http: { addr: "$REGISTRY" }
auth: { htpasswd: { realm: crewchief-sandbox, path: $DIR/registry/htpasswd } }
CONF
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REGISTRY" > "$DIR/registries.conf"
nohup docker-registry serve "$DIR/registry/config.yml" > "$DIR/registry.log" 2>&1 &
echo $! > "$DIR/registry.pid"
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/")" = 401 ] && break; sleep 0.05; done
for v in v1 v2 v3; do
  podman tag "localhost/crewchief-app:$v" "$REGISTRY/crewchief/app:$v"
  podman push -q --creds "crewchief:$REG_PASSWORD" "$REGISTRY/crewchief/app:$v" >/dev/null
  # Only the local name stays on the engine: a pull of the registry's name is a real pull.
  podman rmi "$REGISTRY/crewchief/app:$v" >/dev/null
done

SOCK=$DIR/podman.sock
nohup podman system service --time=0 "unix://$SOCK" > "$DIR/service.log" 2>&1 &
echo $! > "$DIR/service.pid"
for _ in $(seq 200); do curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null || { echo "engine did not start:" >&2; cat "$DIR/service.log" >&2; exit 1; }

# The healthcheck timers' stand-in (see above). `podman ps` shows "(starting)", "(healthy)" or
# "(unhealthy)" in the status of containers that have a healthcheck.
nohup bash -c '
  while :; do
    podman ps --format "{{.ID}} {{.Status}}" 2>/dev/null | grep -F "(" | while read -r id _; do
      podman healthcheck run "$id" </dev/null >/dev/null 2>&1 || true
    done
    sleep 1
  done' > "$DIR/health.log" 2>&1 &
echo $! > "$DIR/health.pid"

cat > "$DIR/engine.env" <<ENV
DOCKER_HOST=unix://$SOCK
APP_IMAGE_V1=localhost/crewchief-app:v1
APP_IMAGE_V2=localhost/crewchief-app:v2
APP_IMAGE_V3=localhost/crewchief-app:v3
REGISTRY=$REGISTRY
REGISTRY_AUTH_FILE=$DIR/registry-auth.json
ENV
echo "engine up: DOCKER_HOST=unix://$SOCK, registry $REGISTRY"
