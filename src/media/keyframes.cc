#include "media/keyframes.h"

extern "C" {
#include <libavcodec/packet.h>
#include <libavformat/avformat.h>
}

#include <cmath>
#include <memory>

#include "media/av_util.h"

namespace pixvault::media {

namespace {

struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

// A generous bound on packets read looking for the next keyframe (about 20 minutes at 60 fps
// in one group of pictures); a stream past it is treated as having no further keyframe.
constexpr int kMaxPacketsScanned = 72'000;

struct Around {
  std::optional<double> before;  // latest keyframe at or before the time
  std::optional<double> after;   // first keyframe after it
};

// Reads packets from the current position, noting keyframes of stream `index` around `t`.
Result<Around> Scan(AVFormatContext& context, const AVStream& stream, double t) {
  std::unique_ptr<AVPacket, PacketFree> packet(av_packet_alloc());
  if (!packet) return Fail(ErrorCode::kInternal, "out of memory allocating a packet");
  const double time_base = av_q2d(stream.time_base);
  const std::int64_t start = stream.start_time == AV_NOPTS_VALUE ? 0 : stream.start_time;
  Around out;
  for (int n = 0; n < kMaxPacketsScanned; ++n) {
    const int rc = av_read_frame(&context, packet.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return Fail(AvError(rc, "reading packets"));
    const bool key = packet->stream_index == stream.index && (packet->flags & AV_PKT_FLAG_KEY);
    const std::int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
    av_packet_unref(packet.get());
    if (!key || ts == AV_NOPTS_VALUE) continue;
    const double at = static_cast<double>(ts - start) * time_base;
    if (at <= t) {
      if (!out.before || at > *out.before) out.before = at;
    } else {
      out.after = at;
      break;
    }
  }
  return out;
}

}  // namespace

Result<Keyframe> NearestKeyframe(const std::filesystem::path& path, double time_sec) {
  if (!std::isfinite(time_sec) || time_sec < 0) {
    return Fail(ErrorCode::kInvalidArgument, "a keyframe time must be a finite number >= 0");
  }
  EnsureLibavInitialised();
  AvLogCapture capture;
  PV_ASSIGN_OR_RETURN(AvFormatContextPtr context, OpenAvInput(path, AvInputLimits{}));
  const AVStream* stream = FindAvStream(*context, AVMEDIA_TYPE_VIDEO);
  if (stream == nullptr) return Fail(ErrorCode::kInvalidArgument, "the file has no video stream");
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (context->streams[i] != stream) context->streams[i]->discard = AVDISCARD_ALL;
  }

  const std::int64_t start = stream->start_time == AV_NOPTS_VALUE ? 0 : stream->start_time;
  const auto target =
      start + static_cast<std::int64_t>(std::floor(time_sec / av_q2d(stream->time_base)));
  const bool seeked =
      av_seek_frame(context.get(), stream->index, target, AVSEEK_FLAG_BACKWARD) >= 0;
  PV_ASSIGN_OR_RETURN(Around around, Scan(*context, *stream, time_sec));
  if (seeked && !around.before) {
    // The seek landed past the time (an index without that keyframe): read from the start.
    if (av_seek_frame(context.get(), stream->index, start, AVSEEK_FLAG_BACKWARD) < 0 &&
        avformat_seek_file(context.get(), -1, INT64_MIN, 0, 0, 0) < 0) {
      return Fail(ErrorCode::kCorrupt, "cannot return to the start of the video");
    }
    PV_ASSIGN_OR_RETURN(around, Scan(*context, *stream, time_sec));
  }
  if (!around.before && !around.after) {
    return Fail(ErrorCode::kCorrupt, "the video stream has no keyframe");
  }
  Keyframe out;
  if (around.before && (!around.after || time_sec - *around.before <= *around.after - time_sec)) {
    out.time_sec = *around.before;
  } else {
    out.time_sec = *around.after;
  }
  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) out.frame = std::llround(out.time_sec * av_q2d(rate));
  return out;
}

}  // namespace pixvault::media
