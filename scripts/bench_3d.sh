#!/usr/bin/env bash
# Usage: scripts/bench_3d.sh --model3d-bench BIN --markdown FILE [--models DIR]
#
# 3D model analysis: every glTF/GLB file under DIR (default /usr/share/assimp/models, from the
# assimp-testmodels package) parsed with tinygltf and with assimp, both through the rlimited
# child process of media::AnalyzeModel (bench/model3d_bench). Writes the `## 3D models`
# markdown section to FILE: per file the triangle counts and, where they differ, why; totals
# of agreements, crashes and timeouts (PASS needs 0 crashes and 0 timeouts). The exit code is
# non-zero only when the benchmark could not run.
set -euo pipefail

bench="" markdown="" models=/usr/share/assimp/models
while [[ $# -gt 0 ]]; do
  case $1 in
    --model3d-bench) bench=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    *) echo "bench_3d.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -x $bench && -n $markdown ]] || {
  echo "bench_3d.sh: --model3d-bench and --markdown are required" >&2; exit 2
}
[[ -d $models ]] || {
  echo "bench_3d.sh: $models is missing (apt-get install assimp-testmodels)" >&2; exit 1
}

mapfile -t files < <(find "$models" \( -iname '*.gltf' -o -iname '*.glb' \) -type f | LC_ALL=C sort)
[[ ${#files[@]} -gt 0 ]] || { echo "bench_3d.sh: no glTF/GLB files under $models" >&2; exit 1; }
echo "bench_3d.sh: ${#files[@]} glTF/GLB files under $models" >&2
"$bench" --strip "$models/" "${files[@]}" >"$markdown"
tail -n 3 "$markdown" >&2
