#!/usr/bin/env bash
# Installs the Debian (bookworm) packages pixvault needs to build, run and test, if missing.
# Usage: scripts/install-deps.sh   (as root, or with sudo available)
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang-format git time
  clang libclang-rt-14-dev
  # libraries (DESIGN.md section 10)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libssl-dev libsodium-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
  libebur128-dev
  libassimp-dev libtinygltf-dev nlohmann-json3-dev
  libvips-dev libmagic-dev libspdlog-dev libcli11-dev libtomlplusplus-dev libexpected-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests: sample 3D models (media/model3d_test.cc, scripts/bench_3d.sh)
  assimp-testmodels
  # tools used at run and test time
  ffmpeg sqlite3 postgresql-15 postgresql-client-15 iproute2
  # benchmarks only (make bench): HTTP load generator and client; vipsthumbnail
  wrk curl libvips-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The postgresql package starts a system cluster; tests run their own throwaway server.
echo "install-deps: done"
