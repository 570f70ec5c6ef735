"""Shared helpers of the METASPACE stand-in: settings, the health state file, Elasticsearch calls.

Settings come from the host's own JSON file (given to each program on its command line: ports,
Elasticsearch URL, alias, data paths), over the engine's defaults in
metaspace/engine/conf/config.json (tracked in git, so a release can change them).
"""
import json
import os
import tempfile
import urllib.error
import urllib.request

ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_CONFIG = os.path.join(ENGINE_DIR, "conf", "config.json")

DEFAULT_STATE = {"processing": True, "readOnly": False}


def load_config(path):
    with open(APP_CONFIG) as f:
        cfg = json.load(f)
    with open(path) as f:
        host = json.load(f)
    for key, value in host.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    cfg["config_file"] = os.path.abspath(path)
    return cfg


def read_state(path):
    """The admin health state; the defaults while the file does not exist yet."""
    try:
        with open(path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return dict(DEFAULT_STATE)
    return {**DEFAULT_STATE, **{k: bool(v) for k, v in state.items() if k in DEFAULT_STATE}}


def write_state(path, state):
    """Replace the state file atomically: readers see the old state or the new one, never half."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".health-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state, f)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_version(path):
    try:
        with open(path) as f:
            return f.read().strip() or "unknown"
    except FileNotFoundError:
        return "unknown"


class EsError(Exception):
    """An Elasticsearch request that failed: status (0 when ES did not answer) and its answer."""

    def __init__(self, status, message):
        super().__init__("elasticsearch %s: %s" % (status or "unreachable", message))
        self.status = status
        self.message = message


def es_request(es_url, method, path, body=None, ndjson=False, timeout=30):
    """One request to Elasticsearch; the decoded JSON answer, or EsError."""
    url = es_url.rstrip("/") + path
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-ndjson" if ndjson else "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            err = json.loads(text).get("error", text)
            if isinstance(err, dict):
                err = "%s: %s" % (err.get("type"), err.get("reason"))
        except ValueError:
            err = text
        raise EsError(e.code, err) from None
    except (urllib.error.URLError, OSError) as e:
        raise EsError(0, str(getattr(e, "reason", e))) from None
