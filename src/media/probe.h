// Technical metadata of a media file: dimensions, duration, frame rate, codecs, audio format.
//
// `ProbeFile` reads headers only: video and audio through libavformat (container header plus
// a bounded stream analysis), images through libvips (header only, pixels are never decoded).
// 3D models are not parsed yet; their result carries only the container format.
//
// Ownership: nothing is retained between calls; the returned ProbeResult is a plain value.
// Thread-safety: safe to call from any number of threads at once.
//
// Errors: kNotFound / kPermissionDenied / kUnavailable when the file cannot be read;
// kCorrupt when its content cannot be parsed (truncated file, missing index, random bytes) or
// lacks the stream its type requires ("no video stream"); kUnsupported for a container, codec
// or image format pixvault does not open; kInvalidArgument when the picture exceeds
// `ProbeOptions::max_pixels` (checked from the header, before any pixel is decoded, whenever
// the header states the size; otherwise right after stream analysis); kInternal when a library
// cannot start. Messages never contain the path (they may reach clients); callers add context.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/enums.h"
#include "core/error.h"

namespace pixvault::media {

struct ProbeOptions {
  // Largest accepted width * height for images and video frames (16383^2, the WebP limit).
  std::int64_t max_pixels = 268'402'689;
  // Bytes libavformat may read to detect the container and analyse its streams.
  std::int64_t probe_size_bytes = 5'000'000;
  // Stream time, in microseconds, libavformat may decode to find codec parameters.
  std::int64_t analyze_duration_us = 5'000'000;
  // For kModel3d: the format `SniffType` found ("glb", "obj", ...). When empty, the file's
  // head is sniffed again with the file's own name as hint.
  std::string format_hint;
};

// Every field is set only when the file states it; absent means unknown, not zero.
struct ProbeResult {
  std::optional<int> width;
  std::optional<int> height;
  std::optional<double> duration_sec;
  std::optional<double> fps;               // average frame rate of the video stream
  std::optional<std::string> video_codec;  // FFmpeg codec name: "h264", "vp9", "mpeg4", ...
  std::optional<std::string> audio_codec;  // "aac", "mp3", "pcm_s16le", "vorbis", ...
  // Container: FFmpeg demuxer name for video/audio ("mov,mp4,m4a,3gp,3g2,mj2", "wav"), the
  // image format for images ("png", "jpeg"), the sniffed format for 3D models ("glb").
  std::optional<std::string> container;
  std::optional<int> sample_rate;  // Hz, of the first audio stream
  std::optional<int> channels;
  std::optional<std::int64_t> bitrate;  // bits per second, whole file
  // FFmpeg pixel format for video ("yuv420p"); for images "gray", "graya", "rgb", "rgba" or
  // "cmyk", suffixed with the sample type when it is not 8-bit ("rgb16", "rgbf").
  std::optional<std::string> pixel_format;
  // Clockwise rotation, in degrees (0, 90, 180 or 270), to apply for display: from the
  // video's display matrix or the image's EXIF orientation.
  std::int64_t rotation = 0;

  // Video stream details (absent when the stream does not state them).
  std::optional<std::string> video_profile;   // "High", "Main 10", "Profile 0"
  std::optional<std::int64_t> video_bitrate;  // bits per second of the video stream
  // Variable frame rate, judged from the headers: the stream's base rate (r_frame_rate) and
  // its average rate differ by more than 1%. A heuristic: no frame timestamps are read.
  std::optional<bool> variable_fps;
  std::optional<std::string> color_transfer;   // "bt709", "smpte2084" (PQ), "arib-std-b67" (HLG)
  std::optional<std::string> color_primaries;  // "bt709", "bt2020"
  // Video: the YUV matrix ("bt709", "bt2020nc"); images: libvips' interpretation ("srgb",
  // "b-w", "cmyk", "rgb16", "grey16", "lab").
  std::optional<std::string> color_space;
  bool hdr = false;  // PQ or HLG transfer
  // Bits per sample: of the video pixel format (the deepest component), of the image's
  // sample format (8, 16, 32).
  std::optional<int> bit_depth;

  // Every audio stream, in file order (the first is the one described above).
  struct AudioStream {
    std::string codec;
    std::optional<int> sample_rate;
    std::optional<int> channels;
    std::optional<std::int64_t> bitrate;
    std::optional<std::string> language;  // the stream's "language" tag
  };
  std::vector<AudioStream> audio_streams;

  // Images.
  std::optional<bool> has_alpha;
  std::optional<int> frames;  // pages of an animated GIF/WebP; 1 for a still picture
};

// Probes the file at `path`, which `SniffType` classified as `type`.
[[nodiscard]] Result<ProbeResult> ProbeFile(const std::filesystem::path& path, MediaType type,
                                            const ProbeOptions& options = {});

}  // namespace pixvault::media
