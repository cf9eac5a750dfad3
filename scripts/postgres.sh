#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite.
#   scripts/postgres.sh start DIR   → installs PostgreSQL with apt when missing, starts a
#                                     cluster in DIR on a free port, prints the async URL
#   scripts/postgres.sh stop DIR    → stops it (the caller removes DIR)
set -euo pipefail

action=${1:?start or stop}
dir=${2:?cluster directory}

as_owner() {
  # initdb and postgres refuse to run as root: use the postgres account then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ] && command -v pg_ctl >/dev/null 2>&1; then
    found=$(dirname "$(command -v pg_ctl)")
  fi
  echo "$found"
}

install_postgres() {
  echo "PostgreSQL not found: installing it with apt" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq postgresql >&2
}

case "$action" in
  start)
    bin=$(find_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
      install_postgres
      bin=$(find_bin)
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home "$dir" postgres
      chown postgres "$dir"
      chmod 755 "$(dirname "$dir")" 2>/dev/null || true
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres ownerdesk_test
    echo "$port" >"$dir/port"
    echo "$bin" >"$dir/bin"
    echo "postgresql+asyncpg://postgres@127.0.0.1:$port/ownerdesk_test"
    ;;
  stop)
    if [ -f "$dir/bin" ]; then
      as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
