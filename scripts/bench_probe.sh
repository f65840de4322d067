#!/usr/bin/env bash
# Usage: scripts/bench_probe.sh --probe-bench BIN --markdown FILE [--files N] [--runs N]
#
# Probe throughput (issue 6): N generated media files (default 200: H.264 MP4, VP9 WebM and
# MPEG-4 MKV video with and without audio, WAV/MP3/FLAC/Ogg audio, PNG/JPEG/WebP images, of
# varied sizes and lengths) probed by pixvault (bench/probe_bench: sniff + media::ProbeFile,
# one thread, one process) and by `ffprobe -v error -show_format -show_streams FILE` on each
# file, one after the other, side by side in the same run; the median of --runs runs each.
# Target: pixvault's throughput at least 1.0x ffprobe's. Writes a markdown section to FILE;
# the exit code is non-zero only when the benchmark could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"
probe_bench="" markdown="" files=200 runs=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --probe-bench) probe_bench=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "bench_probe.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $probe_bench && -n $markdown ]] || {
  echo "bench_probe.sh: --probe-bench and --markdown are required" >&2; exit 2
}
log() { echo "bench_probe.sh: $*" >&2; }
command -v ffprobe >/dev/null || { log "ffprobe is missing (scripts/install-deps.sh)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench-probe.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dir=$tmp/media
mkdir -p "$dir"

log "generating $files media files"
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }
for ((i = 0; i < files; i++)); do
  w=$((160 + (i % 5) * 64)) h=$((120 + (i % 4) * 48)) d=$((1 + i % 3))
  src="testsrc2=size=${w}x${h}:rate=25:duration=$d"
  tone="sine=frequency=$((220 + i)):duration=$d"
  case $((i % 12)) in
    0) ff -f lavfi -i "$src" -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$dir/$i.mp4" ;;
    1) ff -f lavfi -i "$src" -f lavfi -i "$tone" -c:v libx264 -preset ultrafast \
         -pix_fmt yuv420p -c:a aac -shortest "$dir/$i.mp4" ;;
    2) ff -f lavfi -i "$src" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 "$dir/$i.webm" ;;
    3) ff -f lavfi -i "$src" -f lavfi -i "$tone" -c:v mpeg4 -c:a libvorbis -shortest \
         "$dir/$i.mkv" ;;
    4) ff -f lavfi -i "$tone" "$dir/$i.wav" ;;
    5) ff -f lavfi -i "$tone" -c:a libmp3lame "$dir/$i.mp3" ;;
    6) ff -f lavfi -i "$tone" -c:a flac "$dir/$i.flac" ;;
    7) ff -f lavfi -i "$tone" -c:a libvorbis "$dir/$i.ogg" ;;
    8 | 9) ff -f lavfi -i "testsrc2=size=$((w * 4))x$((h * 4))" -frames:v 1 "$dir/$i.png" ;;
    10) ff -f lavfi -i "testsrc2=size=$((w * 4))x$((h * 4))" -frames:v 1 "$dir/$i.jpeg" ;;
    11) ff -f lavfi -i "testsrc2=size=$((w * 2))x$((h * 2))" -frames:v 1 "$dir/$i.webp" ;;
  esac
done
total_mib=$(du -sm "$dir" | cut -f1)
cat "$dir"/* >/dev/null  # both sides read from a hot page cache

pv_s=() ref_s=() failed=0 ref_failed=0
for ((run = 1; run <= runs; run++)); do
  read -r n failed seconds < <("$probe_bench" "$dir" --runs 1)
  pv_s+=("$seconds")
  ref_failed=0
  t0=$(now_ns)
  for f in "$dir"/*; do
    ffprobe -v error -show_format -show_streams "$f" >/dev/null 2>&1 || ref_failed=$((ref_failed + 1))
  done
  t1=$(now_ns)
  ref_s+=("$(seconds_between "$t0" "$t1")")
  log "run $run: pixvault ${pv_s[-1]} s ($failed failed), ffprobe ${ref_s[-1]} s ($ref_failed failed)"
done
pv_med=$(printf '%s\n' "${pv_s[@]}" | median)
ref_med=$(printf '%s\n' "${ref_s[@]}" | median)

awk -v n="$files" -v mib="$total_mib" -v pv="$pv_med" -v ref="$ref_med" -v runs="$runs" \
  -v failed="$failed" -v ref_failed="$ref_failed" 'BEGIN {
  ratio = ref / pv
  printf "| Benchmark | pixvault | ffprobe | ratio | target | result |\n"
  printf "|---|---:|---:|---:|---|---|\n"
  printf "| Probe of %d files (%d MiB), median of %d | %.0f files/s (%.2f s, %d failed) " \
    "| %.0f files/s (%.2f s, %d failed) | %.1fx | >= 1.0x | %s |\n",
    n, mib, runs, n / pv, pv, failed, n / ref, ref, ref_failed, ratio,
    (ratio >= 1.0 && failed == 0 ? "PASS" : "**FAIL**")
}' >"$markdown"
cat "$markdown" >&2
