#!/usr/bin/env bash
# Usage: scripts/bench_providers.sh --pixvault BIN --fakeprovider BIN --markdown FILE
#                                   [--assets N] [--file-kib K] [--concurrency C]
#                                   [--connections N] [--duration S] [--pace-ms MS]
#
# The provider benchmarks of issue 5 (called by scripts/bench.sh, which builds the binaries),
# against a real `pixvault serve` (SQLite, the embedded default) whose providers file points
# at a real `pixvault-fakeprovider`, both on loopback:
#   1. first-time resolves: N distinct WAV files of K KiB (random samples) are imported
#      beforehand (not timed); then `GET /api/v1/assets/{id}/providers/fake?account=A` for
#      each of them, C at a time (one `curl --parallel` process), timed from the first request
#      to the last answer. The reference is the fake server receiving the same N files
#      directly (`POST /v1/files`, raw body streamed from the file as with `curl -T`, same
#      bearer token, same curl process, same C), timed the same way. Three rounds of a
#      reference run then a pixvault run (each round for a new account of the fake, so its
#      resolves are first-time); the medians are compared. Every run starts after a `sync`;
#      the fake keeps its files on tmpfs when /dev/shm is there. The fake's `GET /_stats` must
#      count exactly N uploads of the N files' bytes after each run. Then a fourth round with
#      a remote pool of C threads (a fourth account), compared with its own reference run:
#      the remote pool (`remote_threads`, default 16, where the resolve route runs) bounds
#      concurrent resolves;
#   2. cached resolves: the same route for the N assets now resolved, under wrk (as in
#      scripts/bench_http.sh), --connections connections for S seconds, against the server
#      with its defaults; the fake must see no request during the load. Twice: saturated
#      (each connection sends its next request as soon as the answer arrives: throughput, and
#      a p99 that is mostly queueing) and paced (each connection waits --pace-ms, default 20,
#      between an answer and its next request: the latency at a stated load, about
#      connections * 1000 / pace-ms requests/s). Beside each, the same load on
#      `GET /api/v1/assets/{id}` of the same assets (what the machine gives a route with one
#      read); the p99 target is judged on the paced run.
# Writes a markdown section to FILE. Targets are reported, never turned into an exit code:
# the exit code is non-zero only when a benchmark could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"
pixvault="" fakeprovider="" markdown=""
assets=1000 file_kib=512 concurrency=32 connections=64 duration=30 pace_ms=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --pixvault) pixvault=$2; shift 2 ;;
    --fakeprovider) fakeprovider=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --assets) assets=$2; shift 2 ;;
    --file-kib) file_kib=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --pace-ms) pace_ms=$2; shift 2 ;;
    *) echo "bench_providers.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $pixvault && -x $fakeprovider && -n $markdown ]] || {
  echo "bench_providers.sh: --pixvault, --fakeprovider and --markdown are required" >&2; exit 2
}
log() { echo "bench_providers.sh: $*" >&2; }
for tool in wrk curl ss; do
  command -v "$tool" >/dev/null || { log "$tool is missing (scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench-providers.XXXXXX")
server_pid="" fake_pid="" fake_data=""
stop() {  # stop PID: SIGTERM, then wait for it
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_server() { if [[ -n $server_pid ]]; then stop "$server_pid"; server_pid=""; fi; }
trap 'stop_server; [[ -z $fake_pid ]] || stop "$fake_pid"; rm -rf "$tmp" ${fake_data:+"$fake_data"}' EXIT

# --- Files, catalogue, fake provider -------------------------------------------------------
bytes=$((file_kib * 1024))
log "writing $(commas "$assets") WAV files of $file_kib KiB (random samples)"
mkdir -p "$tmp/files"
write_wav_header "$tmp/header" "$bytes"
for ((i = 0; i < assets; i++)); do
  cat "$tmp/header" <(head -c $((bytes - 44)) /dev/urandom) >"$tmp/files/f$i.wav"
done

data=$tmp/data
log "importing them (not timed)"
"$pixvault" --data-dir "$data" user create bench >/dev/null
"$pixvault" --data-dir "$data" --user bench import -r "$tmp/files" --json >"$tmp/import.jsonl"
ids=$(grep '"status":"created"' "$tmp/import.jsonl" | sed 's/.*"asset":{"id":\([0-9]*\),.*/\1/')
[[ $(echo "$ids" | wc -l) -eq $assets ]] || {
  log "the import did not create $assets assets:"; grep -v '"created"' "$tmp/import.jsonl" >&2
  exit 1
}
key=$("$pixvault" --data-dir "$data" key create bench 2>/dev/null | head -n 1)

# Four tokens, four accounts of the fake: each pixvault run resolves for its own account, so
# every run is first-time resolves of the same assets. The fake keeps what it receives (500 MiB
# a run) in files: on tmpfs when there is one, so that neither side's runs wait on this VM's
# disk (writing back an earlier run's files made a run up to 3x slower, whichever side it was).
fake_data=$(mktemp -d /dev/shm/pixvault-bench-fake.XXXXXX 2>/dev/null) || fake_data=""
"$fakeprovider" --listen 127.0.0.1:0 --data "${fake_data:-$tmp/fake}" --token bench-a \
  --token bench-b --token bench-c --token bench-d >"$tmp/fake.log" 2>&1 &
fake_pid=$!
for ((i = 0; i < 100; i++)); do grep -q listening "$tmp/fake.log" && break; sleep 0.1; done
fake_port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/fake.log")
[[ -n $fake_port ]] || { log "the fake provider did not start:"; cat "$tmp/fake.log" >&2; exit 1; }
fake=http://127.0.0.1:$fake_port
# The fake's protocol (docs/fake-provider.md), only what resolution uses; any media type.
cat >"$tmp/providers.toml" <<EOF
[providers.fake]
type = "http"
base_url = "$fake"
auth_header = "Authorization"
auth_value = "Bearer {api_key}"

[providers.fake.upload]
method = "POST"
path = "/v1/files"
body = "raw"
ref_pointer = "/id"
url_pointer = "/url"
expires_pointer = "/expires_at"

[providers.fake.download]
method = "GET"
path = "/v1/files/{ref}/content"

[providers.fake.check]
method = "GET"
path = "/v1/files/{ref}"
EOF
account_id() {  # account_id LABEL TOKEN: adds the account, prints its id
  echo "{\"api_key\": \"$2\"}" |
    "$pixvault" --data-dir "$data" --user bench account add fake "$1" 2>&1 |
    sed -n 's/^added account #\([0-9]*\) .*/\1/p'
}
accounts=()
for t in a b c d; do
  accounts+=("$(account_id "$t" "bench-$t")")
  [[ -n ${accounts[-1]} ]] || { log "could not add the provider accounts"; exit 1; }
done

# start_server [REMOTE_THREADS]: `pixvault serve` with the providers file on a free port,
# defaults otherwise (the remote pool's size when given), except that no analysis worker
# runs: the import queued the analysis of every file (loudness, onsets, waveform, thumbnail),
# which a server in steady state has long finished, and which would otherwise take one of the
# two CPUs through every measurement below.
port=""
start_server() {
  port=$(free_port)
  env PIXVAULT_ANALYSIS_WORKERS=0 ${1:+PIXVAULT_REMOTE_THREADS=$1} "$pixvault" \
    --data-dir "$data" serve --listen "127.0.0.1:$port" --providers "$tmp/providers.toml" \
    >"$tmp/serve.log" 2>&1 &
  server_pid=$!
  wait_http "http://127.0.0.1:$port/healthz" || {
    log "the server did not start:"; cat "$tmp/serve.log" >&2; exit 1
  }
}

# fake_stat NAME: a top-level counter of the fake's /_stats (they come before the per-account
# ones, except `requests`, which only the top level has).
fake_stat() { curl -s "$fake/_stats" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
reset_stats() { curl -s -o /dev/null -X POST -d '{"reset_stats":true}' "$fake/_control"; }
# check_uploads WHAT: the fake stored exactly N files of N * K KiB since the last reset.
check_uploads() {
  local uploads upload_bytes
  uploads=$(fake_stat uploads) upload_bytes=$(fake_stat upload_bytes)
  [[ $uploads -eq $assets && $upload_bytes -eq $((assets * bytes)) ]] || {
    log "$1: the fake counted $uploads uploads of $upload_bytes bytes, not $assets of" \
      "$((assets * bytes))"
    exit 1
  }
}

# timed_curl CONFIG: one curl process running the transfers of CONFIG, C at a time; prints the
# seconds from start to the last answer. Every answer must have STATUS (a line per transfer).
timed_curl() {
  local t0 t1 bad
  # Every run starts with no dirty pages (the pixvault server's database, the fake's files when
  # there is no tmpfs).
  sync
  sleep 1
  t0=$(now_ns)
  curl --no-progress-meter --parallel --parallel-max "$concurrency" -K "$1" >"$1.codes"
  t1=$(now_ns)
  bad=$(grep -cv "^$2\$" "$1.codes" || true)
  [[ $bad -eq 0 && $(wc -l <"$1.codes") -eq $assets ]] || {
    log "$1: $bad answers other than $2:"; sort "$1.codes" | uniq -c >&2; exit 1
  }
  seconds_between "$t0" "$t1"
}
# A transfer of a curl config (options reset at each `next`).
transfer() {
  printf 'url = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\nshow-error\n' \
    "$1"
  shift
  for h in "$@"; do printf 'header = "%s"\n' "$h"; done
}
{
  first=1
  for ((i = 0; i < assets; i++)); do
    ((first)) || echo next
    first=0
    transfer "$fake/v1/files" "Authorization: Bearer bench-a" "Content-Type: audio/wav" "Expect:"
    # Streamed from the file, as pixvault's client sends it: `data-binary = "@FILE"` sends
    # the same bytes from memory but took 3.5x longer here (curl 7.88).
    printf 'request = "POST"\nupload-file = "%s"\n' "$tmp/files/f$i.wav"
  done
} >"$tmp/reference.cfg"
resolve_config() {  # resolve_config ACCOUNT FILE
  local first=1 id
  for id in $ids; do
    ((first)) || echo next
    first=0
    transfer "http://127.0.0.1:$port/api/v1/assets/$id/providers/fake?account=$1" \
      "Authorization: Bearer $key"
  done >"$2"
}

# Dirty pages of the files and the import are written back by kernel threads on these same
# CPUs: flush them before anything is timed.
log "flushing dirty pages (sync)"
sync
sleep 2

# --- 1. First-time resolves -------------------------------------------------------------------
# Three rounds, each a reference run then a pixvault run (a new account each round, so its
# resolves are first-time): the two sides alternate through the VM's slow and fast minutes,
# and the medians are compared.
ref_runs=() pv_runs=()
for round in 1 2 3; do
  log "reference, run $round: the fake receives the $(commas "$assets") files, $concurrency at a" \
    "time"
  reset_stats
  ref_runs+=("$(timed_curl "$tmp/reference.cfg" 201)")
  check_uploads "reference run $round"
  log "  ${ref_runs[-1]} s"

  start_server
  log "pixvault, run $round: $(commas "$assets") first-time resolves, $concurrency at a time," \
    "default pool"
  reset_stats
  resolve_config "${accounts[round - 1]}" "$tmp/resolve_$round.cfg"
  pv_runs+=("$(timed_curl "$tmp/resolve_$round.cfg" 200)")
  check_uploads "resolves, run $round (default pool)"
  log "  ${pv_runs[-1]} s"
  stop_server
done
ref_s=$(printf '%s\n' "${ref_runs[@]}" | median)
pv_s=$(printf '%s\n' "${pv_runs[@]}" | median)

# A fourth round with a remote pool of C threads, compared with its own reference run.
log "reference, run 4: the fake receives the $(commas "$assets") files, $concurrency at a time"
reset_stats
ref_wide_s=$(timed_curl "$tmp/reference.cfg" 201)
check_uploads "reference run 4"
log "  $ref_wide_s s"
start_server "$concurrency"
log "pixvault, run 4: $(commas "$assets") first-time resolves, $concurrency at a time," \
  "remote_threads = $concurrency"
reset_stats
resolve_config "${accounts[3]}" "$tmp/resolve_wide.cfg"
pv_wide_s=$(timed_curl "$tmp/resolve_wide.cfg" 200)
check_uploads "resolves (remote_threads = $concurrency)"
log "  $pv_wide_s s"
stop_server

# --- 2. Cached resolves under wrk ---------------------------------------------------------------
# run_wrk NAME ARGS...: as in bench_http.sh; prints "rps p50_ms p99_ms requests errors".
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
start_server
base=http://127.0.0.1:$port
cat >"$tmp/cached.lua" <<EOF
local ids, i = {$(echo "$ids" | tr '\n' ',')}, 0
request = function()
  i = i % #ids + 1
  return wrk.format("GET", "/api/v1/assets/" .. ids[i] .. "/providers/fake?account=${accounts[0]}")
end
EOF
answer=$(curl -s -H "Authorization: Bearer $key" \
  "$base/api/v1/assets/${ids%%$'\n'*}/providers/fake?account=${accounts[0]}")
echo "$answer" | grep -q '"uploaded_now":false' || { log "not a cached answer: $answer"; exit 1; }
log "warm-up"
run_wrk warm -t2 -c"$connections" -d3s -H "Authorization: Bearer $key" -s "$tmp/cached.lua" \
  "$base" >/dev/null
requests_before=$(fake_stat requests)
log "cached resolves: $duration s, $connections connections"
read -r c_rps c_p50 c_p99 c_n c_err < <(run_wrk cached -t2 -c"$connections" -d"${duration}s" \
  -H "Authorization: Bearer $key" -s "$tmp/cached.lua" "$base")
fake_requests=$(($(fake_stat requests) - requests_before))
log "  $c_rps requests/s, p50 $c_p50 ms, p99 $c_p99 ms, $c_err errors;" \
  "$fake_requests requests reached the fake"
# The reference: the plain asset read of the same assets on the same server, same load (an
# inline route; the resolve route also reads the account and the upload row, and answers a
# cached ref on the I/O thread too).
sed 's| \.\. "/providers/fake?account=[0-9]*"||' "$tmp/cached.lua" >"$tmp/get.lua"
log "get by id of the same assets: $duration s, $connections connections"
read -r g_rps g_p50 g_p99 g_n g_err < <(run_wrk get -t2 -c"$connections" -d"${duration}s" \
  -H "Authorization: Bearer $key" -s "$tmp/get.lua" "$base")
log "  $g_rps requests/s, p50 $g_p50 ms, p99 $g_p99 ms, $g_err errors"
# Paced: wrk's delay() between an answer and the connection's next request.
for name in cached get; do
  sed "s|^request = function|function delay() return $pace_ms end\nrequest = function|" \
    "$tmp/$name.lua" >"$tmp/$name-paced.lua"
done
requests_before=$(fake_stat requests)
log "cached resolves, paced: $duration s, $connections connections, $pace_ms ms between requests"
read -r pc_rps pc_p50 pc_p99 pc_n pc_err < <(run_wrk cached-paced -t2 -c"$connections" \
  -d"${duration}s" -H "Authorization: Bearer $key" -s "$tmp/cached-paced.lua" "$base")
paced_fake_requests=$(($(fake_stat requests) - requests_before))
log "  $pc_rps requests/s, p50 $pc_p50 ms, p99 $pc_p99 ms, $pc_err errors;" \
  "$paced_fake_requests requests reached the fake"
log "get by id, paced: $duration s, $connections connections, $pace_ms ms between requests"
read -r pg_rps pg_p50 pg_p99 pg_n pg_err < <(run_wrk get-paced -t2 -c"$connections" \
  -d"${duration}s" -H "Authorization: Bearer $key" -s "$tmp/get-paced.lua" "$base")
log "  $pg_rps requests/s, p50 $pg_p50 ms, p99 $pg_p99 ms, $pg_err errors"
stop_server

# --- Report ------------------------------------------------------------------------------------
pass() { awk "BEGIN {print (($1) ? \"PASS\" : \"**FAIL**\")}"; }
mib=$(awk -v n="$assets" -v b="$bytes" 'BEGIN {printf "%.0f", n * b / 1048576}')
{
  echo "| Benchmark | pixvault | reference | ratio | target | result |"
  echo "|---|---:|---:|---:|---|---|"
  awk -v n="$(commas "$assets")" -v raw="$assets" -v kib="$file_kib" -v mib="$mib" \
    -v c="$concurrency" -v pv="$pv_s" -v ref="$ref_s" -v runs="${ref_runs[*]}" \
    -v pvruns="${pv_runs[*]}" 'BEGIN {
    r = pv / ref
    printf "| %s first-time resolves of distinct assets (%d KiB WAV each, %s MiB), %d at a " \
      "time, default remote pool (16 threads) | %.2f s (%.0f resolves/s), median of 3 runs " \
      "(%s s) | %.2f s, the fake receiving the same files " \
      "(`curl -X POST -T FILE .../v1/files`), median of 3 runs alternating with pixvault'"'"'s " \
      "(%s s) | %.2fx | <= 1.2x | %s |\n", n, kib, mib, c, pv, raw / pv, pvruns, ref, runs, r,
      (r <= 1.2 ? "PASS" : "**FAIL**")
  }'
  awk -v raw="$assets" -v c="$concurrency" -v pv="$pv_wide_s" -v ref="$ref_wide_s" 'BEGIN {
    r = pv / ref
    printf "| The same with `remote_threads = %d` (another account, so first-time again), " \
      "one run | %.2f s (%.0f resolves/s) | %.2f s, the reference run just before it " \
      "| %.2fx | <= 1.2x | %s |\n", c, pv, raw / pv, ref, r, (r <= 1.2 ? "PASS" : "**FAIL**")
  }'
  echo "| Cached resolve \`GET /api/v1/assets/{id}/providers/fake?account=\` over" \
    "$(commas "$assets") resolved assets, $connections connections, ${duration} s, saturated" \
    "| $(commas "$c_rps") req/s, p50 $c_p50 ms, p99 $c_p99 ms, $c_err errors" \
    "($(commas "$c_n") requests; $fake_requests reached the fake)" \
    "| \`GET /api/v1/assets/{id}\` of the same assets, same load: $(commas "$g_rps") req/s," \
    "p50 $g_p50 ms, p99 $g_p99 ms, $g_err errors ($(commas "$g_n") requests)" \
    "| $(awk -v a="$c_p99" -v b="$g_p99" 'BEGIN {printf "%.2fx (p99)", a / b}') | (for context)" \
    "| |"
  echo "| The same, paced ($pace_ms ms between an answer and the connection's next request)" \
    "| $(commas "$pc_rps") req/s, p50 $pc_p50 ms, p99 $pc_p99 ms, $pc_err errors" \
    "($(commas "$pc_n") requests; $paced_fake_requests reached the fake)" \
    "| \`GET /api/v1/assets/{id}\`, same pacing: $(commas "$pg_rps") req/s," \
    "p50 $pg_p50 ms, p99 $pg_p99 ms, $pg_err errors ($(commas "$pg_n") requests)" \
    "| $(awk -v a="$pc_p99" -v b="$pg_p99" 'BEGIN {printf "%.2fx (p99)", a / b}') | p99 <= 2 ms" \
    "| $(pass "$pc_p99 <= 2 && $pc_err == 0 && $paced_fake_requests == 0") |"
} >"$markdown"
log "wrote $markdown"
