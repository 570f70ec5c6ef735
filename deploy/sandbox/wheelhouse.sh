#!/usr/bin/env bash
# Builds a wheelhouse offline, as a developer would before a deployment to a host that has no
# index (randopony.packages.wheelhouse):
#   wheelhouse.sh OUT PROJECT_DIR...
# OUT gets a wheel of each local project (built with the system python's setuptools and wheel,
# without network) and the build backend pip needs on the host to build a pyproject.toml app from
# its source in an isolated environment (setuptools and wheel, from Debian's python3-setuptools-whl
# and python3-wheel-whl). A project's own dependencies must be among the PROJECT_DIRs.
set -euo pipefail
out=${1:?usage: wheelhouse.sh OUT PROJECT_DIR...}
shift
[ $# -gt 0 ] || { echo "usage: wheelhouse.sh OUT PROJECT_DIR..." >&2; exit 2; }
py=${WHEELHOUSE_PYTHON:-/usr/bin/python3}
mkdir -p "$out"
for backend in setuptools wheel; do
  whl=$(ls /usr/share/python-wheels/"$backend"-*-py3-none-any.whl 2>/dev/null | head -1 || true)
  [ -n "$whl" ] || { echo "no $backend wheel in /usr/share/python-wheels: install python3-$backend-whl" >&2; exit 1; }
  cp "$whl" "$out/"
done
for project in "$@"; do
  # Built from a copy, so that the project's tree gets no build/ or *.egg-info of ours.
  tmp=$(mktemp -d)
  cp -r "$project/." "$tmp/"
  "$py" -m pip wheel --quiet --disable-pip-version-check --no-index --no-build-isolation --no-deps \
    --wheel-dir "$out" "$tmp"
  rm -rf "$tmp"
done
ls "$out"
