#!/usr/bin/env bash
# Usage: scripts/bench_thumbs.sh --thumbnail-bench BIN --markdown FILE [--runs N]
#                                [--size PX] [--quality Q] [--images N]
#
# The thumbnail benchmark of `make bench` (the binary is bench/thumbnail_bench):
#   generates N images (default 100) with ffmpeg lavfi sources (testsrc2, mandelbrot, cellauto)
#   at sizes from 1920x1080 to 4000x3000, saved as JPEG, PNG and WebP; renders WebP thumbnails
#   of all of them (longest edge --size, quality --quality) with pixvault's RenderImageThumbnail in
#   one process on one thread, and with `vipsthumbnail -s SIZE -o DIR/%s.webp[Q=..,strip]`
#   over the same files in one process; both with VIPS_CONCURRENCY=1, median wall time (each
#   process timed from the outside, start-up included) of
#   --runs runs (default 7) each, alternating. Reports the throughput ratio (vipsthumbnail time
#   / pixvault time, target >= 1.0x), the same ratio in CPU time (user + system: steadier than
#   wall time on a shared machine; for context, no target) and pixvault's peak RSS (VmHWM,
#   target <= 100 MB; vipsthumbnail's from GNU time, for reference).
# Writes a markdown section (## Thumbnails) to FILE. Targets are reported, never turned into an
# exit code: the exit code is non-zero only when the benchmark could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"
bench="" markdown="" runs=7 size=320 quality=80 images=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --thumbnail-bench) bench=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --quality) quality=$2; shift 2 ;;
    --images) images=$2; shift 2 ;;
    *) echo "bench_thumbs.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $bench && -n $markdown ]] || {
  echo "bench_thumbs.sh: --thumbnail-bench and --markdown are required" >&2; exit 2
}
log() { echo "bench_thumbs.sh: $*" >&2; }
for tool in ffmpeg vipsthumbnail /usr/bin/time; do
  command -v "$tool" >/dev/null || { log "$tool is missing (scripts/install-deps.sh)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench-thumbs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/images" "$tmp/out-pixvault" "$tmp/out-vips"

# --- Images ----------------------------------------------------------------------------------
sizes=(1920x1080 2560x1440 3000x2000 3840x2160 4000x3000)
log "generating $images images (JPEG/PNG/WebP, ${sizes[0]} to ${sizes[-1]})"
for ((i = 0; i < images; i++)); do
  wh=${sizes[i % ${#sizes[@]}]}
  w=${wh%x*} h=${wh#*x}
  # First frames only (seeking into a lavfi source renders every frame before): variety comes
  # from the size, a hue turn and the source parameters.
  case $((i % 3)) in
    0) src="testsrc2=size=$wh,hue=h=$((i * 37 % 360))" ;;
    # mandelbrot is slow to compute at full size: drawn at half size, then scaled up.
    1) src="mandelbrot=size=$((w / 2))x$((h / 2)):maxiter=100:start_scale=$((1 + i % 5)),scale=$w:$h" ;;
    2) src="cellauto=size=$wh:rule=$((30 + i % 7 * 15)):scroll=0:seed=$i,hue=h=$((i * 53 % 360))" ;;
  esac
  case $((i % 4)) in
    0 | 1) ext=jpg codec=(-c:v mjpeg -q:v 3 -pix_fmt yuvj420p) ;;
    2) ext=png codec=(-c:v png) ;;
    3) ext=webp codec=(-c:v libwebp -quality 85) ;;
  esac
  name=$(printf 'img_%03d.%s' "$i" "$ext")
  ffmpeg -hide_banner -loglevel error -nostdin -y -f lavfi -i "$src" -frames:v 1 "${codec[@]}" \
    -f image2 "$tmp/images/$name"
done
input_mib=$(du -sm "$tmp/images" | cut -f1)
files=("$tmp"/images/img_*)
[[ ${#files[@]} -eq $images ]] || { log "generated ${#files[@]} images, not $images"; exit 1; }
cat "${files[@]}" >/dev/null  # both sides start from a hot page cache

# --- Runs --------------------------------------------------------------------------------------
# Both sides: libvips without worker threads of its own, and glibc's malloc with a fixed mmap
# threshold of 1 MiB (MALLOC_MMAP_THRESHOLD_, as a server would set it, e.g. in its unit file).
# With glibc's default dynamic threshold, decode buffers of a few MB end up in the heap once a
# large one has been freed, and heap fragmentation over pictures of mixed sizes raises the
# peak RSS of either program by 50-80 MB; one pixvault run with the defaults is reported too.
export VIPS_CONCURRENCY=1
export MALLOC_MMAP_THRESHOLD_=1048576
pv_s=() pv_cpu=() pv_kib=() vips_s=() vips_cpu=() vips_kib=()
for ((run = 1; run <= runs; run++)); do
  rm -f "$tmp"/out-pixvault/* "$tmp"/out-vips/*
  # Both programs are timed from the outside, as whole processes (start-up included).
  t0=$(now_ns)
  json=$("$bench" --size "$size" --quality "$quality" --out-dir "$tmp/out-pixvault" \
    "${files[@]}" 2>"$tmp/bench.log") || { log "thumbnail_bench failed:"; cat "$tmp/bench.log" >&2; exit 1; }
  t1=$(now_ns)
  pv_s+=("$(seconds_between "$t0" "$t1")")
  pv_cpu+=("$(echo "$json" | sed 's/.*"cpu_seconds":\([0-9.]*\).*/\1/')")
  pv_kib+=("$(echo "$json" | sed 's/.*"peak_rss_kib":\([0-9]*\).*/\1/')")

  t0=$(now_ns)
  /usr/bin/time -f '%U %S %M' -o "$tmp/vips.time" vipsthumbnail -s "$size" \
    -o "$tmp/out-vips/%s.webp[Q=$quality,strip]" "${files[@]}" 2>"$tmp/vips.log" ||
    { log "vipsthumbnail failed:"; cat "$tmp/vips.log" >&2; exit 1; }
  t1=$(now_ns)
  vips_s+=("$(seconds_between "$t0" "$t1")")
  read -r user sys kib < <(tail -n 1 "$tmp/vips.time")
  vips_cpu+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')")
  vips_kib+=("$kib")
  log "run $run: pixvault ${pv_s[-1]} s (CPU ${pv_cpu[-1]} s, peak ${pv_kib[-1]} KiB);" \
    "vipsthumbnail ${vips_s[-1]} s (CPU ${vips_cpu[-1]} s, peak ${vips_kib[-1]} KiB)"
done
log "pixvault with glibc's default malloc settings, for reference"
default_json=$(env -u MALLOC_MMAP_THRESHOLD_ "$bench" --size "$size" --quality "$quality" \
  --out-dir "$tmp/out-pixvault" "${files[@]}" 2>"$tmp/bench.log") ||
  { log "thumbnail_bench failed:"; cat "$tmp/bench.log" >&2; exit 1; }
default_kib=$(echo "$default_json" | sed 's/.*"peak_rss_kib":\([0-9]*\).*/\1/')
log "  peak $default_kib KiB"
made_pv=$(find "$tmp/out-pixvault" -name '*.webp' | wc -l)
made_vips=$(find "$tmp/out-vips" -name '*.webp' | wc -l)
[[ $made_pv -eq $images && $made_vips -eq $images ]] ||
  { log "thumbnails written: pixvault $made_pv, vipsthumbnail $made_vips, of $images"; exit 1; }
pv_med=$(printf '%s\n' "${pv_s[@]}" | median)
vips_med=$(printf '%s\n' "${vips_s[@]}" | median)
pv_cpu_med=$(printf '%s\n' "${pv_cpu[@]}" | median)
vips_cpu_med=$(printf '%s\n' "${vips_cpu[@]}" | median)
pv_peak=$(printf '%s\n' "${pv_kib[@]}" | maximum)
vips_peak=$(printf '%s\n' "${vips_kib[@]}" | maximum)

# --- Report ------------------------------------------------------------------------------------
awk -v n="$images" -v mib="$input_mib" -v size="$size" -v q="$quality" -v runs="$runs" \
  -v pv="$pv_med" -v ref="$vips_med" -v pvall="${pv_s[*]}" -v refall="${vips_s[*]}" \
  -v pvk="$pv_peak" -v refk="$vips_peak" -v defk="$default_kib" \
  -v pvc="$pv_cpu_med" -v refc="$vips_cpu_med" 'BEGIN {
  ratio = ref / pv
  mb = pvk * 1024 / 1e6
  print "## Thumbnails"
  print ""
  printf "%d images (%d MiB: JPEG, PNG and WebP from ffmpeg testsrc2, mandelbrot and cellauto, " \
    "1920x1080 to 4000x3000) to WebP thumbnails, longest edge %d, quality %d, metadata " \
    "stripped; each side in one process, VIPS_CONCURRENCY=1 and MALLOC_MMAP_THRESHOLD_=1048576, " \
    "median of %d runs (pixvault: %s s; vipsthumbnail: %s s).\n\n", n, mib, size, q, runs,
    pvall, refall
  print "| Benchmark | pixvault | reference | ratio | target | result |"
  print "|---|---:|---:|---:|---|---|"
  printf "| Image thumbnails, throughput | %.1f images/s (%.2f s) | %.1f images/s (%.2f s), " \
    "`vipsthumbnail -s %d -o %%s.webp[Q=%d,strip]` | %.2fx | >= 1.0x | %s |\n",
    n / pv, pv, n / ref, ref, size, q, ratio, (ratio >= 1.0 ? "PASS" : "**FAIL**")
  printf "| Image thumbnails, CPU time (user + system, median) | %.2f s | %.2f s | %.2fx | " \
    "(for context) | |\n", pvc, refc, refc / pvc
  printf "| Image thumbnails, peak RSS of the process | %.1f MB | %.1f MB (vipsthumbnail) | " \
    "| <= 100 MB | %s |\n", mb, refk * 1024 / 1e6, (mb <= 100 ? "PASS" : "**FAIL**")
  printf "\nWith glibc'"'"'s default malloc settings (dynamic mmap threshold) pixvault'"'"'s peak " \
    "RSS over the same images is %.1f MB.\n", defk * 1024 / 1e6
}' >"$markdown"
log "wrote $markdown"
