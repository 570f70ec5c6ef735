"""python -m ponyexpress.app INI: serves the brevet entries page on the ini's host and port."""
import html
import os
import sqlite3
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata

import cuesheet

from ponyexpress import settings


def main():
    cfg = settings(sys.argv[1])
    if not os.path.exists(cfg["db"]):
        raise SystemExit("database %s does not exist: run initialize_RandoPony_db" % cfg["db"])
    queue_db = os.path.join(cfg["here"], "celery.sqlite")
    # The package directory is linked into the app dir by the deployment; a banner file there is
    # shown on every page (and stops showing once it is deleted from the code and deployed).
    banner_file = os.path.join(cfg["here"], "ponyexpress", "banner.txt")

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code, body, kind="text/html"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", kind + "; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/version":
                return self._send(200, "app %s\npony-express %s\ncuesheet %s\n" % (
                    os.path.basename(cfg["here"]), metadata.version("pony-express"),
                    metadata.version("cuesheet")), "text/plain")
            with sqlite3.connect(cfg["db"]) as db:
                brevets = db.execute("SELECT name, km FROM brevets ORDER BY km").fetchall()
                riders = [r[0] for r in db.execute("SELECT name FROM riders ORDER BY id")]
            banner = ""
            if os.path.exists(banner_file):
                with open(banner_file) as f:
                    banner = "<p class=banner>%s</p>\n" % html.escape(f.read().strip())
            rows = "".join("<li>%s, %s</li>\n" % (html.escape(n), cuesheet.distance(km))
                           for n, km in brevets)
            entered = "".join("<li>%s</li>\n" % html.escape(r) for r in riders)
            self._send(200, "<!DOCTYPE html>\n<title>Pony Express</title>\n%s<ul>\n%s</ul>\n"
                            "<h2>Entered</h2>\n<ul>\n%s</ul>\n" % (banner, rows, entered))

        def do_POST(self):
            if self.path != "/register":
                return self._send(404, "no such page\n", "text/plain")
            length = int(self.headers.get("Content-Length", "0"))
            name = urllib.parse.parse_qs(self.rfile.read(length).decode()).get("name", [""])[0]
            if not name:
                return self._send(400, "name required\n", "text/plain")
            with sqlite3.connect(cfg["db"]) as db:
                db.execute("INSERT INTO riders (name) VALUES (?)", (name,))
            with sqlite3.connect(queue_db) as db:
                db.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, name TEXT, state TEXT)")
                db.execute("INSERT INTO tasks (name, state) VALUES (?, 'pending')", ("confirm " + name,))
            self._send(200, "entered %s\n" % name, "text/plain")

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (os.path.basename(cfg["here"]), fmt % args))

    server = ThreadingHTTPServer((cfg["host"], cfg["port"]), Handler)
    sys.stderr.write("serving on %s:%d\n" % (cfg["host"], cfg["port"]))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
