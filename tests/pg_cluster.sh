#!/bin/sh
# One throwaway PostgreSQL cluster shared by the test programs of one ctest run (a ctest
# fixture: tests/CMakeLists.txt), so that each test process does not pay for its own
# initdb. It lives in DIR (outside the build tree, so the postgres user can reach it), on
# 127.0.0.1 and a free port, with a migrated template database `grok_template` that tests
# copy (tests_support: fresh_postgres_database). A test program run on its own, without
# ctest, starts a cluster of its own instead.
#
# usage: pg_cluster.sh start DIR GROK_BINARY     (writes DIR/url)
#        pg_cluster.sh stop DIR
set -eu
cmd=${1:?usage: pg_cluster.sh start DIR GROK_BINARY | stop DIR}
dir=${2:?missing DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL not found under /usr/lib/postgresql (run scripts/bootstrap.sh)" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, run its programs as the postgres user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}

stop_cluster() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
stop)
  stop_cluster
  ;;
start)
  grok=${3:?missing GROK_BINARY}
  stop_cluster  # a cluster a killed run left behind
  mkdir -p "$dir/data" "$dir/sock"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir" "$dir/data" "$dir/sock"
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  started=
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  [ -n "$started" ] || { echo "postgres did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
  url="postgres://postgres@127.0.0.1:$port"
  "$bin/psql" -q -X -v ON_ERROR_STOP=1 -d "$url/postgres" -c "CREATE DATABASE grok_template" >/dev/null
  "$grok" migrate --db "$url/grok_template" >/dev/null 2>"$dir/migrate.log" ||
    { cat "$dir/migrate.log" >&2; exit 1; }
  echo "$url" >"$dir/url"
  echo "PostgreSQL for tests: $url (data in $dir)"
  ;;
*)
  echo "unknown command '$cmd' (start or stop)" >&2
  exit 2
  ;;
esac
