"""python3 sm_graphql.py CONF: the GraphQL service stand-in (supervisor's sm-graphql).

At start it runs the pending migrations of src/migrations/ in order (files NUMBER-Name.py, each
with up(schema) changing the schema dict), recording the applied ones and the schema in the data
dir's graphql-migrations.json as the database's migrations table would; a migration that raises
stops the service (exit 1) before it serves, as a failed TypeORM migration does. Then it idles.
"""
import json
import os
import re
import runpy
import signal
import sys
import time
import traceback
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "engine"))

from sm.engine.util import load_config, read_version  # noqa: E402

MIGRATIONS = os.path.join(HERE, "src", "migrations")
NAME = re.compile(r"^(\d+)-([A-Za-z0-9_]+)\.py$")


def log(msg):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    print("%s sm-graphql: %s" % (stamp, msg), flush=True)


def save(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def migrate(state_path):
    state = {"applied": [], "schema": {}}
    if os.path.exists(state_path):
        with open(state_path) as f:
            state = json.load(f)
    found = sorted((int(m.group(1)), f) for f in os.listdir(MIGRATIONS) if (m := NAME.match(f)))
    pending = [f for _, f in found if f[:-3] not in state["applied"]]
    if not pending:
        log("no pending migrations (%d applied)" % len(state["applied"]))
    for f in pending:
        name = f[:-3]
        log("running migration %s" % name)
        try:
            runpy.run_path(os.path.join(MIGRATIONS, f))["up"](state["schema"])
        except Exception:
            log("migration %s FAILED:\n%s" % (name, traceback.format_exc()))
            return False
        state["applied"].append(name)
        save(state_path, state)
        log("migration %s done" % name)
    return True


def main():
    cfg = load_config(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    version = read_version(cfg["version_file"])
    log("starting %s" % version)
    if not migrate(os.path.join(cfg["data_dir"], "graphql-migrations.json")):
        sys.exit(1)
    log("sm-graphql %s ready" % version)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
