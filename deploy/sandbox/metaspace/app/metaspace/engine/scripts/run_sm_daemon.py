"""python3 run_sm_daemon.py --name update --config CONF: the dataset update daemon (sm-update-daemon).

While the admin health state has processing on, it takes the datasets submitted through the web
app (JSON files in the config's queue_dir), adds each to the data file (the stand-in of the
database) and indexes it through the alias. While processing is off it logs "processing paused"
and leaves the queue alone, as METASPACE does during a reindex or a migration.
"""
import argparse
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sm.engine.es_export import dataset_document  # noqa: E402
from sm.engine.util import EsError, es_request, load_config, read_state, read_version  # noqa: E402


def log(msg):
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    print("%s sm-update-daemon: %s" % (stamp, msg), flush=True)


def known_ids(path):
    ids = set()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    ids.add(json.loads(line)["id"])
    return ids


def new_id(created, ids):
    base = created.strftime("%Y-%m-%d_%Hh%Mm%Ss")
    ds_id, n = base, 1
    while ds_id in ids:
        n += 1
        ds_id = "%s_%d" % (base, n)
    return ds_id


def process(cfg, path, ids):
    with open(path) as f:
        sub = json.load(f)
    created = datetime.now(timezone.utc)
    ds = {
        "id": new_id(created, ids),
        "name": sub.get("name") or "unnamed",
        "created": created.isoformat(timespec="seconds"),
        "submitter": sub.get("submitter", "anonymous"),
        "status": "FINISHED",
        "public": bool(sub.get("public", True)),
        "polarity": sub.get("polarity", "POSITIVE"),
        "organism": sub.get("organism", "Homo sapiens"),
        "projects": sub.get("projects", []),
    }
    # Index first, then record: a dataset is in the data file only once it is searchable, and a
    # failed indexing leaves the submission queued for the next round.
    es_request(cfg["es_url"], "PUT", "/%s/_doc/%s?refresh=true" % (cfg["alias"], ds["id"]),
               dataset_document(ds))
    line = (json.dumps(ds) + "\n").encode()
    fd = os.open(cfg["data_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of a whole line: readers never see half of it
    finally:
        os.close(fd)
    ids.add(ds["id"])
    os.unlink(path)
    log("processed dataset %s (%s)" % (ds["id"], ds["name"]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", default="update")
    p.add_argument("--config", required=True)
    args = p.parse_args()
    cfg = load_config(args.config)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    queue = cfg["queue_dir"]
    os.makedirs(queue, exist_ok=True)
    ids = known_ids(cfg["data_file"])
    poll = float(cfg.get("daemon", {}).get("poll_seconds", 0.5))
    log("%s daemon %s started, %d datasets known" % (args.name, read_version(cfg["version_file"]),
                                                    len(ids)))
    last = None
    while True:
        processing = read_state(cfg["state_file"])["processing"]
        if processing != last:
            log("processing on" if processing else "processing paused")
            last = processing
        if processing:
            for name in sorted(os.listdir(queue)):
                if not name.endswith(".json"):
                    continue
                try:
                    process(cfg, os.path.join(queue, name), ids)
                except EsError as e:
                    log("dataset %s not indexed, kept queued: %s" % (name, e))
                    break
                if read_state(cfg["state_file"])["processing"] is False:
                    break
        time.sleep(poll)


if __name__ == "__main__":
    main()
