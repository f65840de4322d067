// Internal to src/media: frame-by-frame decoding of one stream of an opened input
// (libavformat + libavcodec), shared by the poster-frame picker and the waveform renderer.
//
// Ownership: the decoder borrows the AVFormatContext, which must outlive it; it owns its codec
// context, packet and frame. Thread-safety: one decoder per thread; no shared state.
// Errors: FFmpeg codes become Errors through AvError (av_util.h) only.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <cstdint>
#include <memory>

#include "core/error.h"
#include "media/av_util.h"  // AvCodecContextPtr, AvPacketPtr, AvFramePtr

namespace pixvault::media {

// A new reference to `frame`'s data (av_frame_clone). Errors: kInternal when out of memory.
[[nodiscard]] Result<AvFramePtr> CloneAvFrame(const AVFrame& frame);

// How a decoder runs. The defaults (one thread, exact decoding) suit the renderers, which
// parallelise across files; a whole-stream analysis may ask for more.
struct AvDecoderSettings {
  // Decoder threads; above 1, frame threading (FF_THREAD_FRAME) is used, which delays output
  // by threads - 1 frames.
  int threads = 1;
  // skip_loop_filter = AVDISCARD_ALL: H.264/HEVC frames are decoded without the in-loop
  // deblocking filter, markedly faster but with blocking artefacts that propagate through
  // predicted frames. Only for analyses that tolerate inexact pixels.
  bool skip_loop_filter = false;
};

class AvStreamDecoder {
 public:
  // Opens a decoder for `stream` of `context` (single-threaded and exact unless `settings`
  // says otherwise); the other streams are set to be discarded by the demuxer. Errors:
  // kUnsupported when FFmpeg has no decoder for the codec, kCorrupt when the codec parameters
  // are unusable.
  [[nodiscard]] static Result<AvStreamDecoder> Open(AVFormatContext& context,
                                                    const AVStream& stream,
                                                    const AvDecoderSettings& settings = {});

  // The next decoded frame, owned by the decoder and valid until the next call to Next or
  // Seek; nullptr at the end of the stream. Packets the decoder rejects as invalid are
  // skipped (a damaged stream yields the frames that can be decoded). Errors: kCorrupt when
  // reading fails or too many packets in a row cannot be decoded.
  [[nodiscard]] Result<const AVFrame*> Next();

  // Moves to the keyframe at or before `seconds` (from the stream's start) and drops the
  // decoder's buffered frames. Errors: kCorrupt when the container cannot seek there.
  [[nodiscard]] Status Seek(double seconds);

  // Presentation time of `frame` in seconds from the stream's start (best-effort timestamp;
  // 0 when the frame has none).
  double TimeOf(const AVFrame& frame) const;

  // Since Open: frames returned, those of them the decoder flagged as damaged (concealed
  // errors, missing references), and packets or frames it refused with an error.
  std::int64_t frames() const { return frames_; }
  std::int64_t damaged_frames() const { return damaged_frames_; }
  std::int64_t decode_errors() const { return decode_errors_; }

  const AVStream& stream() const { return *stream_; }
  const AVCodecContext& codec() const { return *codec_; }

 private:
  AvStreamDecoder(AVFormatContext& context, const AVStream& stream, AvCodecContextPtr codec,
                  AvPacketPtr packet, AvFramePtr frame);

  AVFormatContext* context_;
  const AVStream* stream_;
  AvCodecContextPtr codec_;
  AvPacketPtr packet_;
  AvFramePtr frame_;
  bool draining_ = false;  // the demuxer hit the end; the decoder is being flushed
  bool done_ = false;      // the decoder returned EOF
  std::int64_t frames_ = 0;
  std::int64_t damaged_frames_ = 0;
  std::int64_t decode_errors_ = 0;
};

}  // namespace pixvault::media
