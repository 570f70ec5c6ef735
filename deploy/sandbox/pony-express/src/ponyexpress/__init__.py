"""Pony Express: brevet entries, the second stand-in app of the Crew Chief sandbox."""
import configparser
import os


def settings(ini_path):
    """Reads the ini like PasteDeploy would, with %(here)s the ini's directory (symlink kept)."""
    here = os.path.dirname(os.path.abspath(ini_path))
    parser = configparser.ConfigParser(defaults={"here": here})
    if not parser.read(ini_path):
        raise SystemExit("cannot read " + ini_path)
    return {
        "here": here,
        "db": parser.get("app:main", "sqlalchemy.url").replace("sqlite:///", "", 1),
        "host": parser.get("server:main", "host"),
        "port": parser.getint("server:main", "port"),
    }
