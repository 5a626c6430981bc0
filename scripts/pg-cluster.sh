#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 only.
#
#   scripts/pg-cluster.sh start DIR   installs the server when it is missing (Debian's
#                                     postgresql), creates a cluster in DIR (trust
#                                     authentication, a free port, its socket and log in
#                                     DIR), starts it, and prints its URL
#   scripts/pg-cluster.sh start DIR durable
#                                     the same with fsync on (the default settings but
#                                     max_connections): for benchmarks of durable storage
#   scripts/pg-cluster.sh restart DIR [SECONDS]
#                                     stops it (fast: open connections are cut), waits
#                                     SECONDS (default 0) and starts it on the same port
#   scripts/pg-cluster.sh stop DIR    stops it and removes DIR
#
# As root the cluster runs as the `postgres` user (the server refuses to run as root).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# Runs a server program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd=${1:-}
dir=${2:-}
mode=${3:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR [durable] | restart DIR [SECONDS] | stop DIR" >&2; exit 2; }

case "$cmd" in
  start)
    if [ -z "$(pg_bin)" ]; then
      echo "==> installing postgresql" >&2
      as_root apt-get update -qq >&2
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    bin=$(pg_bin)
    [ -n "$bin" ] || { echo "no PostgreSQL server found after installing it" >&2; exit 1; }
    mkdir -p "$dir"
    port=$(free_port)
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    # fsync off: a test cluster that loses its data on a power cut loses nothing of value.
    # `durable` keeps fsync and synchronous_commit on, as a production server has them.
    sync="-c fsync=off"
    if [ "$mode" = durable ]; then sync="-c fsync=on -c synchronous_commit=on"; fi
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir $sync -c max_connections=300" \
      >"$dir/options"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$(cat "$dir/options")" \
      start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  restart)
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    sleep "${3:-0}"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$(cat "$dir/options")" \
      start >/dev/null
    ;;
  stop)
    bin=$(pg_bin)
    if [ -n "$bin" ] && [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR [durable] | restart DIR [SECONDS] | stop DIR" >&2
    exit 2
    ;;
esac
