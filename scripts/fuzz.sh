#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang in build/fuzz, then runs each for SECONDS
# (default 30) from a seed corpus generated here. Exits non-zero if a fuzzer finds a crash,
# a leak, undefined behaviour or a timeout; the reproducer is left in build/fuzz/runs/NAME/.
# Reproduce with: build/fuzz/fuzz/NAME build/fuzz/runs/NAME/crash-...
# Usage: scripts/fuzz.sh [SECONDS]   (needs clang and libclang-rt-14-dev; JOBS=1 by default)
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/fuzz"
runs="$build/runs"

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DPIXVAULT_FUZZ=ON -DPIXVAULT_SANITIZE=ON \
  -DPIXVAULT_BUILD_TESTS=OFF -DPIXVAULT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target multipart_fuzz cursor_fuzz -j "${JOBS:-1}"

# Seeds. A multipart seed is one control byte (top two bits: boundary index in
# multipart_fuzz.cc, low six: chunking pattern), then a body using that boundary.
seed() {  # seed DIR NAME PRINTF-FORMAT
  mkdir -p "$1"
  printf -- "$3" >"$1/$2"
}
mp="$runs/multipart/seeds"
seed "$mp" form '\x00--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nSunset\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZX\r\n--XyZ--\r\n'
seed "$mp" webkit '\x45------WebKitFormBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name="f"; filename*=UTF-8'"''"'%%E2%%82%%AC.txt\r\n\r\n\r\n--x\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW--'
seed "$mp" padded '\x81preamble\r\n--a \t\r\nContent-Disposition: form-data; name="a\\"b"\r\n\r\n\r\n--a-\r\n--a \rq\r\n--a--\r\nepilogue'
seed "$mp" spaced '\xc1--=?x y\r\ncontent-disposition: FORM-DATA; name=x\r\n\r\n1\r\n--=?x y--'
seed "$mp" ctype '\x02multipart/form-data; boundary="XyZ"; charset=utf-8'
cs="$runs/cursor/seeds"
for c in 1700000000000000.5 0.1 -1.1 1. .1 9223372036854775807.9223372036854775807 1.-1 abc; do
  seed "$cs" "c$(printf '%s' "$c" | md5sum | cut -c1-8)" "$c"
done

cat >"$runs/multipart.dict" <<'DICT'
"\x0d\x0a"
"--"
"--XyZ"
"Content-Disposition: "
"form-data"
"; name="
"; filename="
"; filename*=UTF-8''"
"Content-Type: "
"multipart/form-data; boundary="
"\x22"
"\x5c"
DICT

status=0
run() {  # run NAME [EXTRA-FLAGS...]
  local name="$1"
  shift
  local dir="$runs/${name%_fuzz}"
  mkdir -p "$dir/corpus"
  echo "fuzz: $name for ${seconds}s"
  if ! "$build/fuzz/$name" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/" "$@" "$dir/corpus" "$dir/seeds" >"$dir/log" 2>&1; then
    echo "fuzz: $name FAILED; log $dir/log; reproducers:"
    ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null || true
    tail -n 40 "$dir/log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$dir/log" | sed "s/^/fuzz: $name /"
  fi
}
run multipart_fuzz -dict="$runs/multipart.dict"
run cursor_fuzz
exit "$status"
