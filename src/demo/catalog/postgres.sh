#!/bin/sh
# A throwaway PostgreSQL 15 for the catalog demo, run by faultline as a managed
# service: initdb on first start (trust auth, loopback only), then postgres on
# 127.0.0.1:$PORT with its socket in the data directory. Durability is off
# (fsync, synchronous_commit): this is a test database.
#
#   PGDATA_DIR    where the cluster lives (kept across restarts a fault causes)
#   CATALOG_DIR   the system's directory: created on first start, with the
#                 catalog's .env (CATALOG_ENV_FILE, content CATALOG_ENV) in it;
#                 removed, with PGDATA_DIR, when postgres stops normally
#   PG_BIN        default /usr/lib/postgresql/15/bin
#   CATALOG_PG_TEMPLATE  an initdb'd data directory to copy instead of running initdb
#
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` user (or `nobody`), which is handed the data directory.
set -eu
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DIR=${PGDATA_DIR:?PGDATA_DIR: expected the data directory}

if [ -z "${FL_PG_INNER:-}" ]; then
  if [ -n "${CATALOG_DIR:-}" ] && [ ! -d "$CATALOG_DIR" ]; then
    mkdir -p "$CATALOG_DIR"
    if [ -n "${CATALOG_ENV_FILE:-}" ]; then printf '%s\n' "${CATALOG_ENV:-}" > "$CATALOG_ENV_FILE"; fi
  fi
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then
    user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$DIR"
    FL_PG_INNER=1 setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- /bin/sh "$0" &
  else
    FL_PG_INNER=1 /bin/sh "$0" &
  fi
  inner=$!
  trap 'kill -TERM $inner 2>/dev/null' TERM INT
  wait $inner || true
  wait $inner 2>/dev/null || true
  # Stopped normally (a kill -9 of the group never gets here): leave nothing behind.
  if [ -z "${CATALOG_KEEP:-}" ]; then
    rm -rf "$DIR"
    if [ -n "${CATALOG_DIR:-}" ]; then rm -rf "$CATALOG_DIR"; fi
  fi
  exit 0
fi

if [ ! -f "$DIR/data/PG_VERSION" ] && [ -n "${CATALOG_PG_TEMPLATE:-}" ] && [ -f "$CATALOG_PG_TEMPLATE/PG_VERSION" ]; then
  # A cluster initdb'd once (tests start many systems): copy it instead of another initdb.
  cp -a "$CATALOG_PG_TEMPLATE" "$DIR/data"
  chmod 700 "$DIR/data"
fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  "$BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >/dev/null
fi
"$BIN/postgres" -D "$DIR/data" -p "${PORT:?}" -k "$DIR" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_connections="${PG_MAX_CONNECTIONS:-60}" -c shared_buffers=16MB &
pg=$!
# faultline stops the group with SIGTERM: postgres's "smart" shutdown would wait for
# every client to leave; ask for a fast one and wait for it.
trap 'kill -INT $pg 2>/dev/null' TERM INT
wait $pg || true
wait $pg 2>/dev/null || true
