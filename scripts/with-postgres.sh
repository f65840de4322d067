#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Starts a throwaway PostgreSQL 15 cluster (temp folder, free port, socket in the temp folder,
# durability off for speed), runs CMD with PIXVAULT_TEST_PG_URL set to a superuser URL over
# the socket, then stops the server and deletes the cluster, also when CMD fails or the script
# is interrupted. Exits with CMD's exit code.
#
# As root, initdb/pg_ctl run as the `postgres` user (the server refuses root); as another
# user they run directly. Binaries: $PG_BIN, default /usr/lib/postgresql/15/bin.
# Also exported: PIXVAULT_TEST_PG_TCP_URL (127.0.0.1 with a random password) and
# PIXVAULT_TEST_PG_PORT.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
log() { echo "with-postgres: $*" >&2; }

if [[ $# -lt 1 ]]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
  log "no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15, or set PG_BIN)"
  exit 2
fi

if [[ $(id -u) -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    log "running as root needs the 'postgres' system user (created by postgresql-15)"
    exit 2
  fi
  as_pg() { runuser -u postgres -- "$@"; }
  pg_owner=postgres
else
  as_pg() { "$@"; }
  pg_owner=$(id -un)
fi

# A temp folder the server user can enter; fall back to /tmp when $TMPDIR's parents are
# closed to it (e.g. under /root).
make_tmp() {
  local base=$1 dir
  dir=$(mktemp -d "$base/pixvault-pg.XXXXXX") || return 1
  if [[ $pg_owner != "$(id -un)" ]]; then
    chown "$pg_owner:" "$dir"
  fi
  chmod 0700 "$dir"
  if ! as_pg test -w "$dir" -a -x "$dir"; then
    rm -rf "$dir"
    return 1
  fi
  echo "$dir"
}
# The socket path (<tmp>/.s.PGSQL.<port>) must fit in 107 bytes.
base=${TMPDIR:-/tmp}
[[ ${#base} -gt 60 ]] && base=/tmp
tmp=$(make_tmp "$base" 2>/dev/null) || tmp=$(make_tmp /tmp) || {
  log "cannot create a temp folder usable by $pg_owner"
  exit 2
}
data=$tmp/data
started=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ $started -eq 1 ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
# On a signal, stop CMD first (it runs in the background so the signal is handled at once,
# not when CMD happens to finish), then clean up through the EXIT trap.
cmd_pid=
on_signal() {
  if [[ -n $cmd_pid ]]; then
    kill -TERM "$cmd_pid" 2>/dev/null || true
    wait "$cmd_pid" 2>/dev/null || true
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$tmp/pwfile"
[[ $pg_owner != "$(id -un)" ]] && chown "$pg_owner:" "$tmp/pwfile"
if ! as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --no-locale --no-sync \
  --no-instructions --auth-local=trust --auth-host=scram-sha-256 --pwfile="$tmp/pwfile" \
  >"$tmp/initdb.log" 2>&1; then
  log "initdb failed:"
  cat "$tmp/initdb.log" >&2
  exit 1
fi
rm -f "$tmp/pwfile"

cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
unix_socket_permissions = 0700
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

port=
for _ in $(seq 1 20); do
  candidate=$((20000 + RANDOM % 40000))
  port_in_use "$candidate" && continue
  started=1
  if as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 -s \
    -o "-p $candidate" start >/dev/null 2>&1; then
    port=$candidate
    break
  fi
  started=0
  # Lost a race for the port: try another. Anything else is fatal.
  if ! grep -q "could not bind\|Address already in use" "$tmp/server.log" 2>/dev/null; then
    break
  fi
done
if [[ -z $port ]]; then
  log "PostgreSQL did not start; server log:"
  cat "$tmp/server.log" >&2 || true
  exit 1
fi

export PIXVAULT_TEST_PG_URL="postgresql://postgres@/postgres?host=$tmp&port=$port"
export PIXVAULT_TEST_PG_TCP_URL="postgresql://postgres:$password@127.0.0.1:$port/postgres"
export PIXVAULT_TEST_PG_PORT=$port
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port," \
  "socket $tmp, PIXVAULT_TEST_PG_URL=$PIXVAULT_TEST_PG_URL"

set +e
"$@" <&0 &  # explicit <&0: a background job would otherwise read /dev/null
cmd_pid=$!
wait "$cmd_pid"
rc=$?
cmd_pid=
set -e
exit "$rc"
