#include "media/audio_analysis.h"

#include <algorithm>
#include <cmath>
#include <optional>
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

// An opened container with its first audio stream's decoder.
struct Decoder {
  AvFormatContextPtr context;
  const AVStream* stream = nullptr;
  AvCodecContextPtr codec;
};

Result<Decoder> OpenDecoder(const std::filesystem::path& path,
                            const AudioAnalysisOptions& options) {
  Decoder d;
  PV_ASSIGN_OR_RETURN(
      d.context, AsContentError(OpenAvInput(
                     path, AvInputLimits{options.probe_size_bytes, options.analyze_duration_us})));
  PV_RETURN_IF_ERROR(AsContentError(FindAvStreamInfo(*d.context)));
  d.stream = FindAvStream(*d.context, AVMEDIA_TYPE_AUDIO);
  if (d.stream == nullptr) return Fail(ErrorCode::kInvalidArgument, "no audio stream");
  for (unsigned i = 0; i < d.context->nb_streams; ++i) {
    if (d.context->streams[i] != d.stream) d.context->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVCodecParameters& par = *d.stream->codecpar;
  const AVCodec* decoder = avcodec_find_decoder(par.codec_id);
  if (decoder == nullptr) {
    return Fail(ErrorCode::kUnsupported,
                "no decoder for audio codec '" + std::string(avcodec_get_name(par.codec_id)) + "'");
  }
  d.codec.reset(avcodec_alloc_context3(decoder));
  if (!d.codec) return Fail(ErrorCode::kInternal, "out of memory allocating a decoder");
  if (const int rc = avcodec_parameters_to_context(d.codec.get(), &par); rc < 0) {
    return Fail(AsContentError(AvError(rc, "read codec parameters")));
  }
  d.codec->pkt_timebase = d.stream->time_base;
  AvDictionary decoder_options;
  decoder_options.Set("threads", "1");
  if (const int rc = avcodec_open2(d.codec.get(), decoder, decoder_options.address()); rc < 0) {
    return Fail(AsContentError(AvError(rc, "open audio decoder")));
  }
  return d;
}

// Tempo, the relabelling of windows with a steady beat, is_speech and is_silent.
void Summarise(const AudioFeatureExtractor& features, const AudioAnalysisOptions& options,
               AudioAnalysis& result) {
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
  if (result.windows.empty()) {  // nothing classified (feature_limit_sec = 0, a tiny file)
    const std::optional<double> peak = result.loudness.sample_peak_dbfs;
    result.is_silent = !peak || *peak < options.silence_threshold_dbfs;
  } else {
    const bool whole_file = result.analysed_sec >= result.duration_sec - 0.5;
    result.is_silent =
        speech + music == 0 && (whole_file || !result.loudness.integrated_lufs.has_value());
  }
}

// One decoding pass. Sets `restart` (and returns nothing useful) when an exact-mode pass
// outgrows options.exact_loudness_limit_sec.
Result<AudioAnalysis> AnalyzePass(const std::filesystem::path& path,
                                  const AudioAnalysisOptions& options, bool histogram,
                                  bool& restart) {
  restart = false;
  EnsureLibavInitialised();
  const AvLogCapture capture;  // FFmpeg's own explanation goes into the error message
  PV_ASSIGN_OR_RETURN(const Decoder d, OpenDecoder(path, options));
  AVFormatContext& context = *d.context;
  AVCodecContext& codec = *d.codec;

  const double exact_limit = options.exact_loudness_limit_sec;
  std::optional<double> stated_sec;  // the container's duration, when it gives one
  if (context.duration != AV_NOPTS_VALUE && context.duration > 0) {
    stated_sec = static_cast<double>(context.duration) / AV_TIME_BASE;
    if (*stated_sec > exact_limit) histogram = true;
  }

  AudioAnalysis result;
  result.codec = avcodec_get_name(d.stream->codecpar->codec_id);
  if (d.stream->codecpar->bit_rate > 0) {
    result.bitrate = d.stream->codecpar->bit_rate;
  } else if (context.bit_rate > 0) {
    result.bitrate = context.bit_rate;
  }

  AudioSink sink(options, histogram);
  const AvPacketPtr packet(av_packet_alloc());
  const AvFramePtr frame(av_frame_alloc());
  if (!packet || !frame) return Fail(ErrorCode::kInternal, "out of memory allocating a frame");
  // Receives every frame the decoder has ready.
  const auto drain = [&]() -> Status {
    while (true) {
      const int rc = avcodec_receive_frame(&codec, frame.get());
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
  int read_error = 0;
  while (true) {
    const int rc = av_read_frame(&context, packet.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) {
      read_error = rc;
      break;
    }
    if (packet->stream_index == d.stream->index) {
      const int sent = avcodec_send_packet(&codec, packet.get());
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
  if (avcodec_send_packet(&codec, nullptr) >= 0) PV_RETURN_IF_ERROR(drain());
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
  result.complete =
      read_error == 0 &&
      !(stated_sec && result.duration_sec < *stated_sec - std::max(0.5, 0.05 * *stated_sec));
  PV_ASSIGN_OR_RETURN(result.loudness, sink.Loudness());
  Summarise(sink.features(), options, result);
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
      !std::isfinite(options.min_tempo_confidence) || options.probe_size_bytes <= 0 ||
      options.analyze_duration_us < 0) {
    return Fail(ErrorCode::kInvalidArgument, "invalid audio analysis options");
  }
  bool restart = false;
  Result<AudioAnalysis> result = AnalyzePass(path, options, false, restart);
  if (result && restart) result = AnalyzePass(path, options, true, restart);
  return result;
}

}  // namespace pixvault::media
