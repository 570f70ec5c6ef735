"""initialize_RandoPony_db INI: creates the database with the records the app requires."""
import sqlite3
import sys

from randopony import settings


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: initialize_RandoPony_db staging.ini|production.ini")
    cfg = settings(sys.argv[1])
    with sqlite3.connect(cfg["db"]) as db:
        db.execute("CREATE TABLE IF NOT EXISTS links (key TEXT PRIMARY KEY, url TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS email_addresses (key TEXT PRIMARY KEY, email TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS riders (id INTEGER PRIMARY KEY, name TEXT)")
        if db.execute("SELECT COUNT(*) FROM links").fetchone()[0] == 0:
            db.executemany("INSERT INTO links VALUES (?, ?)", [
                ("entry_form", "http://randonneurs.bc.ca/entry_form.pdf"),
                ("event_waiver", "http://randonneurs.bc.ca/waiver.pdf"),
            ])
        if db.execute("SELECT COUNT(*) FROM email_addresses").fetchone()[0] == 0:
            db.executemany("INSERT INTO email_addresses VALUES (?, ?)", [
                ("from_randopony", "randopony@randonneurs.bc.ca"),
                ("admin_email", "webmaster@randonneurs.bc.ca"),
            ])
    print("initialized", cfg["db"])


if __name__ == "__main__":
    main()
