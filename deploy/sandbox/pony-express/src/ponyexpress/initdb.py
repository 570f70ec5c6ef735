"""initialize_RandoPony_db INI: creates the app's database with the brevets it lists."""
import sqlite3
import sys

from ponyexpress import settings


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: initialize_RandoPony_db staging.ini|production.ini")
    cfg = settings(sys.argv[1])
    with sqlite3.connect(cfg["db"]) as db:
        db.execute("CREATE TABLE IF NOT EXISTS brevets (name TEXT PRIMARY KEY, km REAL)")
        db.execute("CREATE TABLE IF NOT EXISTS riders (id INTEGER PRIMARY KEY, name TEXT)")
        if db.execute("SELECT COUNT(*) FROM brevets").fetchone()[0] == 0:
            db.executemany("INSERT INTO brevets VALUES (?, ?)", [
                ("Spring Populaire", 54.3),
                ("Fraser Valley 200", 200),
                ("Vancouver Island 400", 400),
            ])
    print("initialized", cfg["db"])


if __name__ == "__main__":
    main()
