// Test-only: media files generated on demand with the ffmpeg command line (lavfi sources),
// cached for the life of the test binary. Not thread-safe for first generation of a file;
// tests call it from the main thread before fanning out.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace pixvault::media::testing {

// Path of the generated file `name`, or an empty path when ffmpeg or the encoder it needs is
// missing (the test should GTEST_SKIP). Names: "video.mp4" (testsrc2 320x240, 25 fps, 2 s,
// moov at the end), "video_audio.mp4" (same plus a 440 Hz AAC track), "keyframes.mp4"
// (testsrc2 320x240, 25 fps, 4 s, a keyframe every 25 frames: at 0, 1, 2 and 3 s), "video.webm",
// "rotated.mp4" (video.mp4 remuxed with `-metadata:s:v:0 rotate=90`), "audio.wav" (440 Hz
// mono, 44.1 kHz, 1 s), "audio.mp3", "audio.ogg", "audio.flac", "image.png", "image.jpeg",
// "image.webp", "image.gif" (single 320x240 testsrc2 frames), "image_animated.gif",
// "image_animated.webp" (160x120, 5 frames), "image_large.jpeg" (1600x900),
// "image_alpha.png" (400x300 RGBA, alpha 50%), "image_marker.jpeg" (320x160 blue, a red 80x40
// box in the top-left corner); for perceptual hashes, 640x480 frames: "picture.png" (testsrc2
// at 0 s), its variants "picture_q60.jpeg" (JPEG at about quality 60), "picture_half.png"
// (320x240), "picture_bright.png" (eq=brightness=0.04), "picture_ccw.jpeg" (turned 90 degrees
// counter-clockwise, stored 480x640, no EXIF), and different pictures "picture_later.png"
// (testsrc2 at 9 s), "mandelbrot.png", "smptebars.png"; videos "fade_in.mp4" (testsrc2
// 320x240, 8 s: black until 2 s, fading in until 4 s, then sharp), "single_frame.mp4",
// "hdr_pq.mp4" (testsrc2 320x240, 1 s, HEVC 10-bit, BT.2020 primaries, PQ transfer, 100-nit
// content); "audio_half_silent.wav" (2 s: silence, then a 440 Hz sine from 1 s).
std::filesystem::path MediaFile(std::string_view name);

// ScratchDir()/name made by `ffmpeg <args> <path>` (e.g. "-f lavfi -i sine=d=1 -c:a flac"),
// generated once per test binary and cached by name; an empty path when ffmpeg fails.
std::filesystem::path GeneratedFile(std::string_view name, std::string_view args);

// Runs `ffmpeg -hide_banner -nostdin <args>` and returns what it printed (stdout and
// stderr together), or nullopt when it could not run or exited with an error.
std::optional<std::string> RunFfmpeg(std::string_view args);

// A folder for a test's own files, removed when the test binary exits.
const std::filesystem::path& ScratchDir();

// `jpeg` (which must start with SOI) with an EXIF APP1 segment carrying only the Orientation
// tag (1..8; 6 = displayed turned 90 degrees clockwise) inserted after SOI.
std::string JpegWithOrientation(std::string_view jpeg, int orientation);

// CRC-32 as used by PNG chunks (and zlib).
std::uint32_t Crc32(std::string_view bytes);

}  // namespace pixvault::media::testing
