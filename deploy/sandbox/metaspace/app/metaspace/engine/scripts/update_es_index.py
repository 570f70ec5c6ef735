"""(Re)index METASPACE datasets into Elasticsearch.

    python3 update_es_index.py --config CONF [--index NAME] [--since ISO_TIME] [--batch N] [--pause S]

Reads the datasets of the data file named in CONF (JSON lines), makes their documents with
sm.engine.es_export and writes them with the bulk API into NAME (default: the alias of CONF, so
into the index it points at), in batches, printing "indexed DONE/TOTAL" after each. --since keeps
only the datasets created at or after that time (the partial update of recent datasets). --pause
waits that many seconds between batches (the production script is nice'd and slow). Exit status 0
when every document was written, 1 on any Elasticsearch error, 2 on bad arguments or config.
"""
import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sm.engine.es_export import dataset_document  # noqa: E402
from sm.engine.util import EsError, es_request, load_config  # noqa: E402


def parse_time(text):
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def read_datasets(path, since):
    out = []
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # a line the update daemon is still writing: it is in the next update
            line = line.strip()
            if not line:
                continue
            ds = json.loads(line)
            if since is None or parse_time(ds["created"]) >= since:
                out.append(ds)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="the host's JSON config file")
    p.add_argument("--index", help="index or alias to write into (default: the config's alias)")
    p.add_argument("--since", help="only datasets created at or after this ISO 8601 time")
    p.add_argument("--batch", type=int, help="documents per bulk request")
    p.add_argument("--pause", type=float, default=0.0, help="seconds to wait between batches")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config)
        since = parse_time(args.since) if args.since else None
        es_url, data_file = cfg["es_url"], cfg["data_file"]
        index = args.index or cfg["alias"]
    except (OSError, ValueError, KeyError) as e:
        print("update_es_index: bad config or arguments: %s" % e, file=sys.stderr, flush=True)
        return 2
    es_cfg = cfg.get("elasticsearch", {})
    batch = args.batch or int(es_cfg.get("batch_size", 500))
    timeout = float(es_cfg.get("request_timeout", 60))

    started = time.monotonic()
    datasets = read_datasets(data_file, since)
    total = len(datasets)
    print("updating %s: %d datasets%s" % (index, total, " since %s" % args.since if since else ""),
          flush=True)
    done = 0
    try:
        for start in range(0, total, batch):
            lines = []
            for ds in datasets[start:start + batch]:
                lines.append(json.dumps({"index": {"_index": index, "_id": ds["id"]}}))
                lines.append(json.dumps(dataset_document(ds)))
            answer = es_request(es_url, "POST", "/_bulk", "\n".join(lines) + "\n", ndjson=True,
                                timeout=timeout)
            if answer.get("errors"):
                failed = [i["index"] for i in answer["items"] if i["index"].get("error")]
                err = failed[0]["error"]
                print("update_es_index: %d of %d documents refused by %s, first %s: %s: %s"
                      % (len(failed), len(answer["items"]), index, failed[0].get("_id"),
                         err.get("type"), err.get("reason")), file=sys.stderr, flush=True)
                return 1
            done += len(answer["items"])
            print("indexed %d/%d" % (done, total), flush=True)
            if args.pause and done < total:
                time.sleep(args.pause)
        es_request(es_url, "POST", "/%s/_refresh" % index, timeout=timeout)
    except EsError as e:
        print("update_es_index: %s (after %d/%d)" % (e, done, total), file=sys.stderr, flush=True)
        return 1
    print("done: %d datasets indexed into %s in %.1f s" % (done, index, time.monotonic() - started),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
