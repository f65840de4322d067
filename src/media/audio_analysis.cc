#include "media/audio_analysis.h"

#include <cmath>
#include <string>

#include "media/audio_features.h"
#include "media/audio_sink.h"
#include "media/av_util.h"
#include "media/tempo.h"

namespace pixvault::media {
namespace {

// Above this tempo confidence, the whole file is music (see AudioWindowKind).
constexpr double kMusicTempoConfidence = 0.6;

// FFmpeg answers some damaged content with EINVAL, which AvError reports as kInvalidArgument;
// here the file is the only argument FFmpeg sees (the options are checked before), so it is
// the file that is corrupt.
Error AsContentError(Error error) {
  if (error.code == ErrorCode::kInvalidArgument) error.code = ErrorCode::kCorrupt;
  return error;
}

template <class T>
Result<T> AsContentError(Result<T> result) {
  if (!result) return Fail(AsContentError(std::move(result).error()));
  return result;
}

// Sets `restart` (and returns nothing useful) when an exact-mode pass outgrows the limit.
Result<AudioAnalysis> AnalyzePass(const std::filesystem::path& path,
                                  const AudioAnalysisOptions& options, bool histogram,
                                  bool& restart) {
  restart = false;
  EnsureLibavInitialised();
  const AvLogCapture capture;  // FFmpeg's own explanation goes into the error message
  PV_ASSIGN_OR_RETURN(
      const AvFormatContextPtr context,
      AsContentError(
          OpenAvInput(path, AvInputLimits{options.probe_size_bytes, options.analyze_duration_us})));
  PV_RETURN_IF_ERROR(AsContentError(FindAvStreamInfo(*context)));
  const AVStream* stream = FindAvStream(*context, AVMEDIA_TYPE_AUDIO);
  if (stream == nullptr) return Fail(ErrorCode::kInvalidArgument, "no audio stream");
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (context->streams[i] != stream) context->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVCodecParameters& par = *stream->codecpar;
  const AVCodec* decoder = avcodec_find_decoder(par.codec_id);
  if (decoder == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                "no decoder for audio codec '" + std::string(avcodec_get_name(par.codec_id)) + "'");
  }
  const AvCodecContextPtr codec(avcodec_alloc_context3(decoder));
  if (!codec) return Fail(ErrorCode::kInternal, "out of memory allocating a decoder");
  if (const int rc = avcodec_parameters_to_context(codec.get(), &par); rc < 0) {
    return Fail(AsContentError(AvError(rc, "read codec parameters")));
  }
  codec->pkt_timebase = stream->time_base;
  AvDictionary decoder_options;
  decoder_options.Set("threads", "1");
  if (const int rc = avcodec_open2(codec.get(), decoder, decoder_options.address()); rc < 0) {
    return Fail(AsContentError(AvError(rc, "open audio decoder")));
  }

  const double exact_limit = options.exact_loudness_limit_sec;
  if (context->duration != AV_NOPTS_VALUE &&
      static_cast<double>(context->duration) / AV_TIME_BASE > exact_limit) {
    histogram = true;
  }

  AudioAnalysis result;
  result.codec = avcodec_get_name(par.codec_id);
  if (par.bit_rate > 0) {
    result.bitrate = par.bit_rate;
  } else if (context->bit_rate > 0) {
    result.bitrate = context->bit_rate;
  }

  AudioSink sink(options, histogram);
  const AvPacketPtr packet(av_packet_alloc());
  const AvFramePtr frame(av_frame_alloc());
  if (!packet || !frame) return Fail(ErrorCode::kInternal, "out of memory allocating a frame");
  int read_error = 0;
  // Receives every frame the decoder has ready.
  const auto drain = [&]() -> Status {
    while (true) {
      const int rc = avcodec_receive_frame(codec.get(), frame.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Ok();
      if (rc == AVERROR(ENOMEM)) return Fail(AvError(rc, "decode audio"));
      if (rc < 0) {
        ++result.decode_errors;
        continue;
      }
      const Status consumed = sink.Consume(*frame);
      av_frame_unref(frame.get());
      PV_RETURN_IF_ERROR(consumed);
      ++result.decoded_frames;
    }
  };
  while (true) {
    const int rc = av_read_frame(context.get(), packet.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) {
      read_error = rc;
      result.complete = false;
      break;
    }
    if (packet->stream_index == stream->index) {
      const int sent = avcodec_send_packet(codec.get(), packet.get());
      if (sent == AVERROR(ENOMEM)) return Fail(AvError(sent, "decode audio"));
      if (sent < 0) ++result.decode_errors;  // a damaged packet: skipped, as ffmpeg does
    }
    av_packet_unref(packet.get());
    PV_RETURN_IF_ERROR(drain());
    if (!histogram && sink.started() &&
        static_cast<double>(sink.samples()) / sink.sample_rate() > exact_limit) {
      restart = true;  // the header understated the length: measure again in constant memory
      return result;
    }
  }
  if (avcodec_send_packet(codec.get(), nullptr) >= 0) PV_RETURN_IF_ERROR(drain());
  if (!sink.started()) {
    if (read_error < 0) return Fail(AsContentError(AvError(read_error, "read audio")));
    return Fail(
        ErrorCode::kCorrupt,
        "no audio could be decoded" +
            (capture.last_error().empty() ? std::string() : " (" + capture.last_error() + ")"));
  }
  PV_RETURN_IF_ERROR(sink.Finish());

  result.sample_rate = sink.sample_rate();
  result.channels = sink.channels();
  result.samples = sink.samples();
  result.duration_sec = static_cast<double>(sink.samples()) / sink.sample_rate();
  PV_ASSIGN_OR_RETURN(result.loudness, sink.Loudness());

  const AudioFeatureExtractor& features = sink.features();
  result.analysed_sec = features.seconds();
  result.windows = features.windows();
  result.tempo = EstimateTempo(features.onset(), AudioFeatureExtractor::kOnsetRate,
                               options.min_tempo_confidence);
  // A steady beat is music, whatever the windows' envelopes say (drum loops, speech over a
  // beat).
  if (result.tempo && result.tempo->confidence >= kMusicTempoConfidence) {
    for (AudioWindow& w : result.windows) {
      if (w.kind == AudioWindowKind::kSpeech) w.kind = AudioWindowKind::kMusic;
    }
  }
  double speech = 0, music = 0;
  for (const AudioWindow& w : result.windows) {
    if (w.kind == AudioWindowKind::kSpeech) speech += w.end_sec - w.start_sec;
    if (w.kind == AudioWindowKind::kMusic) music += w.end_sec - w.start_sec;
  }
  result.is_speech = speech > music;
  if (result.windows.empty()) {
    const std::optional<double> peak = result.loudness.sample_peak_dbfs;
    result.is_silent = !peak || *peak < options.silence_threshold_dbfs;
  } else {
    const bool whole_file = result.analysed_sec >= result.duration_sec - 0.5;
    result.is_silent =
        speech + music == 0 && (whole_file || !result.loudness.integrated_lufs.has_value());
  }
  return result;
}

}  // namespace

const char* AudioWindowKindName(AudioWindowKind kind) {
  switch (kind) {
    case AudioWindowKind::kSilence:
      return "silence";
    case AudioWindowKind::kSpeech:
      return "speech";
    case AudioWindowKind::kMusic:
      return "music";
  }
  return "unknown";
}

Result<AudioAnalysis> AnalyzeAudio(const std::filesystem::path& path,
                                   const AudioAnalysisOptions& options) {
  if (!(options.window_sec >= 0.5 && options.window_sec <= 10)) {
    return Fail(ErrorCode::kInvalidArgument, "window_sec must be between 0.5 and 10");
  }
  if (!(options.feature_limit_sec >= 0 && options.feature_limit_sec <= 24 * 3600)) {
    return Fail(ErrorCode::kInvalidArgument, "feature_limit_sec must be between 0 and 86400");
  }
  if (!(options.exact_loudness_limit_sec >= 0) || !std::isfinite(options.silence_threshold_dbfs) ||
      !std::isfinite(options.min_tempo_confidence)) {
    return Fail(ErrorCode::kInvalidArgument, "invalid audio analysis options");
  }
  bool restart = false;
  Result<AudioAnalysis> result = AnalyzePass(path, options, false, restart);
  if (result && restart) result = AnalyzePass(path, options, true, restart);
  return result;
}

}  // namespace pixvault::media
