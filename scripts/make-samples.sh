#!/usr/bin/env bash
# Generates a small folder of sample media (video, image, audio, a 3D model) with ffmpeg's
# synthetic sources, for trying pixvault on a fresh machine. Usage: make-samples.sh DIR
set -euo pipefail
dir=${1:?usage: make-samples.sh DIR}
mkdir -p "$dir/video" "$dir/images" "$dir/audio" "$dir/models"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
[ -f "$dir/video/testsrc.mp4" ] || ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=4 \
  -f lavfi -i sine=frequency=440:duration=4 -pix_fmt yuv420p -g 25 -shortest "$dir/video/testsrc.mp4"
[ -f "$dir/video/crossfade.mp4" ] || ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=3 \
  -f lavfi -i "mandelbrot=size=640x360:rate=25" \
  -filter_complex "[1]trim=duration=3[b];[0][b]xfade=transition=fade:duration=1:offset=2,format=yuv420p" \
  "$dir/video/crossfade.mp4"
[ -f "$dir/images/frame.png" ] || ff -f lavfi -i testsrc2=size=1280x720 -frames:v 1 "$dir/images/frame.png"
# The same picture again as a lower-quality JPEG: a near duplicate of frame.png.
[ -f "$dir/images/frame-copy.jpg" ] || ff -i "$dir/images/frame.png" -q:v 12 "$dir/images/frame-copy.jpg"
[ -f "$dir/images/gradient.jpg" ] || ff -f lavfi -i "gradients=size=800x600:seed=7" -frames:v 1 "$dir/images/gradient.jpg"
[ -f "$dir/audio/tone.wav" ] || ff -f lavfi -i sine=frequency=220:duration=3 "$dir/audio/tone.wav"
[ -f "$dir/audio/noise.mp3" ] || ff -f lavfi -i anoisesrc=duration=2:color=pink "$dir/audio/noise.mp3" || true
if [ ! -f "$dir/models/triangle.obj" ]; then
  printf '# one triangle\no triangle\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n' > "$dir/models/triangle.obj"
fi
echo "samples in $dir"
