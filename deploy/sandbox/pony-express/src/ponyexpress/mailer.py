"""python -m ponyexpress.mailer QUEUE_DB: sends the confirmations queued by registrations."""
import sqlite3
import sys
import time


def main():
    path = sys.argv[1]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, name TEXT, state TEXT)")
    print("mailer working on", path, flush=True)
    while True:
        with sqlite3.connect(path) as db:
            done = db.execute("UPDATE tasks SET state = 'done' WHERE state = 'pending'").rowcount
        if done:
            print("sent", done, "confirmations", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
