// FFmpeg (libavformat/libavcodec/libavutil) plumbing shared by the media module: one-time
// setup, RAII owners for FFmpeg objects, and the single place where FFmpeg's negative error
// codes become `Error`s. Internal to src/media; other modules never include FFmpeg headers.
//
// Thread-safety: every function here may be called from any thread. The owners are plain
// move-only values and are not shared between threads.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
}

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace pixvault::media {

// Process-wide FFmpeg setup, done once: libav's own logging is reduced to errors, and errors
// raised on a thread inside an `AvLogCapture` are kept for the error message instead of being
// printed to stderr.
void EnsureLibavInitialised();

// Converts an FFmpeg error code (negative) into an Error whose message names the failed step
// (`what`), FFmpeg's text for the code and, inside an AvLogCapture, the last error FFmpeg logged
// on this thread. Unreadable data maps to kCorrupt, missing files to kNotFound, missing
// demuxers/decoders to kUnsupported.
[[nodiscard]] Error AvError(int code, std::string_view what);

// While alive, records the last error-level message FFmpeg logs on the constructing thread.
// Scopes nest; the innermost one records.
class AvLogCapture {
 public:
  AvLogCapture();
  ~AvLogCapture();
  AvLogCapture(const AvLogCapture&) = delete;
  AvLogCapture& operator=(const AvLogCapture&) = delete;

  const std::string& last_error() const { return last_error_; }
  void Record(std::string_view message);

 private:
  AvLogCapture* previous_;
  std::string last_error_;
};

// Owns an AVDictionary (options passed to FFmpeg; FFmpeg may replace the pointer).
class AvDictionary {
 public:
  AvDictionary() = default;
  ~AvDictionary() { av_dict_free(&dict_); }
  AvDictionary(const AvDictionary&) = delete;
  AvDictionary& operator=(const AvDictionary&) = delete;

  void Set(const char* key, const char* value) { av_dict_set(&dict_, key, value, 0); }
  AVDictionary** address() { return &dict_; }

 private:
  AVDictionary* dict_ = nullptr;
};

struct AvFormatContextCloser {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
// An opened demuxer (avformat_open_input), closed with avformat_close_input.
using AvFormatContextPtr = std::unique_ptr<AVFormatContext, AvFormatContextCloser>;

struct AvCodecContextFree {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
// A decoder or encoder (avcodec_alloc_context3), freed with avcodec_free_context.
using AvCodecContextPtr = std::unique_ptr<AVCodecContext, AvCodecContextFree>;

struct AvPacketFree {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
// A packet (av_packet_alloc), freed with av_packet_free.
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketFree>;

struct AvFrameFree {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
// A frame (av_frame_alloc), freed with av_frame_free.
using AvFramePtr = std::unique_ptr<AVFrame, AvFrameFree>;

struct AvInputLimits {
  // Bytes read to detect the container and, in FindStreamInfo, to analyse streams.
  std::int64_t probe_size_bytes = 5'000'000;
  // Stream time (microseconds) FindStreamInfo may analyse.
  std::int64_t analyze_duration_us = 5'000'000;
};

// Opens a local file for demuxing. Only the `file` protocol and an allowlist of plain media
// containers are accepted, so playlists and other formats that open further files or URLs
// (HLS, DASH, concat, image sequences...) are refused with kUnsupported before they read
// anything else. Unreadable content is kCorrupt.
[[nodiscard]] Result<AvFormatContextPtr> OpenAvInput(const std::filesystem::path& path,
                                                     const AvInputLimits& limits);

// The first stream of `type`; for video, cover art (an attached picture) does not count.
// nullptr when there is none.
const AVStream* FindAvStream(const AVFormatContext& context, AVMediaType type);

// Clockwise rotation, in degrees (0, 90, 180 or 270), to apply to the stream's frames for
// display: from its display matrix, else from a "rotate" metadata tag, else 0.
std::int64_t DisplayRotation(const AVStream& stream);

// avformat_find_stream_info with single-threaded decoders (no thread pool per probe).
[[nodiscard]] Status FindAvStreamInfo(AVFormatContext& context);

}  // namespace pixvault::media
