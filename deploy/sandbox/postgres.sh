#!/usr/bin/env bash
# A local PostgreSQL 15 standing in for Atmosphere's database server, for tests and rehearsals
# (run as root):
#   postgres.sh up DIR     a cluster in DIR/data on a free port of 127.0.0.1, password (scram)
#                          login for atmo_app, databases atmo_prod and troposphere with a few rows,
#                          and DIR/postgres.env describing it (port, user, password file, binaries)
#   postgres.sh down DIR   stops the cluster (fast shutdown) and removes DIR/data
# The server tools refuse to run as root, so they run as the Debian package's postgres user; the
# client tools (psql, pg_dump) run as root over the socket in DIR, which only root and postgres
# can reach, so the socket may trust while TCP always asks for a password.
set -euo pipefail
cmd=${1:?usage: postgres.sh up|down DIR}
DIR=${2:?usage: postgres.sh up|down DIR}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
as_pg() { runuser -u postgres -- "$@"; }

if [ "$cmd" = down ]; then
  [ -f "$DIR/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null || true
  rm -rf "$DIR/data"
  exit 0
fi
[ "$cmd" = up ] || { echo "usage: postgres.sh up|down DIR" >&2; exit 2; }
[ -x "$PGBIN/initdb" ] || { echo "$PGBIN/initdb missing: apt-get install postgresql" >&2; exit 1; }

mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
# Every directory above DIR must be traversable by postgres; DIR itself is postgres's alone.
p=$(dirname "$DIR"); while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
chown postgres:postgres "$DIR"; chmod 700 "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$PASSWORD" > "$DIR/atmo_app.password"; chmod 600 "$DIR/atmo_app.password"

rm -rf "$DIR/data"
as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# fsync off: a throw-away cluster, started and stopped many times a day, needs no durability.
cat >> "$DIR/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
cat > "$DIR/data/pg_hba.conf" <<HBA
local all all                trust
host  all all 127.0.0.1/32   scram-sha-256
HBA
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 30 start >/dev/null

# As the runbook's "Setup PostgreSQL" makes them: atmo_app owns both databases.
sql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres "$@"; }
sql -d postgres -c "CREATE ROLE atmo_app LOGIN CREATEDB NOSUPERUSER CREATEROLE PASSWORD '$PASSWORD'"
sql -d postgres -c "CREATE DATABASE atmo_prod OWNER atmo_app" -c "CREATE DATABASE troposphere OWNER atmo_app"
PGPASSWORD=$PASSWORD "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U atmo_app -d atmo_prod <<'SQL'
CREATE TABLE identity (id serial PRIMARY KEY, username text NOT NULL UNIQUE);
CREATE TABLE instance (id serial PRIMARY KEY, identity_id int REFERENCES identity, name text, size_gb int);
INSERT INTO identity (username) VALUES ('alice'), ('bob'), ('carol');
INSERT INTO instance (identity_id, name, size_gb) SELECT 1 + g % 3, 'vm-' || g, g % 8 FROM generate_series(1, 100) g;
SQL
PGPASSWORD=$PASSWORD "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U atmo_app -d troposphere <<'SQL'
CREATE TABLE maintenance_record (id serial PRIMARY KEY, title text NOT NULL, message text);
CREATE TABLE user_preferences (id serial PRIMARY KEY, username text NOT NULL, prefs jsonb);
INSERT INTO maintenance_record (title, message) VALUES ('v36-0 deployment', 'down 9am-4pm MST');
INSERT INTO user_preferences (username, prefs) VALUES ('alice', '{"theme":"dark"}'), ('bob', '{}');
SQL

cat > "$DIR/postgres.env" <<ENV
PG_HOST=127.0.0.1
PG_PORT=$PORT
PG_USER=atmo_app
PG_PASSWORD_FILE=$DIR/atmo_app.password
PG_SOCKET_DIR=$DIR
PG_BIN=$PGBIN
ENV
echo "postgres up: atmo_app@127.0.0.1:$PORT (atmo_prod, troposphere), env $DIR/postgres.env"
