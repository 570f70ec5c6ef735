"""python3 server.py CONF [N]: the METASPACE web app and its admin API (supervisor's sm-api).

CONF is the host's JSON config: host (default 127.0.0.1), port, api_ports, es_url, alias,
state_file, admin_token_file, version_file, queue_dir. N (supervisor's process_num) picks the port
api_ports[N]: several processes serve behind nginx, so one restarts while the others answer;
without N it serves on port. What they share lives in files (the admin state, the token, the
submission queue), so an answer does not depend on the process nginx picked.

On SIGTERM (supervisor's stop) it stops accepting, finishes the requests it has begun (up to
DRAIN_SECONDS) and exits 0: nginx sends new connections to another process meanwhile.

  GET  /              the home page: "METASPACE <version>", and the read-only banner when on
  GET  /search?q=...  a search through the alias: {"total", "index" (of the first hit), "version"}
  GET  /admin/health  {"processing": bool, "readOnly": bool}
  POST /admin/health  a JSON body setting processing and/or readOnly; Authorization: Bearer TOKEN
  POST /datasets      a dataset submission ({"name": ...}), queued for the update daemon;
                      refused while read-only
"""
import contextlib
import fcntl
import hmac
import html
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "engine"))

from sm.engine.util import (  # noqa: E402
    EsError, es_request, load_config, read_state, read_version, write_state)

READ_ONLY_BANNER = "METASPACE is in read-only mode"
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
DRAIN_SECONDS = 10  # below supervisor's stopwaitsecs, above a search's ES timeout


def make_handler(cfg, version):
    state_lock = threading.Lock()
    search_fields = cfg.get("webapp", {}).get("search_fields", ["ds_name"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
        server_version = "metaspace/" + version
        timeout = 60  # an idle keep-alive connection is closed after a minute
        # One segment per answer (headers and body buffered, flushed after each request, no
        # Nagle): else a keep-alive client waits out a delayed ACK on every request.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def send(self, code, body, content_type="application/json"):
            if not isinstance(body, str):
                body = json.dumps(body) + "\n"
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def authorized(self):
            try:
                with open(cfg["admin_token_file"]) as f:
                    token = f.read().strip()
            except OSError:
                return False
            given = self.headers.get("Authorization", "")
            return bool(token) and hmac.compare_digest(given.encode(), ("Bearer " + token).encode())

        def do_HEAD(self):
            self.do_GET()

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except DISCONNECTS:
                self.close_connection = True

        def send_response(self, code, message=None):
            super().send_response(code, message)
            if self.server.draining:
                # Stopping: this connection's next request would find nobody listening.
                self.send_header("Connection", "close")
                self.close_connection = True

        def do_GET(self):
            with self.server.busy():
                self.get()

        def do_POST(self):
            with self.server.busy():
                self.post()

        def get(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/":
                return self.home()
            if url.path == "/search":
                return self.search(urllib.parse.parse_qs(url.query).get("q", [""])[0])
            if url.path == "/admin/health":
                return self.send(200, read_state(cfg["state_file"]))
            self.send(404, {"error": "no such page: %s" % url.path})

        def post(self):
            path = urllib.parse.urlsplit(self.path).path
            raw = self.body()  # read before answering, so the connection stays usable
            if path == "/admin/health":
                return self.set_health(raw)
            if path == "/datasets":
                return self.submit(raw)
            self.send(404, {"error": "no such page: %s" % path})

        def home(self):
            state = read_state(cfg["state_file"])
            banner = ('<div class="banner">%s</div>\n' % READ_ONLY_BANNER) if state["readOnly"] else ""
            page = ("<!DOCTYPE html>\n<html><head><title>METASPACE</title></head><body>\n%s"
                    "<h1>METASPACE %s</h1>\n<p>Search datasets: <a href=\"/search\">/search?q=</a>"
                    "</p>\n</body></html>\n" % (banner, html.escape(version)))
            self.send(200, page, "text/html")

        def search(self, q):
            query = {"match_all": {}} if not q.strip() else {
                "simple_query_string": {"query": q, "fields": search_fields, "lenient": True}}
            body = {"size": 1, "track_total_hits": True, "query": query}
            try:
                ans = es_request(cfg["es_url"], "POST", "/%s/_search" % cfg["alias"], body,
                                 timeout=10)
            except EsError as e:
                return self.send(502, {"error": str(e), "esStatus": e.status, "version": version})
            if ans.get("_shards", {}).get("failed"):
                return self.send(502, {"error": "shard failures: %s" % ans["_shards"].get("failures"),
                                       "version": version})
            hits = ans["hits"]
            first = hits["hits"][0] if hits["hits"] else None
            self.send(200, {"total": hits["total"]["value"],
                            "index": first["_index"] if first else None,
                            "first": first["_id"] if first else None,
                            "version": version})

        def set_health(self, raw):
            if not self.authorized():
                return self.send(401, {"error": "admin token required (Authorization: Bearer ...)"})
            try:
                change = json.loads(raw or b"{}")
                if not isinstance(change, dict) or not change:
                    raise ValueError("expected a JSON object with processing and/or readOnly")
                for key, value in change.items():
                    if key not in ("processing", "readOnly") or not isinstance(value, bool):
                        raise ValueError("%s: only processing and readOnly, true or false" % key)
            except ValueError as e:
                return self.send(400, {"error": str(e)})
            # Read, change, write under a lock every process takes: two admins setting
            # processing and readOnly at once through different processes both count.
            with state_lock, open(cfg["state_file"] + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                state = {**read_state(cfg["state_file"]), **change}
                write_state(cfg["state_file"], state)
            sys.stderr.write("admin health set %s: now %s\n" % (json.dumps(change), json.dumps(state)))
            self.send(200, state)

        def submit(self, raw):
            if read_state(cfg["state_file"])["readOnly"]:
                return self.send(503, {"error": READ_ONLY_BANNER})
            try:
                sub = json.loads(raw or b"{}")
                if not isinstance(sub, dict) or not sub.get("name"):
                    raise ValueError("expected a JSON object with a name")
            except ValueError as e:
                return self.send(400, {"error": str(e)})
            queue = cfg["queue_dir"]
            name = "%s.json" % uuid.uuid4().hex
            tmp = os.path.join(queue, "." + name)
            with open(tmp, "w") as f:
                json.dump(sub, f)
            os.replace(tmp, os.path.join(queue, name))
            self.send(202, {"queued": name})

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s %s\n" % (version, self.address_string(), fmt % args))

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # SO_REUSEADDR: a restart binds again while old connections linger

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.draining = False
        self.in_flight = 0
        self.idle = threading.Condition()

    @contextlib.contextmanager
    def busy(self):
        """Around one request's handling: drain() waits for it."""
        with self.idle:
            self.in_flight += 1
        try:
            yield
        finally:
            with self.idle:
                self.in_flight -= 1
                self.idle.notify_all()

    def drain(self, seconds):
        """After the listener is closed: wait for the requests begun; how many were left."""
        deadline = time.monotonic() + seconds
        with self.idle:
            while self.in_flight and time.monotonic() < deadline:
                self.idle.wait(deadline - time.monotonic())
            return self.in_flight

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], DISCONNECTS):
            return  # a client that went away is no error of the server's
        super().handle_error(request, client_address)


def main():
    cfg = load_config(sys.argv[1])
    port = int(cfg["api_ports"][int(sys.argv[2])] if len(sys.argv) > 2 else cfg["port"])
    version = read_version(cfg["version_file"])
    os.makedirs(cfg["queue_dir"], exist_ok=True)
    host = cfg.get("host", "127.0.0.1")
    server = Server((host, port), make_handler(cfg, version))

    def stop(signum, frame):
        sys.stderr.write("sm-api: %s, no new connections; finishing the requests begun\n"
                         % signal.Signals(signum).name)
        sys.stderr.flush()
        server.draining = True
        # shutdown() waits for serve_forever(), which this (the main) thread runs: not here.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("sm-api: METASPACE %s serving on %s:%s, search through alias %s at %s\n"
                     % (version, host, port, cfg["alias"], cfg["es_url"]))
    sys.stderr.flush()
    server.serve_forever(poll_interval=0.1)
    server.socket.close()  # connections not yet accepted are refused: nginx tries another process
    left = server.drain(DRAIN_SECONDS)
    sys.stderr.write("sm-api: stopped (%s)\n" % ("%d requests cut off" % left if left
                                                  else "every request answered"))
    sys.stderr.flush()


if __name__ == "__main__":
    main()
