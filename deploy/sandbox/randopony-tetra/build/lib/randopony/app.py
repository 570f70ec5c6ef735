"""python -m randopony.app INI: serves the RandoPony stand-in on the ini's host and port."""
import os
import sqlite3
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from randopony import settings


def main():
    cfg = settings(sys.argv[1])
    if not os.path.exists(cfg["db"]):
        raise SystemExit("database %s does not exist: run initialize_RandoPony_db" % cfg["db"])
    celery_db = os.path.join(cfg["here"], "celery.sqlite")

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code, body):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                return self._send(200, "ok %s\n" % cfg["release"])
            with sqlite3.connect(cfg["db"]) as db:
                riders = [r[0] for r in db.execute("SELECT name FROM riders ORDER BY id")]
            body = "RandoPony %s\nriders=%d\n%s\n" % (cfg["release"], len(riders), "\n".join(riders))
            self._send(200, body)

        def do_POST(self):
            if self.path != "/register":
                return self._send(404, "no such page\n")
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            name = form.get("name", [""])[0]
            if not name:
                return self._send(400, "name required\n")
            with sqlite3.connect(cfg["db"]) as db:
                db.execute("INSERT INTO riders (name) VALUES (?)", (name,))
            with sqlite3.connect(celery_db) as db:
                db.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, name TEXT, state TEXT)")
                db.execute("INSERT INTO tasks (name, state) VALUES (?, 'pending')", ("email " + name,))
            self._send(200, "registered %s\n" % name)

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (cfg["release"], fmt % args))

    server = ThreadingHTTPServer((cfg["host"], cfg["port"]), Handler)
    sys.stderr.write("serving %s on %s:%d\n" % (cfg["release"], cfg["host"], cfg["port"]))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
