#!/usr/bin/env bash
# Usage: scripts/bench_http.sh --pixvault BIN --store-bench BIN --markdown FILE
#                              [--assets N] [--duration S] [--upload-mib N] [--runs N]
#                              [--idle N]
#
# The HTTP benchmarks of `make bench` (called by scripts/bench.sh, which builds the binaries),
# each against a real `pixvault serve` on loopback, load from wrk:
#   1. GET /api/v1/assets?limit=50 with two filters (category + rating) on N synthetic
#      assets (store_bench --load-only), 64 connections, S seconds: requests/s, p99, errors;
#   2. GET /api/v1/assets/{id} (ids spread over the catalogue), same load;
#   3. a raw upload of one --upload-mib file with curl vs `sha256sum FILE && cp FILE DEST`
#      (median of --runs, fresh server and data folder each run), and the server's peak RSS
#      over its idle RSS;
#   4. one client's request latency (wrk, 1 connection) without and with --idle open idle
#      connections held by another process (a bash that opens them with /dev/tcp).
# Writes a markdown section to FILE. Targets are reported, never turned into an exit code:
# the exit code is non-zero only when a benchmark could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"
pixvault="" store_bench="" markdown=""
assets=100000 duration=30 upload_mib=1024 runs=3 idle=1000
while [[ $# -gt 0 ]]; do
  case $1 in
    --pixvault) pixvault=$2; shift 2 ;;
    --store-bench) store_bench=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --assets) assets=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --upload-mib) upload_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    *) echo "bench_http.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $pixvault && -x $store_bench && -n $markdown ]] || {
  echo "bench_http.sh: --pixvault, --store-bench and --markdown are required" >&2; exit 2
}
log() { echo "bench_http.sh: $*" >&2; }
for tool in wrk curl ss; do
  command -v "$tool" >/dev/null || { log "$tool is missing (scripts/install-deps.sh)"; exit 1; }
done
# The idle connections and the server's sockets need file descriptors beyond the default 1024.
ulimit -n $((idle * 2 + 1024))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench-http.XXXXXX")
server_pid=""
stop_server() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# start_server DATA_DIR: `pixvault serve` on a free port, defaults otherwise, except that
# connections may sit idle for 10 minutes (the idle-connection benchmark needs them open).
port=""
start_server() {
  port=$(free_port)
  PIXVAULT_HEADER_TIMEOUT_SEC=600 PIXVAULT_IDLE_TIMEOUT_SEC=600 \
    "$pixvault" --data-dir "$1" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
  server_pid=$!
  wait_http "http://127.0.0.1:$port/healthz" || {
    log "the server did not start:"; cat "$tmp/serve.log" >&2; exit 1
  }
}

# run_wrk NAME ARGS...: runs wrk with --latency; prints "rps p50_ms p99_ms requests errors".
run_wrk() {
  local name=$1; shift
  wrk --latency "$@" >"$tmp/$name.wrk"
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v
    }
    $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
    /requests in/ {n = $1}
    /Requests\/sec/ {rps = $2}
    /Non-2xx or 3xx responses/ {err += $NF}
    /Socket errors/ {gsub(/,/, ""); err += $4 + $6 + $8 + $10}
    END {printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, n, err}' "$tmp/$name.wrk"
}

# --- Catalogue and server ------------------------------------------------------------------
data=$tmp/data
mkdir -p "$data"
log "loading $(commas "$assets") synthetic assets (SQLite, the embedded default)"
shape=$("$store_bench" --db "sqlite://$data/pixvault.db" --assets "$assets" --edges 0 \
  --load-only 2>"$tmp/load.log") || { cat "$tmp/load.log" >&2; exit 1; }
first_id=$(echo "$shape" | sed 's/.*"first_id":\([0-9]*\).*/\1/')
key=$("$pixvault" --data-dir "$data" key create bench 2>/dev/null | head -n 1)
start_server "$data"
base=http://127.0.0.1:$port
auth="Authorization: Bearer $key"
log "server on $base (pid $server_pid)"

# Check what wrk will be measuring: a full page (of 50 from 25,000 assets up) for the list, an asset for the id.
list_query="limit=50&content_rating=mature&content_category=cat"
items=$(curl -s -H "$auth" "$base/api/v1/assets?${list_query}7" | grep -o '"id":' | wc -l)
expected=$((assets / 500 < 50 ? assets / 500 : 50))  # 1% of assets per category, 20% mature
[[ $items -eq $expected ]] || { log "the list returned $items items, not $expected"; exit 1; }
curl -sf -o /dev/null -H "$auth" "$base/api/v1/assets/$first_id" ||
  { log "GET /api/v1/assets/$first_id failed"; exit 1; }

# The synthetic catalogue's category is k % 100 and its rating comes from (k / 100) % 100,
# general below 70 (synthetic_catalog.h): these ids are all visible to their owner without
# adult content, spread over the whole catalogue.
cat >"$tmp/list.lua" <<EOF
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/assets?${list_query}" .. (i % 100))
end
EOF
cat >"$tmp/get.lua" <<EOF
local ids, i = {}, 0
for k = 0, $assets - 1, 7 do
  if math.floor(k / 100) % 100 < 70 then ids[#ids + 1] = $first_id + k end
end
request = function()
  i = i % #ids + 1
  return wrk.format("GET", "/api/v1/assets/" .. ids[i])
end
EOF

# Dirty pages left by the catalogue load (and by earlier sections of bench.sh, which write
# several GiB) are written back by kernel threads on these same two CPUs; flush them before
# anything is timed, so the writeback does not run during the measurement.
log "flushing dirty pages (sync)"
sync
sleep 2
log "warm-up"
run_wrk warm -t2 -c64 -d3s -H "$auth" -s "$tmp/list.lua" "$base" >/dev/null
log "list with two filters: $duration s, 64 connections"
read -r list_rps list_p50 list_p99 list_n list_err < <(run_wrk list -t2 -c64 -d"${duration}s" \
  -H "$auth" -s "$tmp/list.lua" "$base")
log "  $list_rps requests/s, p99 $list_p99 ms, $list_err errors"
log "get by id: $duration s, 64 connections"
read -r get_rps get_p50 get_p99 get_n get_err < <(run_wrk get -t2 -c64 -d"${duration}s" \
  -H "$auth" -s "$tmp/get.lua" "$base")
log "  $get_rps requests/s, p99 $get_p99 ms, $get_err errors"

# --- Idle connections ------------------------------------------------------------------------
lat_duration=$((duration / 3 > 5 ? duration / 3 : 5))
log "one client's latency without idle connections ($lat_duration s)"
read -r solo_rps solo_p50 solo_p99 solo_n solo_err < <(run_wrk solo -t1 -c1 \
  -d"${lat_duration}s" -H "$auth" -s "$tmp/get.lua" "$base")
log "opening $idle idle connections from another process"
# A bash that opens the connections, reports, and sleeps holding them until killed.
bash -c 'ulimit -n $(($2 + 64)); for ((i = 0; i < $2; i++)); do
           exec {fd}<>"/dev/tcp/127.0.0.1/$1" || exit 1; done; echo open; exec sleep 3600' \
  _ "$port" "$idle" >"$tmp/idle.out" 2>&1 &
holder=$!
for ((i = 0; i < 300; i++)); do grep -q open "$tmp/idle.out" && break; sleep 0.1; done
grep -q open "$tmp/idle.out" || { log "could not open $idle connections"; exit 1; }
held_before=$(ss -Htn state established "( dport = :$port )" | wc -l)
log "  $held_before connections established; measuring ($lat_duration s)"
read -r busy_rps busy_p50 busy_p99 busy_n busy_err < <(run_wrk busy -t1 -c1 \
  -d"${lat_duration}s" -H "$auth" -s "$tmp/get.lua" "$base")
held_after=$(ss -Htn state established "( dport = :$port )" | wc -l)
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
log "  $held_after connections still open after the measurement"
stop_server

# --- Upload ------------------------------------------------------------------------------------
file=$tmp/upload.wav
log "writing a $upload_mib MiB WAV file"
write_wav "$file" "$upload_mib"
cat "$file" >/dev/null  # warm-up read: both sides start from a hot page cache
up_s=() ref_s=() idle_kib=() peak_kib=()
for ((run = 1; run <= runs; run++)); do
  rm -rf "$tmp/updata"
  mkdir -p "$tmp/updata"
  "$pixvault" --data-dir "$tmp/updata" user create bench >/dev/null
  ukey=$("$pixvault" --data-dir "$tmp/updata" key create bench 2>/dev/null | head -n 1)
  start_server "$tmp/updata"
  # Idle RSS after one authenticated request, so the first-use allocations are counted in.
  curl -s -o /dev/null -H "Authorization: Bearer $ukey" "http://127.0.0.1:$port/api/v1/assets"
  idle_kib+=("$(rss_kib "$server_pid" VmRSS)")
  t0=$(now_ns)
  status=$(curl -s -o "$tmp/upload.json" -w '%{http_code}' -X POST -T "$file" \
    -H "Authorization: Bearer $ukey" -H "Content-Type: audio/wav" -H "Expect:" \
    "http://127.0.0.1:$port/api/v1/assets/upload")
  t1=$(now_ns)
  [[ $status = 201 ]] || { log "upload answered $status:"; cat "$tmp/upload.json" >&2; exit 1; }
  up_s+=("$(seconds_between "$t0" "$t1")")
  peak_kib+=("$(rss_kib "$server_pid" VmHWM)")
  stop_server

  t0=$(now_ns)
  sha256sum "$file" >/dev/null && cp "$file" "$tmp/copy.wav"
  t1=$(now_ns)
  ref_s+=("$(seconds_between "$t0" "$t1")")
  rm -f "$tmp/copy.wav"
  log "upload run $run: pixvault ${up_s[-1]} s (idle ${idle_kib[-1]} KiB, peak" \
    "${peak_kib[-1]} KiB); reference ${ref_s[-1]} s"
done
up_med=$(printf '%s\n' "${up_s[@]}" | median)
ref_med=$(printf '%s\n' "${ref_s[@]}" | median)
growth_kib=0
for ((i = 0; i < runs; i++)); do
  g=$((peak_kib[i] - idle_kib[i]))
  ((g > growth_kib)) && growth_kib=$g
done

# --- Report ------------------------------------------------------------------------------------
# pass EXPR: PASS when the awk expression EXPR (made of the numbers measured above) holds.
pass() { awk "BEGIN {print (($1) ? \"PASS\" : \"**FAIL**\")}"; }
{
  echo "| Benchmark | pixvault | reference | ratio | target | result |"
  echo "|---|---:|---:|---:|---|---|"
  echo "| \`GET /api/v1/assets?limit=50\`, category + rating, 64 connections, ${duration} s" \
    "| $(commas "$list_rps") req/s, p50 $list_p50 ms, p99 $list_p99 ms, $list_err errors" \
    "($(commas "$list_n") requests) | | | >= 5,000 req/s, p99 <= 20 ms, 0 errors" \
    "| $(pass "$list_rps >= 5000 && $list_p99 <= 20 && $list_err == 0") |"
  echo "| \`GET /api/v1/assets/{id}\`, 64 connections, ${duration} s" \
    "| $(commas "$get_rps") req/s, p50 $get_p50 ms, p99 $get_p99 ms, $get_err errors" \
    "($(commas "$get_n") requests) | | | >= 20,000 req/s | $(pass "$get_rps >= 20000") |"
  awk -v mib="$upload_mib" -v pv="$up_med" -v ref="$ref_med" -v runs="$runs" \
    -v pvall="${up_s[*]}" -v refall="${ref_s[*]}" 'BEGIN {
    ratio = ref / pv
    printf "| %d MiB raw upload over loopback (curl), median of %d (runs: %s s vs %s s) " \
      "| %.0f MiB/s (%.2f s) | %.0f MiB/s (%.2f s), `sha256sum FILE && cp FILE DEST` " \
      "| %.2fx | >= 0.7x | %s |\n", mib, runs, pvall, refall, mib / pv, pv, mib / ref, ref,
      ratio, (ratio >= 0.7 ? "PASS" : "**FAIL**")
  }'
  echo "| Server RSS during the upload, largest growth of $runs" \
    "| +$(awk -v k="$growth_kib" 'BEGIN {printf "%.1f", k / 1024}') MiB over idle" \
    "($(awk -v k="${idle_kib[0]}" 'BEGIN {printf "%.1f", k / 1024}') MiB idle) | | |" \
    "<= +64 MiB | $(pass "$growth_kib <= 65536") |"
  awk -v n="$idle" -v a50="$solo_p50" -v a99="$solo_p99" -v b50="$busy_p50" -v b99="$busy_p99" \
    -v held="$held_before" -v after="$held_after" -v err="$((solo_err + busy_err))" 'BEGIN {
    r = b50 / a50
    printf "| One client (1 connection, `GET /api/v1/assets/{id}`), latency with %d idle " \
      "connections open (%d established before, %d after the run) " \
      "| p50 %.3f ms, p99 %.3f ms | without them: p50 %.3f ms, p99 %.3f ms | %.2fx (p50); " \
      "%.2fx (p99) | <= 2x | %s |\n", n, held, after, b50, b99, a50, a99, r, b99 / a99,
      (r <= 2 && after >= n && err == 0 ? "PASS" : "**FAIL**")
  }'
} >"$markdown"
log "wrote $markdown"
