#!/usr/bin/env bash
# Fill an Elasticsearch index with the stand-in METASPACE's datasets, from the worker machine:
#   load-index.sh ES_URL INDEX ALIAS DATAFILE
# INDEX must exist (the release creates indices); with METASPACE_CREATE=1 a missing INDEX is
# created from app/metaspace/engine/sm/engine/es_index.json and, if ALIAS points nowhere, ALIAS is
# put on it. Documents are made by the app's own export code (this tree's, i.e. release 1.7.4's
# fields) and written with the bulk API; it ends with a refresh, so they are searchable.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage="usage: load-index.sh ES_URL INDEX ALIAS DATAFILE"
ES=${1:?$usage}; INDEX=${2:?$usage}; ALIAS=${3:?$usage}; DATA=${4:?$usage}
ES=${ES%/}
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$ES/$INDEX")
if [ "$code" = 404 ]; then
  [ "${METASPACE_CREATE:-}" = 1 ] || { echo "load-index.sh: index $INDEX does not exist at $ES (create it first, or METASPACE_CREATE=1)" >&2; exit 2; }
  curl -sf -X PUT "$ES/$INDEX" -H 'Content-Type: application/json' \
    --data-binary "@$here/app/metaspace/engine/sm/engine/es_index.json" >/dev/null
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$ES/_alias/$ALIAS")" = 404 ]; then
    curl -sf -X POST "$ES/_aliases" -H 'Content-Type: application/json' \
      -d "{\"actions\":[{\"add\":{\"index\":\"$INDEX\",\"alias\":\"$ALIAS\"}}]}" >/dev/null
  fi
elif [ "$code" != 200 ]; then
  echo "load-index.sh: Elasticsearch at $ES answered $code for index $INDEX" >&2; exit 1
fi
conf=$(mktemp); trap 'rm -f "$conf"' EXIT
python3 -c 'import json,sys; json.dump({"es_url": sys.argv[1], "alias": sys.argv[2], "data_file": sys.argv[3]}, open(sys.argv[4], "w"))' \
  "$ES" "$ALIAS" "$DATA" "$conf"
PYTHONDONTWRITEBYTECODE=1 python3 "$here/app/metaspace/engine/scripts/update_es_index.py" --config "$conf" --index "$INDEX" --batch "${METASPACE_BATCH:-2000}"
