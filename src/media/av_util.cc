#include "media/av_util.h"

extern "C" {
#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
}

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>

namespace pixvault::media {
namespace {

// Demuxers (FFmpeg names) that read a single self-contained local file. Everything that may
// open other files or URLs (hls, dash, concat, image2, sdp, ...) is left out on purpose.
constexpr const char* kAllowedDemuxers =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,ogg,wav,w64,mp3,flac,aac,aiff";

thread_local AvLogCapture* t_capture = nullptr;

// Errors FFmpeg logs outside a capture (mostly from its own decoder threads, one line per
// damaged macroblock of a broken file) go to stderr at most kUncapturedPerWindow times per
// window, so one damaged upload cannot flood the server's log.
constexpr int kUncapturedPerWindow = 20;
constexpr auto kUncapturedWindow = std::chrono::seconds(60);

void LogUncaptured(void* av_class, int level, const char* format, va_list args) {
  static std::mutex mutex;
  static std::chrono::steady_clock::time_point window_start;
  static int printed = 0;
  static long dropped = 0;
  long dropped_before = 0;
  {
    const std::lock_guard lock(mutex);
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start >= kUncapturedWindow) {
      window_start = now;
      printed = 0;
      dropped_before = dropped;
      dropped = 0;
    }
    if (printed >= kUncapturedPerWindow) {
      ++dropped;
      return;
    }
    ++printed;
  }
  if (dropped_before > 0) {
    std::fprintf(stderr, "pixvault: %ld more FFmpeg errors were not shown\n", dropped_before);
  }
  av_log_default_callback(av_class, level, format, args);
}

void LogCallback(void* av_class, int level, const char* format, va_list args) {
  if (level > AV_LOG_ERROR) return;
  if (t_capture == nullptr) {
    LogUncaptured(av_class, level, format, args);
    return;
  }
  char line[1024];
  int print_prefix = 0;  // no "[mov,mp4,... @ 0x55d0...]" prefix: it only adds noise
  av_log_format_line2(av_class, level, format, args, line, sizeof(line), &print_prefix);
  t_capture->Record(line);
}

struct AvioCloser {
  AVIOContext* io = nullptr;
  ~AvioCloser() { avio_closep(&io); }
};

// Clockwise degrees (0, 90, 180, 270) from a quarter-turn count in any range.
std::int64_t QuarterTurns(double clockwise_degrees) {
  if (!std::isfinite(clockwise_degrees)) return 0;
  const long quarters = std::lround(clockwise_degrees / 90.0) % 4;
  return static_cast<std::int64_t>((quarters + 4) % 4) * 90;
}

}  // namespace

void EnsureLibavInitialised() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_ERROR);
    av_log_set_callback(&LogCallback);
  });
}

AvLogCapture::AvLogCapture() : previous_(t_capture) { t_capture = this; }

AvLogCapture::~AvLogCapture() { t_capture = previous_; }

void AvLogCapture::Record(std::string_view message) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = message.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return;
  message = message.substr(first, message.find_last_not_of(kSpace) - first + 1);
  last_error_.assign(message.substr(0, 300));
}

Error AvError(int code, std::string_view what) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  ErrorCode error_code = ErrorCode::kCorrupt;  // AVERROR_INVALIDDATA, AVERROR_EOF, ...
  switch (code) {
    case AVERROR(ENOENT):
      error_code = ErrorCode::kNotFound;
      break;
    case AVERROR(EACCES):
    case AVERROR(EPERM):
      error_code = ErrorCode::kPermissionDenied;
      break;
    case AVERROR(EINVAL):
      error_code = ErrorCode::kInvalidArgument;
      break;
    case AVERROR(EIO):
    case AVERROR(EAGAIN):
      error_code = ErrorCode::kUnavailable;
      break;
    case AVERROR(ENOMEM):
    case AVERROR_BUG:
    case AVERROR_BUG2:
      error_code = ErrorCode::kInternal;
      break;
    case AVERROR(ENOSYS):
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_PROTOCOL_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
      error_code = ErrorCode::kUnsupported;
      break;
    default:
      break;
  }
  std::string message = std::string(what) + ": " + text;
  if (t_capture != nullptr && !t_capture->last_error().empty()) {
    message += " (" + t_capture->last_error() + ")";
  }
  return Error{error_code, std::move(message)};
}

Result<AvFormatContextPtr> OpenAvInput(const std::filesystem::path& path,
                                       const AvInputLimits& limits) {
  EnsureLibavInitialised();
  // An explicit protocol, so a path such as "http:x" or "concat:a|b" stays a local file name.
  const std::string url = "file:" + path.string();

  // Detect the container first, so a refused one is reported as such and never parsed.
  const AVInputFormat* format = nullptr;
  {
    AvioCloser io;
    AvDictionary io_options;
    io_options.Set("protocol_whitelist", "file");
    int rc = avio_open2(&io.io, url.c_str(), AVIO_FLAG_READ, nullptr, io_options.address());
    if (rc < 0) return Fail(AvError(rc, "open file"));
    const auto max_probe = static_cast<unsigned>(
        std::clamp<std::int64_t>(limits.probe_size_bytes, 2048, std::numeric_limits<int>::max()));
    rc = av_probe_input_buffer2(io.io, &format, url.c_str(), nullptr, 0, max_probe);
    if (rc < 0) return Fail(AvError(rc, "detect container"));
  }
  if (av_match_list(format->name, kAllowedDemuxers, ',') <= 0) {
    return Fail(ErrorCode::kUnsupported,
                "container '" + std::string(format->name) + "' is not a supported media file");
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return Fail(ErrorCode::kInternal, "avformat_alloc_context failed");
  raw->probesize = limits.probe_size_bytes;
  raw->max_analyze_duration = limits.analyze_duration_us;
  AvDictionary options;
  options.Set("protocol_whitelist", "file");
  options.Set("format_whitelist", kAllowedDemuxers);
  // On failure avformat_open_input frees `raw` and sets it to null.
  const int rc = avformat_open_input(&raw, url.c_str(), format, options.address());
  if (rc < 0) return Fail(AvError(rc, "open container"));
  return AvFormatContextPtr(raw);
}

Status FindAvStreamInfo(AVFormatContext& context) {
  // One options dictionary per stream, freed whatever happens.
  struct PerStreamOptions {
    std::vector<AVDictionary*> dicts;
    ~PerStreamOptions() {
      for (AVDictionary*& dict : dicts) av_dict_free(&dict);
    }
  } options{std::vector<AVDictionary*>(context.nb_streams, nullptr)};
  for (AVDictionary*& dict : options.dicts) av_dict_set(&dict, "threads", "1", 0);
  const int rc = avformat_find_stream_info(&context, options.dicts.data());
  if (rc < 0) return Fail(AvError(rc, "read stream info"));
  return Ok();
}

const AVStream* FindAvStream(const AVFormatContext& context, AVMediaType type) {
  for (unsigned i = 0; i < context.nb_streams; ++i) {
    const AVStream* stream = context.streams[i];
    if (stream->codecpar->codec_type != type) continue;
    if ((stream->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0) continue;
    return stream;
  }
  return nullptr;
}

std::int64_t DisplayRotation(const AVStream& stream) {
  std::size_t size = 0;
  const std::uint8_t* side_data =
      av_stream_get_side_data(&stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (side_data != nullptr && size >= 9 * sizeof(std::int32_t)) {
    std::array<std::int32_t, 9> matrix{};
    std::memcpy(matrix.data(), side_data, sizeof(matrix));  // side data may be unaligned
    // av_display_rotation_get is counter-clockwise; players rotate clockwise by its negation.
    return QuarterTurns(-av_display_rotation_get(matrix.data()));
  }
  if (const AVDictionaryEntry* tag = av_dict_get(stream.metadata, "rotate", nullptr, 0)) {
    return QuarterTurns(std::strtod(tag->value, nullptr));
  }
  return 0;
}

}  // namespace pixvault::media
