#include "media/av_decoder.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "media/av_util.h"

namespace pixvault::media {
namespace {

// Packets in a row the decoder may reject before the stream counts as undecodable.
constexpr int kMaxConsecutiveErrors = 500;

}  // namespace

Result<AvFramePtr> CloneAvFrame(const AVFrame& frame) {
  AvFramePtr clone(av_frame_clone(&frame));
  if (clone == nullptr) return Fail(ErrorCode::kInternal, "out of memory copying a frame");
  return clone;
}

AvStreamDecoder::AvStreamDecoder(AVFormatContext& context, const AVStream& stream,
                                 AvCodecContextPtr codec, AvPacketPtr packet, AvFramePtr frame)
    : context_(&context),
      stream_(&stream),
      codec_(std::move(codec)),
      packet_(std::move(packet)),
      frame_(std::move(frame)) {}

Result<AvStreamDecoder> AvStreamDecoder::Open(AVFormatContext& context, const AVStream& stream,
                                              const AvDecoderSettings& settings) {
  const AVCodec* codec = avcodec_find_decoder(stream.codecpar->codec_id);
  if (codec == nullptr) {
    return Fail(ErrorCode::kUnsupported, std::string("no decoder for codec '") +
                                             avcodec_get_name(stream.codecpar->codec_id) + "'");
  }
  AvCodecContextPtr codec_context(avcodec_alloc_context3(codec));
  AvPacketPtr packet(av_packet_alloc());
  AvFramePtr frame(av_frame_alloc());
  if (codec_context == nullptr || packet == nullptr || frame == nullptr) {
    return Fail(ErrorCode::kInternal, "out of memory opening a decoder");
  }
  int rc = avcodec_parameters_to_context(codec_context.get(), stream.codecpar);
  if (rc < 0) return Fail(AvError(rc, "read codec parameters"));
  codec_context->pkt_timebase = stream.time_base;
  const int threads = std::max(1, settings.threads);
  if (threads > 1) codec_context->thread_type = FF_THREAD_FRAME;
  if (settings.skip_loop_filter) codec_context->skip_loop_filter = AVDISCARD_ALL;
  AvDictionary options;
  // One thread by default: renders run one per file and callers parallelise across files.
  options.Set("threads", std::to_string(threads).c_str());
  rc = avcodec_open2(codec_context.get(), codec, options.address());
  if (rc < 0) return Fail(AvError(rc, "open decoder"));
  for (unsigned i = 0; i < context.nb_streams; ++i) {
    if (context.streams[i] != &stream) context.streams[i]->discard = AVDISCARD_ALL;
  }
  return AvStreamDecoder(context, stream, std::move(codec_context), std::move(packet),
                         std::move(frame));
}

Result<const AVFrame*> AvStreamDecoder::Next() {
  int errors = 0;
  while (!done_) {
    int rc = avcodec_receive_frame(codec_.get(), frame_.get());
    if (rc == 0) {
      ++frames_;
      if (frame_->decode_error_flags != 0 || (frame_->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
        ++damaged_frames_;
      }
      return frame_.get();
    }
    if (rc == AVERROR_EOF) {
      done_ = true;
      break;
    }
    if (rc != AVERROR(EAGAIN)) {
      ++decode_errors_;
      if (++errors > kMaxConsecutiveErrors) return Fail(AvError(rc, "decode"));
      continue;
    }
    if (draining_) {  // EAGAIN while draining should not happen; treat as the end
      done_ = true;
      break;
    }
    rc = av_read_frame(context_, packet_.get());
    if (rc == AVERROR_EOF) {
      draining_ = true;
      rc = avcodec_send_packet(codec_.get(), nullptr);
      if (rc < 0 && rc != AVERROR_EOF) done_ = true;
      continue;
    }
    if (rc < 0) return Fail(AvError(rc, "read packet"));
    if (packet_->stream_index == stream_->index) {
      rc = avcodec_send_packet(codec_.get(), packet_.get());
      if (rc < 0 && rc != AVERROR(EAGAIN)) ++decode_errors_;
      if (rc < 0 && rc != AVERROR(EAGAIN) && ++errors > kMaxConsecutiveErrors) {
        av_packet_unref(packet_.get());
        return Fail(AvError(rc, "decode"));
      }
    }
    av_packet_unref(packet_.get());
  }
  return nullptr;
}

Status AvStreamDecoder::Seek(double seconds) {
  const std::int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
  const auto target =
      start + static_cast<std::int64_t>(std::floor(seconds / av_q2d(stream_->time_base)));
  int rc = av_seek_frame(context_, stream_->index, target, AVSEEK_FLAG_BACKWARD);
  if (rc < 0) {
    // Some demuxers only seek by byte or from the start; try the generic API once.
    rc = avformat_seek_file(context_, stream_->index, INT64_MIN, target, target, 0);
    if (rc < 0) return Fail(AvError(rc, "seek"));
  }
  avcodec_flush_buffers(codec_.get());
  draining_ = false;
  done_ = false;
  return Ok();
}

double AvStreamDecoder::TimeOf(const AVFrame& frame) const {
  std::int64_t ts = frame.best_effort_timestamp;
  if (ts == AV_NOPTS_VALUE) ts = frame.pts;
  if (ts == AV_NOPTS_VALUE) return 0;
  const std::int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
  return static_cast<double>(ts - start) * av_q2d(stream_->time_base);
}

}  // namespace pixvault::media
