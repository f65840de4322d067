// Where AnalyzeAudio's decoded frames go (internal to src/media): libebur128 at the stream's
// own rate and channel layout (samples converted to interleaved float only), a 48 kHz copy for
// true peak when the stream's rate is below 44.1 kHz, short-term loudness every 100 ms for the
// loudness range (from libebur128's 100 ms loudness), and a mono 11025 Hz downmix (mean of the
// non-LFE channels) for the tempo and classifier features, up to
// AudioAnalysisOptions::feature_limit_sec.
//
// The first frame fixes the measured rate and layout; later frames of another shape are
// resampled to it. Ownership: owns its libebur128 states and resamplers (RAII). Thread-safety:
// none; one sink per decoding pass.
//
// Errors: kUnsupported for more than 64 channels or a rate outside 1 kHz - 768 kHz; FFmpeg and
// libebur128 failures as AvError / kInternal.
#pragma once

extern "C" {
#include <ebur128.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
}

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "media/audio_analysis.h"
#include "media/audio_features.h"
#include "media/loudness_range.h"

namespace pixvault::media {

struct SwrFree {
  void operator()(SwrContext* swr) const { swr_free(&swr); }
};
// A resampler (swr_alloc_set_opts2), freed with swr_free.
using SwrPtr = std::unique_ptr<SwrContext, SwrFree>;

struct Ebur128Free {
  void operator()(ebur128_state* state) const { ebur128_destroy(&state); }
};
// A libebur128 meter (ebur128_init), freed with ebur128_destroy.
using Ebur128Ptr = std::unique_ptr<ebur128_state, Ebur128Free>;

class AudioSink {
 public:
  // `histogram`: libebur128's constant-memory histogram mode for integrated loudness.
  AudioSink(const AudioAnalysisOptions& options, bool histogram);
  ~AudioSink();
  AudioSink(const AudioSink&) = delete;
  AudioSink& operator=(const AudioSink&) = delete;

  // Measures one decoded frame.
  [[nodiscard]] Status Consume(const AVFrame& frame);
  // Drains the resamplers' delayed samples and closes the last feature window. Call once.
  [[nodiscard]] Status Finish();

  bool started() const { return state_ != nullptr; }  // a frame has been consumed
  int sample_rate() const { return sample_rate_; }
  int channels() const { return layout_.nb_channels; }
  std::int64_t samples() const { return samples_; }  // per channel, measured so far
  const AudioFeatureExtractor& features() const { return features_; }

  // The measurements, after Finish.
  [[nodiscard]] Result<AudioLoudness> Loudness() const;

 private:
  Status Start(const AVFrame& frame, const AVChannelLayout& in_layout);
  Status Configure(const AVFrame& frame, const AVChannelLayout& in_layout);
  Status ConsumeWithLayout(const AVFrame& frame, const AVChannelLayout& in_layout);
  Status Measure(const float* data, int frames);
  Status Convert(uint8_t** input, int count);

  bool histogram_;
  AudioFeatureExtractor features_;
  std::int64_t feature_samples_limit_;
  std::int64_t feature_samples_ = 0;

  int sample_rate_ = 0;
  AVChannelLayout layout_{};  // of the first frame: what libebur128 measures
  Ebur128Ptr state_;
  Ebur128Ptr peak_state_;  // low sample rates only
  SwrPtr loudness_swr_;
  SwrPtr downmix_swr_;
  SwrPtr peak_swr_;
  int in_format_ = -1;  // the shape the resamplers were made for
  int in_rate_ = 0;
  AVChannelLayout in_layout_{};
  std::vector<float> loud_;
  std::vector<float> mono_;
  std::int64_t samples_ = 0;
  std::int64_t samples_per_100ms_ = 1;
  std::array<double, 30> block_energy_{};  // the last 3 s as 100 ms mean squares, a ring
  std::size_t blocks_ = 0;
  LoudnessRange range_;
};

}  // namespace pixvault::media
