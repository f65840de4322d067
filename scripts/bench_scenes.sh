#!/usr/bin/env bash
# Usage: scripts/bench_scenes.sh --scene-bench BIN --markdown FILE [--runs N]
#
# Shot detection (src/media/scenes.h, through bench/scene_bench):
#   1. Speed: a generated 1080p H.264 clip (25 s, 25 fps, five 5 s segments joined by hard
#      cuts, one of them a pan; -preset veryfast), timed as whole processes in the same run:
#      scene_bench FILE, `ffmpeg -threads 2 -skip_loop_filter all -i FILE -f null -` (decoding
#      alone, as DetectScenes decodes) and `ffmpeg -i FILE -vf scdet -f null -` (FFmpeg's own
#      scene-change filter); the median of --runs (default 3) each. Targets: at least 0.9x the
#      speed of the decode alone, and faster than scdet.
#   2. Accuracy: three 640x360 layouts of lavfi sources (test cards, bars, a Mandelbrot zoom, a
#      pan, plain colours, Game of Life...) joined at known frames by hard cuts or by a 0.6 s
#      fade-out + 0.6 s fade-in, each encoded three ways (x264 -g 12 -bf 0; -g 250; -g 50 -bf
#      3). A detected cut matches a true cut within 1 frame, a detected fade a true fade
#      (the join frame, the middle of the dark stretch) within 0.5 s; each truth matches at
#      most once. Targets: hard-cut F1 >= 0.98, fade F1 >= 0.90, over all nine clips.
# Writes a markdown section `## Scene detection` to FILE. Targets are reported, never turned
# into an exit code: the exit code is non-zero only when the benchmark could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"
scene_bench="" markdown="" runs=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --scene-bench) scene_bench=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "bench_scenes.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $scene_bench && -n $markdown ]] || {
  echo "bench_scenes.sh: --scene-bench and --markdown are required" >&2; exit 2
}
log() { echo "bench_scenes.sh: $*" >&2; }
command -v ffmpeg >/dev/null || { log "ffmpeg is missing (scripts/install-deps.sh)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench-scenes.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -hide_banner -nostdin -loglevel error -y "$@"; }

# make_clip OUT TRUTH "ENCODER ARGS" SIZE SEGMENT...: joins the segments and writes the true
# boundaries ("cut FRAME" / "fade FRAME") to TRUTH. A segment is SOURCE|FRAMES|JOIN[|FILTER]:
# a lavfi source at SIZE (or as given), its first FRAMES frames, how it joins the next one
# (cut or fade), and an optional filter applied first (a crop for a pan).
make_clip() {
  local out=$1 truth=$2 encode=$3 size=$4
  shift 4
  local inputs=() chains="" joins="" i=0 frame=0 previous_join="cut" fade=15
  : >"$truth"
  for segment in "$@"; do
    IFS='|' read -r source frames join filter <<<"$segment"
    local sep="="
    [[ $source == *=* ]] && sep=":"
    [[ $source == *s=* ]] || { source="$source${sep}s=$size"; sep=":"; }
    inputs+=(-f lavfi -i "$source${sep}r=25")
    local chain="[$i:v]${filter:+$filter,}trim=end_frame=$frames,setpts=PTS-STARTPTS"
    chain+=",scale=size=$size,setsar=1,format=yuv420p"
    [[ $previous_join == fade ]] && chain+=",fade=t=in:start_frame=0:nb_frames=$fade"
    [[ $join == fade && $i -lt $(($# - 1)) ]] &&
      chain+=",fade=t=out:start_frame=$((frames - fade)):nb_frames=$fade"
    chains+="${chain}[v$i];"
    joins+="[v$i]"
    frame=$((frame + frames))
    if ((i < $# - 1)); then echo "$join $frame" >>"$truth"; fi
    previous_join=$join
    i=$((i + 1))
  done
  # shellcheck disable=SC2086 # $encode is a list of encoder options
  ff "${inputs[@]}" -filter_complex "${chains}${joins}concat=n=$i:v=1:a=0[out]" -map "[out]" \
    $encode "$out"
}

# ---- 1. Speed ----
log "generating the 1080p clip"
big=$tmp/speed_1080p.mp4
make_clip "$big" "$tmp/speed.truth" "-c:v libx264 -preset veryfast -pix_fmt yuv420p" 1920x1080 \
  "testsrc2|125|cut" "smptebars|125|cut" \
  "testsrc2=s=3840x1080|125|cut|crop=1920:1080:'t*300':0" "testsrc|125|cut" \
  "rgbtestsrc|125|cut"
cat "$big" >/dev/null  # every side reads from a hot page cache

pv_s=() dec_s=() scdet_s=() pv_frames=0 pv_shots=0
for ((run = 1; run <= runs; run++)); do
  t0=$(now_ns)
  read -r pv_frames pv_shots _ < <("$scene_bench" "$big" | head -n 1)
  t1=$(now_ns)
  ffmpeg -hide_banner -nostdin -loglevel error -threads 2 -skip_loop_filter all -i "$big" \
    -f null -
  t2=$(now_ns)
  ffmpeg -hide_banner -nostdin -loglevel error -i "$big" -vf scdet -f null -
  t3=$(now_ns)
  pv_s+=("$(seconds_between "$t0" "$t1")")
  dec_s+=("$(seconds_between "$t1" "$t2")")
  scdet_s+=("$(seconds_between "$t2" "$t3")")
  log "run $run: pixvault ${pv_s[-1]} s, ffmpeg decode ${dec_s[-1]} s, ffmpeg scdet ${scdet_s[-1]} s"
done
pv_med=$(printf '%s\n' "${pv_s[@]}" | median)
dec_med=$(printf '%s\n' "${dec_s[@]}" | median)
scdet_med=$(printf '%s\n' "${scdet_s[@]}" | median)

# ---- 2. Accuracy ----
layouts=(
  "testsrc2|60|cut smptebars|45|cut mandelbrot|80|fade testsrc|50|cut rgbtestsrc|70|cut
   color=c=orange|40|fade testsrc2=s=1600x360|90|cut|crop=640:360:'t*160':0
   smptehdbars|55|fade life=mold=10:ratio=0.3:life_color=white|60|cut testsrc|50|end"
  "smptebars|40|fade testsrc2|75|cut color=c=navy|35|cut mandelbrot|60|cut
   testsrc2=s=640x1000|70|cut|crop=640:360:0:'t*120' rgbtestsrc|45|fade testsrc|65|cut
   smptehdbars|50|cut cellauto=rule=30|55|fade testsrc2|60|end"
  "mandelbrot|50|cut testsrc|40|cut testsrc2|45|fade smptehdbars|70|fade
   color=c=darkgreen|50|cut testsrc2=s=1600x360|80|cut|crop=640:360:'960-t*200':0
   smptebars|35|cut rgbtestsrc|60|cut testsrc|45|fade mandelbrot|55|end"
)
encodings=(
  "g12|-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 12 -bf 0"
  "g250|-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 250"
  "bframes|-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 50 -bf 3"
)
scores=$tmp/scores
: >"$scores"
set -f  # the layouts hold filter expressions with '*'; no globbing when they are split
for enc in "${encodings[@]}"; do
  IFS='|' read -r enc_name enc_args <<<"$enc"
  for l in "${!layouts[@]}"; do
    clip=$tmp/accuracy_${enc_name}_$l.mp4 truth=$tmp/accuracy_${enc_name}_$l.truth
    # shellcheck disable=SC2086 # the layout is a list of segments
    make_clip "$clip" "$truth" "$enc_args" 640x360 ${layouts[$l]}
    found=$tmp/accuracy_${enc_name}_$l.found
    "$scene_bench" "$clip" | tail -n +2 >"$found"
    # Greedy one-to-one matching: cuts within 1 frame, fades within 0.5 s (12.5 frames).
    awk -v enc="$enc_name" '
      FNR == NR { truth_kind[++nt] = $1; truth_frame[nt] = $2; next }
      { found_kind[++nf] = $1; found_frame[nf] = $2 }
      END {
        for (k = 1; k <= 2; k++) {
          kind = (k == 1 ? "cut" : "fade"); tol = (k == 1 ? 1 : 12.5)
          t = 0; f = 0; tp = 0
          for (i = 1; i <= nt; i++) if (truth_kind[i] == kind) t++
          for (j = 1; j <= nf; j++) if (found_kind[j] == kind) f++
          for (i = 1; i <= nt; i++) {
            if (truth_kind[i] != kind) continue
            best = 0
            for (j = 1; j <= nf; j++) {
              if (found_kind[j] != kind || used[j]) continue
              d = found_frame[j] - truth_frame[i]; if (d < 0) d = -d
              if (d <= tol && (best == 0 || d < bestd)) { best = j; bestd = d }
            }
            if (best) { used[best] = 1; tp++ }
          }
          print enc, kind, t, f, tp
        }
      }' "$truth" "$found" >>"$scores"
  done
  log "accuracy: $enc_name done"
done

{
  echo "## Scene detection"
  echo
  echo "Speed: a generated 1080p H.264 clip (25 s, 25 fps, 5 shots, x264 veryfast), whole"
  echo "processes, median of $runs runs each in the same run. pixvault decodes with two frame"
  echo "threads and without the H.264 loop filter (see src/media/scenes.h)."
  echo
  awk -v pv="$pv_med" -v dec="$dec_med" -v scdet="$scdet_med" -v runs="$runs" \
    -v frames="$pv_frames" -v shots="$pv_shots" 'BEGIN {
    r1 = dec / pv; r2 = scdet / pv
    printf "| Benchmark | pixvault | reference | speed ratio | target | result |\n"
    printf "|---|---:|---:|---:|---|---|\n"
    printf "| DetectScenes vs `ffmpeg -threads 2 -skip_loop_filter all -f null` " \
      "| %.2f s (%d frames, %d shots) | %.2f s | %.2fx | >= 0.9x | %s |\n",
      pv, frames, shots, dec, r1, (r1 >= 0.9 ? "PASS" : "**FAIL**")
    printf "| DetectScenes vs `ffmpeg -vf scdet -f null` | %.2f s | %.2f s | %.2fx | > 1.0x " \
      "| %s |\n", pv, scdet, r2, (r2 > 1.0 ? "PASS" : "**FAIL**")
  }'
  echo
  echo "Accuracy: 3 layouts x 3 encodings of 640x360 lavfi sources joined at known frames;"
  echo "cuts match within 1 frame, fades (middle of the dark stretch) within 0.5 s."
  echo
  awk '
    function f1(tp, t, f) { return (t + f > 0) ? 2 * tp / (t + f) : 1 }
    function pct(a, b) { return b > 0 ? sprintf("%.3f", a / b) : "-" }
    { key = $1 " " $2; T[key] += $3; F[key] += $4; TP[key] += $5
      T[$2] += $3; F[$2] += $4; TP[$2] += $5; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
    END {
      printf "| Encoding | kind | true | found | matched | precision | recall | F1 |\n"
      printf "|---|---|---:|---:|---:|---:|---:|---:|\n"
      for (i = 1; i <= n; i++) for (k = 1; k <= 2; k++) {
        kind = (k == 1 ? "cut" : "fade"); key = order[i] " " kind
        printf "| %s | %s | %d | %d | %d | %s | %s | %.3f |\n", order[i], kind, T[key], F[key],
          TP[key], pct(TP[key], F[key]), pct(TP[key], T[key]), f1(TP[key], T[key], F[key])
      }
      printf "\n| Overall | true | found | matched | F1 | target | result |\n"
      printf "|---|---:|---:|---:|---:|---|---|\n"
      c = f1(TP["cut"], T["cut"], F["cut"]); d = f1(TP["fade"], T["fade"], F["fade"])
      printf "| Hard cuts (within 1 frame) | %d | %d | %d | %.3f | >= 0.98 | %s |\n",
        T["cut"], F["cut"], TP["cut"], c, (c >= 0.98 ? "PASS" : "**FAIL**")
      printf "| Fades (within 0.5 s) | %d | %d | %d | %.3f | >= 0.90 | %s |\n",
        T["fade"], F["fade"], TP["fade"], d, (d >= 0.90 ? "PASS" : "**FAIL**")
    }' "$scores"
} >"$markdown"
cat "$markdown" >&2
