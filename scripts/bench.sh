#!/usr/bin/env bash
# Usage: scripts/bench.sh [--assets N] [--edges N] [--iterations N] [--import-mib N]
#                         [--runs N] [--http-assets N] [--http-seconds S] [--upload-mib N]
#                         [--skip-import] [--skip-sqlite] [--skip-postgres] [--skip-http]
#                         [--skip-lineage] [--skip-runtime] [--skip-bundle] [--skip-media]
#                         [--skip-providers] [--output FILE]
#
# Runs the performance benchmarks (`make bench`) and rewrites docs/benchmarks.md with the
# measured figures, each beside its reference tool run in the same session:
#   1. `pixvault import` of one 1 GiB file vs `sha256sum FILE && cp FILE DEST` (throughput
#      and peak RSS, median of --runs runs, both on a hot page cache, same filesystem);
#   2. bench/store_bench on SQLite and on a throwaway PostgreSQL (scripts/with-postgres.sh):
#      1,000,000 synthetic assets, keyset pages by category+rating and by tag, lineage
#      ancestors to depth 50, vs the same SQL in sqlite3 / psql;
#   3. the HTTP API under wrk (scripts/bench_http.sh): a filtered list on --http-assets
#      assets, GET by id, a raw upload vs sha256sum+cp with server RSS, 1,000 idle connections;
#   4. bench/lineage_http_bench on both backends: lineage walks at depth 50 through the HTTP
#      API on --edges edges, beside the recursive SQL alone;
#   5. bench/branch_runtime_bench: choices per second of the branch runtime on one core;
#   6. bench/bundle_http_bench on both backends: export of a 10,000-node bundle through the
#      HTTP API, beside the same export in-process and its database reads;
#   7. media analysis: probe of 200 files vs ffprobe (scripts/bench_probe.sh), thumbnails of
#      100 images vs vipsthumbnail (scripts/bench_thumbs.sh), loudness vs ffmpeg's ebur128 and
#      tempo accuracy (scripts/bench_audio.sh), scene detection vs ffmpeg decode and scdet
#      with cut/fade accuracy (scripts/bench_scenes.sh), tinygltf vs assimp on the glTF
#      sample models (scripts/bench_3d.sh);
#   8. providers (scripts/bench_providers.sh): 1,000 first-time resolves for pixvault-fakeprovider
#      with 32 at a time vs the fake receiving the same files directly, and cached resolves
#      under wrk at 64 connections.
#   9. bench/cache_bench on both backends: one eviction pass of the local cache over 100,000
#      cached blobs (real files), down to 10% of their bytes.
# Builds Release into $BUILD (default build/release, the Makefile's; only the needed targets;
# JOBS=N parallel jobs, default 1). Temporary files go to a folder under $TMPDIR (about
# 2.5 GiB at the default sizes), removed at the end.
# Targets are reported (PASS/FAIL in the document), never turned into an exit code: the exit
# code is non-zero only when a benchmark could not run.
# Everything below the line "<!-- notes -->" in the existing output file is kept, so the
# hand-written analysis survives a re-run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
assets=1000000
edges=1000000
iterations=200
import_mib=1024
runs=3
http_assets=100000 http_seconds=30 upload_mib=1024
do_import=1 do_sqlite=1 do_postgres=1 do_http=1 do_lineage=1 do_runtime=1 do_bundle=1
do_media=1 do_providers=1
do_media=1 do_cache=1
output=$root/docs/benchmarks.md
while [[ $# -gt 0 ]]; do
  case $1 in
    --assets) assets=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --import-mib) import_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --http-assets) http_assets=$2; shift 2 ;;
    --http-seconds) http_seconds=$2; shift 2 ;;
    --upload-mib) upload_mib=$2; shift 2 ;;
    --skip-http) do_http=0; shift ;;
    --skip-lineage) do_lineage=0; shift ;;
    --skip-runtime) do_runtime=0; shift ;;
    --skip-bundle) do_bundle=0; shift ;;
    --skip-media) do_media=0; shift ;;
    --skip-providers) do_providers=0; shift ;;
    --skip-cache) do_cache=0; shift ;;
    --skip-import) do_import=0; shift ;;
    --skip-sqlite) do_sqlite=0; shift ;;
    --skip-postgres) do_postgres=0; shift ;;
    --output) output=$2; shift 2 ;;
    *) echo "bench.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
log() { echo "bench.sh: $*" >&2; }
started=$(date +%s)

# --- Build -------------------------------------------------------------------------------
# The Makefile's release build folder (BUILD, default build/release) is reused as it is: only
# the build type and the bench option are set, so `make build`/`make test` keep their options.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
build=${BUILD:-build/release}
[[ $build = /* ]] || build=$root/$build
log "building pixvault and the benchmarks (Release) in $build"
if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
         -DPIXVAULT_BUILD_BENCH=ON &&
       cmake --build "$build" --target pixvault store_bench lineage_http_bench \
         branch_runtime_bench bundle_http_bench probe_bench thumbnail_bench audio_bench \
         scene_bench model3d_bench pixvault-fakeprovider cache_bench -j "${JOBS:-1}"; } \
  >"$tmp/build.log" 2>&1; then
  tail -n 40 "$tmp/build.log" >&2
  log "build failed (full log above, last 40 lines)"
  exit 1
fi
pixvault=$build/src/app/pixvault
store_bench=$build/bench/store_bench
lineage_bench=$build/bench/lineage_http_bench
runtime_bench=$build/bench/branch_runtime_bench
bundle_bench=$build/bench/bundle_http_bench
probe_bench=$build/bench/probe_bench
thumbnail_bench=$build/bench/thumbnail_bench
audio_bench=$build/bench/audio_bench
scene_bench=$build/bench/scene_bench
model3d_bench=$build/bench/model3d_bench
fakeprovider=$build/src/providers/fake/pixvault-fakeprovider
cache_bench=$build/bench/cache_bench

# --- Machine -----------------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
fs=$(df -T "$tmp" | awk 'NR == 2 {print $2 " (" $1 ")"}')
# BENCH_COMMIT names the source when it is not a git checkout (e.g. a `git archive` export).
commit=${BENCH_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=""
if [[ -z ${BENCH_COMMIT:-} ]] &&
  GIT_OPTIONAL_LOCKS=0 git -C "$root" status --porcelain 2>/dev/null | grep -q .; then
  dirty=" + local changes"
fi

# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"

# --- 1. Import ---------------------------------------------------------------------------
import_md=""
if [[ $do_import -eq 1 ]]; then
  file=$tmp/bench-input.wav
  log "writing a ${import_mib} MiB WAV file to $tmp"
  write_wav "$file" "$import_mib"
  cat "$file" >/dev/null  # warm-up read: both sides start from a hot page cache
  pv_s=() pv_kib=() ref_s=() ref_kib=()
  for ((run = 1; run <= runs; run++)); do
    rm -rf "$tmp/data"
    t0=$(now_ns)
    /usr/bin/time -f '%M' -o "$tmp/rss" "$pixvault" --data-dir "$tmp/data" import "$file" --json \
      >"$tmp/import.json"
    t1=$(now_ns)
    grep -q '"status":"created"' "$tmp/import.json" || {
      log "import did not create an asset:"; cat "$tmp/import.json" >&2; exit 1
    }
    pv_s+=("$(seconds_between "$t0" "$t1")")
    pv_kib+=("$(cat "$tmp/rss")")
    rm -rf "$tmp/data"

    t0=$(now_ns)
    /usr/bin/time -f '%M' -o "$tmp/rss" bash -c 'sha256sum "$1" >/dev/null && cp "$1" "$2"' _ \
      "$file" "$tmp/copy.wav"
    t1=$(now_ns)
    ref_s+=("$(seconds_between "$t0" "$t1")")
    ref_kib+=("$(cat "$tmp/rss")")
    rm -f "$tmp/copy.wav"
    log "import run $run: pixvault ${pv_s[-1]} s, ${pv_kib[-1]} KiB;" \
      "reference ${ref_s[-1]} s, ${ref_kib[-1]} KiB"
  done
  rm -f "$file"
  pv_med=$(printf '%s\n' "${pv_s[@]}" | median)
  ref_med=$(printf '%s\n' "${ref_s[@]}" | median)
  pv_rss=$(printf '%s\n' "${pv_kib[@]}" | maximum)
  ref_rss=$(printf '%s\n' "${ref_kib[@]}" | maximum)
  import_md=$(awk -v mib="$import_mib" -v pv="$pv_med" -v ref="$ref_med" -v pvr="$pv_rss" \
    -v refr="$ref_rss" -v runs="$runs" -v pvall="${pv_s[*]}" -v refall="${ref_s[*]}" 'BEGIN {
    ratio = ref / pv
    printf "| Benchmark | pixvault | reference | ratio | target | result |\n"
    printf "|---|---:|---:|---:|---|---|\n"
    printf "| Import throughput, median of %d (runs: %s s vs %s s) | %.0f MiB/s (%.2f s) " \
      "| %.0f MiB/s (%.2f s) | %.2fx | >= 0.8x | %s |\n",
      runs, pvall, refall, mib / pv, pv, mib / ref, ref, ratio, (ratio >= 0.8 ? "PASS" : "**FAIL**")
    printf "| Peak RSS, max of %d | %.1f MiB | %.1f MiB | | <= 64 MiB | %s |\n",
      runs, pvr / 1024, refr / 1024, (pvr / 1024 <= 64 ? "PASS" : "**FAIL**")
  }')
fi

# --- 2. Store queries --------------------------------------------------------------------
bench_args=(--assets "$assets" --edges "$edges" --iterations "$iterations")
sqlite_md="" postgres_md=""
if [[ $do_sqlite -eq 1 ]]; then
  log "store benchmark on SQLite ($assets assets, $edges edges)"
  "$store_bench" --db "sqlite://$tmp/bench.db" "${bench_args[@]}" --title SQLite \
    --markdown "$tmp/sqlite.md" --json "$tmp/sqlite.json" >/dev/null
  sqlite_md=$(cat "$tmp/sqlite.md")
  rm -f "$tmp"/bench.db*
fi
if [[ $do_postgres -eq 1 ]]; then
  log "store benchmark on PostgreSQL ($assets assets, $edges edges)"
  # Inside with-postgres.sh: create the database, point the URL at it, run the benchmark.
  inner='set -euo pipefail
    psql -X -q -d "$PIXVAULT_TEST_PG_URL" -c "CREATE DATABASE pixvault_bench"
    url=${PIXVAULT_TEST_PG_URL/\/postgres\?//pixvault_bench?}
    title="PostgreSQL $(psql -X -At -d "$url" -c "SHOW server_version" | cut -d" " -f1)"
    title+=" (fsync off, as scripts/with-postgres.sh runs it)"
    "$0" --db "$url" --title "$title" "$@" >/dev/null'
  bash "$root/scripts/with-postgres.sh" bash -c "$inner" "$store_bench" "${bench_args[@]}" \
    --markdown "$tmp/postgres.md" --json "$tmp/postgres.json"
  postgres_md=$(cat "$tmp/postgres.md")
fi

# --- 3. HTTP API -------------------------------------------------------------------------
http_md=""
if [[ $do_http -eq 1 ]]; then
  log "HTTP API under wrk ($http_assets assets, $http_seconds s per load)"
  bash "$root/scripts/bench_http.sh" --pixvault "$pixvault" --store-bench "$store_bench" \
    --markdown "$tmp/http.md" --assets "$http_assets" --duration "$http_seconds" \
    --upload-mib "$upload_mib" --runs "$runs"
  http_md=$(cat "$tmp/http.md")
fi

# --- 4. Lineage through the API ----------------------------------------------------------
lineage_sqlite_md="" lineage_postgres_md=""
if [[ $do_lineage -eq 1 ]]; then
  log "lineage walks through the API on SQLite ($edges edges)"
  "$lineage_bench" --db "sqlite://$tmp/lineage.db" --edges "$edges" --iterations "$iterations" \
    --title SQLite --markdown "$tmp/lineage_sqlite.md" >/dev/null
  lineage_sqlite_md=$(cat "$tmp/lineage_sqlite.md")
  rm -f "$tmp"/lineage.db*
  log "lineage walks through the API on PostgreSQL ($edges edges)"
  inner='set -euo pipefail
    psql -X -q -d "$PIXVAULT_TEST_PG_URL" -c "CREATE DATABASE pixvault_lineage_bench"
    url=${PIXVAULT_TEST_PG_URL/\/postgres\?//pixvault_lineage_bench?}
    "$0" --db "$url" "$@" >/dev/null'
  bash "$root/scripts/with-postgres.sh" bash -c "$inner" "$lineage_bench" --edges "$edges" \
    --iterations "$iterations" --title "PostgreSQL (fsync off)" \
    --markdown "$tmp/lineage_postgres.md"
  lineage_postgres_md=$(cat "$tmp/lineage_postgres.md")
fi

# --- 5. Branch runtime -------------------------------------------------------------------
runtime_md=""
if [[ $do_runtime -eq 1 ]]; then
  log "branch runtime choices per second"
  "$runtime_bench" --markdown "$tmp/runtime.md" >/dev/null
  runtime_md=$(tail -n +3 "$tmp/runtime.md")  # without its own "## Branch runtime" heading
fi

# --- 6. Bundle export --------------------------------------------------------------------
bundle_sqlite_md="" bundle_postgres_md=""
if [[ $do_bundle -eq 1 ]]; then
  log "bundle export of 10,000 nodes on SQLite"
  "$bundle_bench" --db "sqlite://$tmp/bundle.db" --title SQLite \
    --markdown "$tmp/bundle_sqlite.md" >/dev/null
  bundle_sqlite_md=$(cat "$tmp/bundle_sqlite.md")
  rm -f "$tmp"/bundle.db*
  log "bundle export of 10,000 nodes on PostgreSQL"
  inner='set -euo pipefail
    psql -X -q -d "$PIXVAULT_TEST_PG_URL" -c "CREATE DATABASE pixvault_bundle_bench"
    url=${PIXVAULT_TEST_PG_URL/\/postgres\?//pixvault_bundle_bench?}
    "$0" --db "$url" "$@" >/dev/null'
  bash "$root/scripts/with-postgres.sh" bash -c "$inner" "$bundle_bench" \
    --title "PostgreSQL (fsync off)" --markdown "$tmp/bundle_postgres.md"
  bundle_postgres_md=$(cat "$tmp/bundle_postgres.md")
fi

# --- 8. Local cache eviction --------------------------------------------------------------
cache_rows="" cache_disk=""
if [[ $do_cache -eq 1 ]]; then
  # The reference: what the filesystem needs to delete the same number of files of the same
  # size and layout, written and synced the same way, with `find -delete` (rm's work, one file
  # after another). On a filesystem mounted with `discard` each freed file waits for a trim.
  cache_reference() {  # DIR N -> seconds of `find DIR -type f -delete` over N fresh files
    python3 -c 'import hashlib, os, sys
root, n = sys.argv[1], int(sys.argv[2])
for k in range(n):
    h = hashlib.sha256(b"reference %d" % k).hexdigest()
    d = os.path.join(root, h[:2], h[2:4])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, h), "wb") as f:
        f.write(b"." * 64)' "$1" "$2"
    sync
    local t0 t1
    t0=$(now_ns)
    find "$1" -type f -delete
    t1=$(now_ns)
    rm -rf "$1"
    seconds_between "$t0" "$t1"
  }
  cache_row() {  # LABEL REFERENCE_SECONDS, JSON line of cache_bench on stdin -> a table row
    python3 -c 'import json, sys
r = json.loads(sys.stdin.read())
ref = float(sys.argv[2])
if r["unverified_blobs"] != 0:
    sys.exit("cache_bench: %d blobs kept unverified (their copies exist)" % r["unverified_blobs"])
print("| %s | %d | %.2f s | %.2f s | %d | %.2f s | %.2fx | %s |" % (sys.argv[1], r["blobs"],
      r["status_s"], r["evict_s"], r["evicted_blobs"], ref, r["evict_s"] / ref,
      "PASS" if r["evict_s"] <= 10 else "**FAIL**"))' "$1" "$2"
  }
  cache_disk="$(df -T "$tmp" | awk 'NR == 2 {print $2}') ($(awk -v m="$(df --output=target "$tmp" | tail -n 1)" '$2 == m {print $4; exit}' /proc/mounts))"
  log "reference: find -delete of 90,000 synced 64-byte files"
  cache_ref=$(cache_reference "$tmp/cache-reference" 90000)
  log "  $cache_ref s"
  log "cache eviction pass over 100,000 blobs on SQLite"
  mkdir -p "$tmp/cache-sqlite"
  cache_rows+=$("$cache_bench" --db "sqlite://$tmp/cache-sqlite/pixvault.db" \
    --dir "$tmp/cache-sqlite" --blobs 100000 | cache_row "SQLite" "$cache_ref")$'\n'
  rm -rf "$tmp/cache-sqlite"
  log "cache eviction pass over 100,000 blobs on PostgreSQL"
  mkdir -p "$tmp/cache-pg"
  inner='set -euo pipefail
    psql -X -q -d "$PIXVAULT_TEST_PG_URL" -c "CREATE DATABASE pixvault_cache_bench"
    url=${PIXVAULT_TEST_PG_URL/\/postgres\?//pixvault_cache_bench?}
    "$0" --db "$url" "$@"'
  cache_rows+=$(bash "$root/scripts/with-postgres.sh" bash -c "$inner" "$cache_bench" \
    --dir "$tmp/cache-pg" --blobs 100000 | cache_row "PostgreSQL (fsync off)" "$cache_ref")$'\n'
  rm -rf "$tmp/cache-pg"
  if [[ -d /dev/shm && -w /dev/shm ]]; then
    # The same on memory (blob root and database on tmpfs): pixvault's own cost, without the
    # disk's per-file price.
    shm=$(mktemp -d /dev/shm/pixvault-cache-bench.XXXXXX)
    log "the same on tmpfs: reference, then SQLite"
    shm_ref=$(cache_reference "$shm/reference" 90000)
    mkdir -p "$shm/sqlite"
    cache_rows+=$("$cache_bench" --db "sqlite://$shm/sqlite/pixvault.db" --dir "$shm/sqlite" \
      --blobs 100000 | cache_row "SQLite, blob root and database on tmpfs" "$shm_ref")
    rm -rf "$shm"
  fi
fi

# --- 7. Media analysis -------------------------------------------------------------------
probe_md="" thumbs_md="" audio_md="" scenes_md="" models_md=""
if [[ $do_media -eq 1 ]]; then
  log "probe of 200 files vs ffprobe"
  bash "$root/scripts/bench_probe.sh" --probe-bench "$probe_bench" --markdown "$tmp/probe.md" \
    --runs "$runs"
  probe_md=$(cat "$tmp/probe.md")
  log "thumbnails of 100 images vs vipsthumbnail"
  bash "$root/scripts/bench_thumbs.sh" --thumbnail-bench "$thumbnail_bench" \
    --markdown "$tmp/thumbs.md"
  thumbs_md=$(cat "$tmp/thumbs.md")
  log "audio analysis vs ffmpeg ebur128"
  bash "$root/scripts/bench_audio.sh" --audio-bench "$audio_bench" --markdown "$tmp/audio.md"
  audio_md=$(cat "$tmp/audio.md")
  log "scene detection vs ffmpeg"
  bash "$root/scripts/bench_scenes.sh" --scene-bench "$scene_bench" --markdown "$tmp/scenes.md"
  scenes_md=$(cat "$tmp/scenes.md")
  log "3D models: tinygltf vs assimp"
  bash "$root/scripts/bench_3d.sh" --model3d-bench "$model3d_bench" --markdown "$tmp/models.md"
  models_md=$(cat "$tmp/models.md")
fi

# --- 8. Providers ------------------------------------------------------------------------
providers_md=""
if [[ $do_providers -eq 1 ]]; then
  log "providers: 1,000 first-time resolves vs the fake receiving the files; cached resolves"
  bash "$root/scripts/bench_providers.sh" --pixvault "$pixvault" --fakeprovider "$fakeprovider" \
    --markdown "$tmp/providers.md" --duration "$http_seconds"
  providers_md=$(cat "$tmp/providers.md")
fi
elapsed=$(($(date +%s) - started))

# --- Report ------------------------------------------------------------------------------
notes=""
if [[ -f $output ]] && grep -q '^<!-- notes -->$' "$output"; then
  notes=$(sed -n '/^<!-- notes -->$/,$p' "$output" | tail -n +2)
fi
mkdir -p "$(dirname "$output")"
{
  echo "# Benchmarks"
  echo
  echo "Generated by \`make bench\` (\`bash scripts/bench.sh\`); reproduce with that command on"
  echo "a Debian machine with the build dependencies and postgresql-15. Every figure is measured"
  echo "beside its reference tool in the same run. Targets are reported here, never asserted"
  echo "in tests."
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit$dirty; whole run ${elapsed} s"
  echo "  (build included)."
  echo "- Machine: $(nproc) CPUs ($cpu), ${mem_gib} GiB RAM, Linux $(uname -r), temp"
  echo "  filesystem $fs. The CPUs are shared with other work, so expect some noise."
  echo "- Sizes: import of ${import_mib} MiB; $(commas "$assets") synthetic assets and"
  echo "  $(commas "$edges") lineage edges per backend; up to $iterations timed calls per query."
  echo
  echo "## 1. Import of one large file"
  echo
  if [[ -n $import_md ]]; then
    echo "\`pixvault --data-dir D import FILE --json\` (stream, hash, write to tmp/, fsync,"
    echo "rename, sniff, probe, commit the row) vs \`sha256sum FILE && cp FILE DEST\` (no fsync),"
    echo "each on a fresh destination on the same filesystem, after one warm-up read of FILE so"
    echo "both start from a hot page cache (dropping caches needs root on the host). FILE is a"
    echo "PCM WAV of random samples: the importer accepts only media. Ratio = reference time /"
    echo "pixvault time (throughput of pixvault relative to the reference); peak RSS from"
    echo "\`/usr/bin/time\` (for the reference, the largest of bash, sha256sum and cp)."
    echo
    echo "$import_md"
  else
    echo "Skipped in this run (--skip-import)."
  fi
  echo
  echo "## 2. Catalogue queries on $(commas "$assets") assets"
  echo
  echo "\`bench/store_bench\` loads one user's synthetic catalogue server-side (see"
  echo "\`bench/synthetic_catalog.h\`: 100 categories; ratings general 70% / mature 20% /"
  echo "adult 7% / explicit 3%, adult and explicit age-restricted; 3 tags per asset out of"
  echo "1,000, so one tag matches 3,000 assets spread over time; no blobs), analyzes, and then"
  echo "times each query through the Store (\`ListAssets\`, \`WalkLineage\`: the service's code"
  echo "path). It records the statements that Store call sent and replays exactly those, with"
  echo "the same parameters, through the sql layer and, with the parameters written as"
  echo "literals, in the database's own shell in one session. Lists run as the owner without"
  echo "adult content; the lineage walk as the owner with adult content on (the whole chain is"
  echo "visible). A list call is 1 statement (each row carries its tags); a walk is 2 (the"
  echo "visibility check, then the recursive CTE). Category pages filter content_category ="
  echo "catN (cycling over the 100) and content_rating = mature; tag pages filter one tag"
  echo "(cycling); deep pages start from a cursor at the middle of the catalogue; walks start"
  echo "at the last asset of one of the last 200 chains (50 chain edges + 6 reference edges)."
  echo "Result = pixvault p50 against the target."
  echo
  if [[ -n $sqlite_md ]]; then echo "$sqlite_md"; echo; fi
  if [[ -n $postgres_md ]]; then
    echo "$postgres_md"
    echo
    echo "psql times each statement with \`\\timing\` (client wall time: parse, plan, execute,"
    echo "transfer). pixvault sends the same text as a prepared statement with bound parameters,"
    echo "so it skips parse and plan after the first call; the ratio compares p50s."
    echo
  fi
  echo "## 3. HTTP API under load"
  echo
  if [[ -n $http_md ]]; then
    echo "\`scripts/bench_http.sh\`: \`pixvault serve\` with its defaults (4 I/O threads) on"
    echo "SQLite, on loopback, loaded by wrk on the same 2 CPUs (wrk takes a share of them). The"
    echo "catalogue is store_bench's synthetic one at $(commas "$http_assets") assets; list"
    echo "requests cycle over the 100 categories at rating mature (200 matches each at 100,000"
    echo "assets), GET by id over 1 in 7 assets of the catalogue. Errors are non-2xx answers"
    echo "plus socket errors. The upload is a raw \`POST /api/v1/assets/upload\` of a"
    echo "${upload_mib} MiB WAV by \`curl -T\` (hash, write, fsync, rename, sniff, probe,"
    echo "commit) vs \`sha256sum FILE && cp FILE DEST\` (no fsync), a fresh server and data"
    echo "folder each run; RSS from /proc (VmHWM after the upload minus VmRSS when idle). The"
    echo "idle connections are opened by another process and stay open through the run."
    echo
    echo "$http_md"
  else
    echo "Skipped in this run (--skip-http)."
  fi
  echo
  echo "## 4. Lineage walks through the API"
  echo
  if [[ -n $lineage_sqlite_md ]]; then
    echo "\`bench/lineage_http_bench\`: the real HTTP server in-process on loopback, one"
    echo "keep-alive client; \`GET /api/v1/assets/{id}/lineage?direction=...&depth=50\` on a"
    echo "DAG of $(commas "$edges") edges (chains of 51 assets plus reference edges); beside it,"
    echo "the recursive statement the store ran, replayed through the sql layer."
    echo
    echo "$lineage_sqlite_md"
    echo
    echo "$lineage_postgres_md"
  else
    echo "Skipped in this run (--skip-lineage)."
  fi
  echo
  echo "## 5. Branch runtime"
  echo
  if [[ -n $runtime_md ]]; then
    echo "$runtime_md"
  else
    echo "Skipped in this run (--skip-runtime)."
  fi
  echo
  echo "## 6. Bundle export"
  echo
  if [[ -n $bundle_sqlite_md ]]; then
    echo "\`bench/bundle_http_bench\`: a tree of 10,000 video assets built through the Store,"
    echo "each inner asset with one branch point of 3 variants (with a condition and an effect"
    echo "on a declared state variable), then \`GET /api/v1/assets/{root}/bundle\` from one"
    echo "keep-alive client against the real server in-process (every answer checked: all"
    echo "nodes, clean validation). Beside it, \`service::ExportBundle\` in-process and the"
    echo "database reads alone (\`Store::LoadBranchGraph\`)."
    echo
    echo "$bundle_sqlite_md"
    echo
    echo "$bundle_postgres_md"
  else
    echo "Skipped in this run (--skip-bundle)."
  fi
  echo
  echo "## 7. Media analysis"
  echo
  if [[ -n $probe_md ]]; then
    echo "\`scripts/bench_probe.sh\`: 200 small files generated with ffmpeg (H.264 MP4 with and"
    echo "without AAC, VP9 WebM, MPEG-4 + Vorbis MKV, WAV, MP3, FLAC, Ogg, PNG, JPEG, WebP),"
    echo "probed one after the other by \`bench/probe_bench\` (sniff + \`media::ProbeFile\`,"
    echo "what ingest and the analysis run, in one process) and by"
    echo "\`ffprobe -v error -show_format -show_streams FILE\` (a process per file, as a"
    echo "caller of ffprobe pays it). Ratio = ffprobe time / pixvault time."
    echo
    echo "$probe_md"
    echo
    echo "$thumbs_md"
    echo
    echo "$audio_md"
    echo
    echo "$scenes_md"
    echo
    echo "$models_md"
  else
    echo "Skipped in this run (--skip-media)."
  fi
  echo
  echo "## 8. Providers"
  echo
  if [[ -n $providers_md ]]; then
    echo "\`scripts/bench_providers.sh\`: \`pixvault serve\` with its defaults (but no analysis"
    echo "worker: the import queued the analysis of every file) on SQLite and a"
    echo "providers file pointing at \`pixvault-fakeprovider\` (docs/fake-provider.md), both on"
    echo "loopback, on the same 2 CPUs as their clients. 1,000 distinct WAV files of 512 KiB"
    echo "(random samples) are imported beforehand (not timed). First-time resolves:"
    echo "\`GET /api/v1/assets/{id}/providers/fake?account=A\` once per asset (each reads the blob"
    echo "and POSTs it to the fake), 32 at a time from one \`curl --parallel\` process, timed from"
    echo "the first request to the last answer. The reference is the same curl POSTing the"
    echo "same 1,000 files to the fake's \`/v1/files\`, streamed from disk (\`-T\`), with the same"
    echo "token and concurrency. Three rounds of a reference run then a pixvault run (a new"
    echo "account of the fake each round, so every resolve is first-time); every run starts after"
    echo "a \`sync\`, and the fake keeps what it receives on tmpfs (/dev/shm), so that neither side"
    echo "waits on the disk writing back an earlier run. After every run the fake's \`/_stats\`"
    echo "must count exactly 1,000 uploads of the files' bytes. Ratio = median pixvault time /"
    echo "median reference time. The resolve route runs on the server's remote pool"
    echo "(\`remote_threads\`, default 16), which bounds concurrent resolves, so a fourth round"
    echo "runs it with a pool of 32, against that round's own reference run."
    echo "Cached resolves: the same route over the 1,000 resolved assets under wrk, as in section"
    echo "3 (64 connections; a cached answer is given on the I/O thread from three indexed reads:"
    echo "the asset, the account and the upload row; no credentials opened, no provider call),"
    echo "beside \`GET /api/v1/assets/{id}\` of the same assets under the same load; ratio = p99 of"
    echo "the resolve / p99 of the plain read. Saturated (each connection sends again as soon as"
    echo "it is answered: the throughput, and a p99 that is mostly queueing on 2 CPUs shared with"
    echo "wrk), then paced (each connection waits 20 ms after an answer: the latency at about"
    echo "3,000 requests/s); the p99 target is judged on the paced run."
    echo
    echo "$providers_md"
  else
    echo "Skipped in this run (--skip-providers)."
  fi
  echo
  echo "## 9. Local cache eviction"
  echo
  if [[ -n $cache_rows ]]; then
    echo "\`bench/cache_bench\`: 100,000 local blobs (a 64-byte file each, one asset each, last"
    echo "accessed in a scrambled order; 95% with an uploaded copy at a provider of the registry,"
    echo "5% the only copy, 2% pinned), written and synced before the pass. *Status* is the"
    echo "one-query scan behind \`pixvault cache status\`; *eviction* is one"
    echo "\`service::Cache::Evict\` pass down to 10% of the local bytes, built as the server builds"
    echo "it (scan, LRU choice, and per batch of 500: its copies listed and each checked with its"
    echo "provider through \`Resolver::CheckCopy\`, credentials opened and the folder provider's"
    echo "file stat-ed, 8 at a time and while the previous batch is evicted; then a locked"
    echo "re-check, the \`remote\` marking and the file removals, 8 at a time). The reference is the filesystem deleting the same number of files (90,000, same"
    echo "size and layout, synced) with \`find DIR -type f -delete\`, in the same run; ratio ="
    echo "eviction / reference. Blob root filesystem: $cache_disk. Target: eviction pass <= 10 s."
    echo
    echo "| Backend | Blobs | Status scan | Eviction pass | Evicted | reference: \`find -delete\` of 90,000 files | ratio | Result |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    echo "$cache_rows"
  else
    echo "Skipped in this run (--skip-cache)."
  fi
  echo
  echo "<!-- notes -->"
  if [[ -n $notes ]]; then echo "$notes"; fi
} >"$output.tmp"
mv "$output.tmp" "$output"
log "wrote $output in ${elapsed} s"
