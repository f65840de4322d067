#!/usr/bin/env bash
# Usage: scripts/bench.sh [--assets N] [--edges N] [--iterations N] [--import-mib N]
#                         [--runs N] [--skip-import] [--skip-sqlite] [--skip-postgres]
#                         [--output FILE]
#
# Runs the performance benchmarks (`make bench`) and rewrites docs/benchmarks.md with the
# measured figures, each beside its reference tool run in the same session:
#   1. `pixvault import` of one 1 GiB file vs `sha256sum FILE && cp FILE DEST` (throughput
#      and peak RSS, median of --runs runs, both on a hot page cache, same filesystem);
#   2. bench/store_bench on SQLite and on a throwaway PostgreSQL (scripts/with-postgres.sh):
#      1,000,000 synthetic assets, keyset pages by category+rating and by tag, lineage
#      ancestors to depth 50, vs the same SQL in sqlite3 / psql.
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
do_import=1 do_sqlite=1 do_postgres=1
output=$root/docs/benchmarks.md
while [[ $# -gt 0 ]]; do
  case $1 in
    --assets) assets=$2; shift 2 ;;
    --edges) edges=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    --import-mib) import_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
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
log "building pixvault and store_bench (Release) in $build"
if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
         -DPIXVAULT_BUILD_BENCH=ON &&
       cmake --build "$build" --target pixvault store_bench -j "${JOBS:-1}"; } \
  >"$tmp/build.log" 2>&1; then
  tail -n 40 "$tmp/build.log" >&2
  log "build failed (full log above, last 40 lines)"
  exit 1
fi
pixvault=$build/src/app/pixvault
store_bench=$build/bench/store_bench

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
  echo "visible). A list call is 2 statements (the page, then its tags); a walk is 2 (the"
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
  echo "<!-- notes -->"
  if [[ -n $notes ]]; then echo "$notes"; fi
} >"$output.tmp"
mv "$output.tmp" "$output"
log "wrote $output in ${elapsed} s"
