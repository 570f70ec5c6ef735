"""python -m randopony.worker CELERY_DB: a celery stand-in that works off queued tasks."""
import sqlite3
import sys
import time


def main():
    path = sys.argv[1]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, name TEXT, state TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY, at REAL)")
    print("celery stand-in working on", path, flush=True)
    while True:
        with sqlite3.connect(path) as db:
            done = db.execute("UPDATE tasks SET state = 'done' WHERE state = 'pending'").rowcount
            db.execute("INSERT OR REPLACE INTO heartbeat (id, at) VALUES (1, ?)", (time.time(),))
        if done:
            print("processed", done, "tasks", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
