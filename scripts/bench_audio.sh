#!/usr/bin/env bash
# Usage: scripts/bench_audio.sh --audio-bench BIN --markdown FILE [--tempos N] [--seconds S]
#                               [--long-minutes M]
#
# The audio analysis benchmark (src/media/audio_analysis.h through bench/audio_bench), on
# files generated here with the ffmpeg command line (lavfi sources) in a temporary folder:
#   1. loudness: every file of the suite (sines in odd layouts and rates, 5.1, a dynamic pink
#      noise, a speech-like and a music-like signal through WAV, MP3, Vorbis, FLAC and AAC)
#      analysed by pixvault and by `ffmpeg -filter_complex ebur128=peak=true` side by side:
#      integrated loudness and LRA must agree within 0.1 LU (FFmpeg prints one decimal); true
#      peak is reported (the oversampling filters differ);
#   2. tempo: click tracks, click tracks in noise and drum patterns (kick on the beats, noise
#      hi-hat on the off-beats) at N tempos spread over 60-200 BPM, S seconds each: the share
#      within 2% of the generated tempo (target: at least 95%);
#   3. throughput: wall time of `audio_bench` (one process per file) against `ffmpeg ...
#      ebur128` on the same files, over the loudness suite and two M-minute files (MP3 and
#      WAV), as seconds of audio per second and the ratio.
# The synthetic recipes are the ones of src/media/audio_analysis_test.cc.
# Writes a markdown section to FILE. Targets are reported, never turned into an exit code:
# the exit code is non-zero only when the benchmark could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
source "$root/scripts/bench_lib.sh"
audio_bench="" markdown="" tempos=32 seconds=20 long_minutes=10
while [[ $# -gt 0 ]]; do
  case $1 in
    --audio-bench) audio_bench=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --tempos) tempos=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --long-minutes) long_minutes=$2; shift 2 ;;
    *) echo "bench_audio.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $audio_bench && -n $markdown ]] || {
  echo "bench_audio.sh: --audio-bench and --markdown are required" >&2; exit 2
}
log() { echo "bench_audio.sh: $*" >&2; }
command -v ffmpeg >/dev/null || { log "ffmpeg is missing (scripts/install-deps.sh)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pixvault-bench-audio.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# gen NAME ARGS...: ffmpeg ARGS... $tmp/NAME, or exit when ffmpeg fails.
gen() {
  local name=$1; shift
  ffmpeg -hide_banner -loglevel error -nostdin -y "$@" "$tmp/$name" ||
    { log "ffmpeg could not generate $name"; exit 1; }
}
period() { awk -v bpm="$1" 'BEGIN {printf "%.9f", 60 / bpm}'; }  # seconds per beat

# --- Signals (as in src/media/audio_analysis_test.cc) ---------------------------------------
click() {  # click BPM SECONDS [NOISE_AMPLITUDE]
  local p; p=$(period "$1")
  echo "aevalsrc=exprs=0.5*sin(2*PI*1000*t)*exp(-mod(t\\,$p)*60)+${3:-0}*(2*random(0)-1):s=44100:d=$2"
}
drums() {  # drums BPM SECONDS
  local p; p=$(period "$1")
  echo "aevalsrc=exprs=0.7*sin(2*PI*55*mod(t\\,$p))*exp(-mod(t\\,$p)*12)+0.25*(2*random(0)-1)*exp(-mod(t+$p/2\\,$p)*60)+0.02*(2*random(1)-1):s=44100:d=$2"
}
speech_like() {  # speech_like RATE SECONDS
  local env="max(0\\,sin(2*PI*3.3*t)+0.6*sin(2*PI*5.1*t+1)+0.4*sin(2*PI*1.7*t+2)-0.5)"
  local pauses="gt(sin(2*PI*0.21*t)+0.3*sin(2*PI*0.53*t)\\,-0.5)"
  local ph="2*PI*(120*t-4.55*cos(4.4*t))"
  local voiced="(sin($ph)+sin(2*$ph)/2+sin(3*$ph)/3+sin(4*$ph)/4+sin(5*$ph)/5+sin(6*$ph)/6)"
  local unvoiced="gt(sin(2*PI*2.3*t+0.5)\\,0.6)"
  echo "aevalsrc=exprs=0.3*$env*$pauses*((1-$unvoiced)*$voiced+$unvoiced*(2*random(0)-1)):s=$1:d=$2"
}
music_like() {  # music_like SECONDS
  echo "aevalsrc=exprs=0.12*(sin(2*PI*220*t)+sin(2*PI*277.18*t)+sin(2*PI*329.63*t)+sin(2*PI*440*t))*(0.6+0.4*exp(-mod(t\\,0.5)*4))+0.5*sin(2*PI*55*mod(t\\,0.5))*exp(-mod(t\\,0.5)*12):s=44100:d=$1"
}

# --- Loudness suite ----------------------------------------------------------------------------
log "generating the loudness suite"
sine="aevalsrc=exprs=0.1*sin(2*PI*1000*t)"
gen sine-stereo-48k.wav -f lavfi -i "$sine|0.1*sin(2*PI*1000*t):s=48000:d=10"
gen sine-mono-44k.wav -f lavfi -i "$sine:s=44100:d=10"
gen three-channels.wav -f lavfi -i "$sine|0.05*sin(2*PI*500*t)|0.08*sin(2*PI*2000*t):s=44100:d=10"
gen sine-8k.wav -f lavfi -i "$sine:s=8000:d=10"
gen sine-96k-24bit.wav -f lavfi -i "$sine|0.1*sin(2*PI*300*t):s=96000:d=10" -c:a pcm_s24le
gen sine-22k-u8.wav -f lavfi -i "$sine:s=22050:d=10" -c:a pcm_u8
gen surround-5.1.wav -f lavfi -i "aevalsrc=exprs=0.1*sin(2*PI*440*t)|0.1*sin(2*PI*550*t)|0.1*sin(2*PI*660*t)|0.3*sin(2*PI*50*t)|0.05*sin(2*PI*880*t)|0.05*sin(2*PI*990*t):s=48000:d=10:c=5.1"
gen dynamic-pink.wav -f lavfi -i anoisesrc=d=30:c=pink:a=0.3 \
  -af "volume='if(lt(mod(t,8),4),1,0.1)':eval=frame"
gen speech-like-16k.wav -f lavfi -i "$(speech_like 16000 30)"
gen speech-like.m4a -f lavfi -i "$(speech_like 16000 30)" -c:a aac -b:a 96k
gen music-like.wav -f lavfi -i "$(music_like 30)"
gen music-like.mp3 -f lavfi -i "$(music_like 30)" -c:a libmp3lame -b:a 192k
gen music-like.ogg -f lavfi -i "$(music_like 30)" -c:a libvorbis
gen music-like.flac -f lavfi -i "$(music_like 30)" -c:a flac
gen drums-120.mp3 -f lavfi -i "$(drums 120 30)" -c:a libmp3lame
gen silence.wav -f lavfi -i anullsrc=r=44100:cl=stereo -t 10
loudness_files=(sine-stereo-48k.wav sine-mono-44k.wav three-channels.wav sine-8k.wav
  sine-96k-24bit.wav sine-22k-u8.wav surround-5.1.wav dynamic-pink.wav speech-like-16k.wav
  speech-like.m4a music-like.wav music-like.mp3 music-like.ogg music-like.flac drums-120.mp3
  silence.wav)
log "generating two $long_minutes-minute files"
long_s=$((long_minutes * 60))
gen long-music.mp3 -f lavfi -i "$(music_like "$long_s")" -c:a libmp3lame -b:a 192k
gen long-speech.wav -f lavfi -i "$(speech_like 44100 "$long_s")" -ac 2
long_files=(long-music.mp3 long-speech.wav)

# ffmpeg_ebur128 FILE: "I LRA TRUE_PEAK" from the Summary block.
ffmpeg_ebur128() {
  ffmpeg -hide_banner -nostdin -nostats -i "$1" -filter_complex ebur128=peak=true -f null - 2>&1 |
    awk '/Summary:/ {s = 1} s && $1 == "I:" {i = $2} s && $1 == "LRA:" {l = $2}
         s && $1 == "Peak:" {p = $2} END {if (i == "") exit 1; print i, l, p}'
}

# Each tool once per file as its own process, timed from outside (process start included).
: >"$tmp/loudness.tsv"
for f in "${loudness_files[@]}" "${long_files[@]}"; do
  t0=$(now_ns)
  line=$("$audio_bench" "$tmp/$f") || { log "audio_bench failed on $f"; exit 1; }
  t1=$(now_ns)
  ref=$(ffmpeg_ebur128 "$tmp/$f") || { log "ffmpeg's ebur128 gave no summary for $f"; exit 1; }
  t2=$(now_ns)
  [[ $(cut -f2 <<<"$line") = ok ]] || { log "AnalyzeAudio failed on $f: $line"; exit 1; }
  pv_s=$(seconds_between "$t0" "$t1")
  ff_s=$(seconds_between "$t1" "$t2")
  printf '%s\t%s\t%s\t%s\t%s\n' "$f" "$(cut -f4-10 <<<"$line")" "$ref" "$pv_s" "$ff_s" \
    >>"$tmp/loudness.tsv"
  log "$f: pixvault $(cut -f5-7 <<<"$line" | tr '\t' ' ') in $pv_s s; ffmpeg $ref in $ff_s s"
done

# --- Tempo suite ---------------------------------------------------------------------------------
log "generating $((tempos * 3)) tempo tracks ($tempos tempos, $seconds s each)"
tempo_files=()
for ((i = 0; i < tempos; i++)); do
  bpm=$(awk -v i="$i" -v n="$tempos" 'BEGIN {printf "%.1f", 60 + i * 140 / (n > 1 ? n - 1 : 1)}')
  gen "click_$bpm.wav" -f lavfi -i "$(click "$bpm" "$seconds")"
  gen "noisyclick_$bpm.wav" -f lavfi -i "$(click "$bpm" "$seconds" 0.05)"
  gen "drums_$bpm.mp3" -f lavfi -i "$(drums "$bpm" "$seconds")" -c:a libmp3lame
  tempo_files+=("$tmp/click_$bpm.wav" "$tmp/noisyclick_$bpm.wav" "$tmp/drums_$bpm.mp3")
done
log "analysing the tempo tracks"
"$audio_bench" "${tempo_files[@]}" >"$tmp/tempo.tsv" || { log "audio_bench failed"; exit 1; }
# file kind bpm found error% confidence within
awk -F'\t' '{
  n = split($1, path, "/"); split(path[n], part, "_"); kind = part[1]
  bpm = part[2]; sub(/\.(wav|mp3)$/, "", bpm)
  found = ($2 == "ok" && $9 != "-") ? $9 : ""
  err = found == "" ? 1e9 : (found - bpm) / bpm * 100
  printf "%s\t%s\t%s\t%s\t%s\t%s\n", kind, bpm, (found == "" ? "-" : found),
    (found == "" ? "-" : sprintf("%.2f", err)), ($10 == "" ? "-" : $10),
    (err <= 2 && err >= -2 ? 1 : 0)
}' "$tmp/tempo.tsv" >"$tmp/tempo_eval.tsv"
tempo_n=$(wc -l <"$tmp/tempo_eval.tsv")
tempo_ok=$(awk -F'\t' '{s += $6} END {print s + 0}' "$tmp/tempo_eval.tsv")

# --- Report --------------------------------------------------------------------------------------
{
  echo "## Audio analysis"
  echo
  echo "\`AnalyzeAudio\` (src/media/audio_analysis.h) through \`bench/audio_bench\`, on files" \
    "generated with ffmpeg's lavfi sources (scripts/bench_audio.sh); FFmpeg $(ffmpeg -version |
      awk 'NR == 1 {print $3}'), libebur128 $(pkg-config --modversion libebur128 2>/dev/null ||
      echo '?')."
  echo
  echo "### Loudness against \`ffmpeg -filter_complex ebur128=peak=true\`"
  echo
  echo "Integrated loudness (I, LUFS) and loudness range (LRA, LU) must agree within 0.1 LU" \
    "(FFmpeg prints one decimal, so its rounding is inside the tolerance). True peak (TP," \
    "dBTP) is shown for information: libebur128 oversamples 4x with its own filter" \
    "(from a 48 kHz copy below 44.1 kHz), FFmpeg resamples to 192 kHz."
  echo
  echo "| File | pixvault I / LRA / TP | ffmpeg I / LRA / TP | difference I / LRA / TP | result |"
  echo "|---|---|---|---|---|"
  awk -F'\t' '
    {
      f = $1; i = $3; l = $4; tp = $5
      split($9, ref, " "); fi = ref[1]; fl = ref[2]; ftp = ref[3]
      if (i == "-") {  # silence: FFmpeg reports its -70 LUFS floor
        ok = (fi <= -70)
        printf "| %s | none (silence) | %s / %s / %s | - | %s |\n", f, fi, fl, ftp,
          ok ? "PASS" : "**FAIL**"
        next
      }
      di = i - fi; dl = l - fl; dt = tp - ftp
      ok = (di <= 0.1 && di >= -0.1 && dl <= 0.1 && dl >= -0.1)
      printf "| %s | %.2f / %.2f / %.2f | %s / %s / %s | %+.2f / %+.2f / %+.2f | %s |\n",
        f, i, l, tp, fi, fl, ftp, di, dl, dt, ok ? "PASS" : "**FAIL**"
    }' "$tmp/loudness.tsv"
  echo
  echo "### Tempo"
  echo
  awk -F'\t' -v n="$tempo_n" -v ok="$tempo_ok" -v t="$tempos" -v s="$seconds" 'BEGIN {
    printf "%d tracks (%d tempos from 60 to 200 BPM, %d s each: clicks, clicks in white noise" \
      " peaking at -26 dBFS, drum patterns through MP3): **%d within 2%%** (%.1f%%); target >= 95%%:" \
      " %s.\n\n", n, t, s, ok, 100 * ok / n, (ok >= 0.95 * n ? "PASS" : "**FAIL**")
  }'
  echo "| Kind | tracks | within 2% | largest error | lowest confidence |"
  echo "|---|---:|---:|---:|---:|"
  awk -F'\t' '{
      k = $1; n[k]++; ok[k] += $6
      e = ($4 == "-") ? 1e9 : ($4 < 0 ? -$4 : $4); if (e > worst[k]) worst[k] = e
      if ($5 != "-" && (!(k in low) || $5 < low[k])) low[k] = $5
    } END {
      for (k in n) printf "| %s | %d | %d | %s | %s |\n", k, n[k], ok[k],
        (worst[k] >= 1e9 ? "no tempo" : sprintf("%.2f%%", worst[k])), (k in low ? low[k] : "-")
    }' "$tmp/tempo_eval.tsv" | sort
  misses=$(awk -F'\t' '$6 == 0 {printf "%s%s at %s BPM: %s", sep, $1, $2, $3; sep = "; "}' \
    "$tmp/tempo_eval.tsv")
  [[ -z $misses ]] || { echo; echo "Missed: $misses."; }
  echo
  echo "### Throughput"
  echo
  echo "Wall time of one process per file (start-up included), pixvault's full analysis" \
    "(loudness, tempo, classifier) against FFmpeg's ebur128 pass alone, same files, same run."
  echo
  echo "| Files | audio | pixvault | ffmpeg ebur128 | ratio (ffmpeg time / pixvault time) |"
  echo "|---|---:|---:|---:|---:|"
  awk -F'\t' -v long="${long_files[*]}" '
    BEGIN {split(long, l, " "); for (i in l) islong[l[i]] = 1}
    {
      set = ($1 in islong) ? "long" : "suite"
      audio[set] += $2; pv[set] += $10; ff[set] += $11; count[set]++
    }
    END {
      printf "| loudness suite (%d files) | %.0f s | %.2f s (%.0fx real time) | %.2f s (%.0fx) | %.2f |\n",
        count["suite"], audio["suite"], pv["suite"], audio["suite"] / pv["suite"], ff["suite"],
        audio["suite"] / ff["suite"], ff["suite"] / pv["suite"]
      printf "| two long files (MP3 music-like, WAV speech-like) | %.0f s | %.2f s (%.0fx real time) | %.2f s (%.0fx) | %.2f |\n",
        audio["long"], pv["long"], audio["long"] / pv["long"], ff["long"],
        audio["long"] / ff["long"], ff["long"] / pv["long"]
    }' "$tmp/loudness.tsv"
} >"$markdown"
log "wrote $markdown"
