# Shell helpers shared by the benchmark scripts (sourced, not run).

now_ns() { date +%s%N; }
# Seconds between two now_ns readings, with millisecond precision.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) / 1e9}'; }
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
maximum() { sort -g | tail -n 1; }

# write_wav_header FILE BYTES: the 44-byte header of a PCM WAV file of BYTES bytes in all
# (stereo, 48 kHz, 16-bit), whose samples the caller appends.
write_wav_header() {
  local file=$1 total=$2
  local data=$((total - 44))
  le() {  # le VALUE BYTES: little-endian bytes
    local v=$1 n=$2 i
    for ((i = 0; i < n; i++)); do printf "\\x$(printf %02x $(((v >> (8 * i)) & 255)))"; done
  }
  {
    printf 'RIFF'; le $((total - 8)) 4; printf 'WAVEfmt '; le 16 4; le 1 2; le 2 2
    le 48000 4; le 192000 4; le 4 2; le 16 2; printf 'data'; le "$data" 4
  } >"$file"
}

# write_wav FILE MIB: a PCM WAV of MIB mebibytes (44-byte header, then random samples). The
# importer and the upload route accept media only, and random samples do not compress.
write_wav() {
  local total=$(($2 * 1048576))
  write_wav_header "$1" "$total"
  head -c $((total - 44)) /dev/urandom >>"$1"
}

# free_port: a TCP port nobody listens on (best effort: ss lists the listeners).
free_port() {
  local p
  for ((p = 18000 + RANDOM % 20000; ; p++)); do
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

# wait_http URL [SECONDS]: waits until URL answers (any status).
wait_http() {
  local i
  for ((i = 0; i < ${2:-20} * 10; i++)); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}

# rss_kib PID FIELD: VmRSS or VmHWM (peak) of a process in KiB.
rss_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
