#include "media/audio_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace pixvault::media {
namespace {

// Mean and coefficient of variation (std / mean) of `values`; 0 when the mean is 0.
double Variation(std::span<const double> values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (const double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  if (mean <= 0) return 0;
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size())) / mean;
}

}  // namespace

AudioFeatureExtractor::AudioFeatureExtractor(double window_sec, double silence_threshold_dbfs)
    : window_frames_(
          std::max(1, static_cast<int>(std::lround(window_sec * kSampleRate / kFrameSize)))),
      silence_threshold_dbfs_(silence_threshold_dbfs),
      fft_(kFftSize),
      hann_(kFftSize),
      history_(kFftSize, 0.0f),
      re_(kFftSize),
      im_(kFftSize),
      previous_log_(kFftSize / 2 + 1, 0.0) {
  double sum = 0;
  for (int i = 0; i < kFftSize; ++i) {
    hann_[static_cast<std::size_t>(i)] =
        0.5 - 0.5 * std::cos(2 * std::numbers::pi * (i + 0.5) / kFftSize);
    sum += hann_[static_cast<std::size_t>(i)];
  }
  magnitude_scale_ = 2.0 / sum;  // a full-scale sine peaks at 1
}

void AudioFeatureExtractor::Add(std::span<const float> samples) {
  for (const float x : samples) {
    // Classifier frame.
    frame_energy_ += static_cast<double>(x) * x;
    if ((x < 0) != (last_sample_ < 0)) ++frame_crossings_;
    last_sample_ = x;
    if (++frame_fill_ == kFrameSize) EndFrame();

    // Onset frame.
    history_[static_cast<std::size_t>(samples_ % kFftSize)] = x;
    ++samples_;
    if (++since_hop_ >= kOnsetHop && samples_ >= kFftSize) {
      since_hop_ = 0;
      OnsetFrame();
    }
  }
}

void AudioFeatureExtractor::OnsetFrame() {
  // history_ is a ring whose oldest sample sits at samples_ % kFftSize.
  const auto oldest = static_cast<std::size_t>(samples_ % kFftSize);
  for (std::size_t i = 0; i < kFftSize; ++i) {
    re_[i] = hann_[i] * history_[(oldest + i) % kFftSize];
    im_[i] = 0;
  }
  fft_.Forward(re_, im_);
  double flux = 0;
  for (std::size_t k = 0; k <= kFftSize / 2; ++k) {
    const double magnitude = std::sqrt(re_[k] * re_[k] + im_[k] * im_[k]);
    const double level = std::log1p(1000.0 * magnitude * magnitude_scale_);
    flux += std::max(0.0, level - previous_log_[k]);
    previous_log_[k] = level;
  }
  if (have_previous_) onset_.push_back(static_cast<float>(flux));
  have_previous_ = true;
}

void AudioFeatureExtractor::EndFrame() {
  if (frame_fill_ == 0) return;
  frame_power_.push_back(frame_energy_ / frame_fill_);
  frame_zcr_.push_back(static_cast<double>(frame_crossings_) / frame_fill_);
  frame_energy_ = 0;
  frame_crossings_ = 0;
  frame_fill_ = 0;
  if (static_cast<int>(frame_power_.size()) == window_frames_) EndWindow();
}

void AudioFeatureExtractor::EndWindow() {
  const std::size_t frames = frame_power_.size();
  if (frames == 0) return;
  double power = 0;
  for (const double p : frame_power_) power += p;
  power /= static_cast<double>(frames);

  AudioWindowFeatures f;
  f.rms_dbfs = power > 0 ? 10 * std::log10(power) : -std::numeric_limits<double>::infinity();
  std::vector<double> audible_zcr;
  int low = 0;
  for (std::size_t i = 0; i < frames; ++i) {
    if (frame_power_[i] < 0.5 * power) ++low;
    if (frame_power_[i] >= 0.01 * power && power > 0) audible_zcr.push_back(frame_zcr_[i]);
  }
  f.low_energy_ratio = static_cast<double>(low) / static_cast<double>(frames);
  f.zcr_variation = Variation(audible_zcr);
  const std::vector<double> flux(onset_.begin() + static_cast<std::ptrdiff_t>(onset_window_start_),
                                 onset_.end());
  f.flux_variation = Variation(flux);
  onset_window_start_ = onset_.size();

  AudioWindow window;
  const double frame_sec = static_cast<double>(kFrameSize) / kSampleRate;
  window.start_sec = static_cast<double>(windows_.size()) * window_frames_ * frame_sec;
  window.end_sec = std::min(window.start_sec + static_cast<double>(frames) * frame_sec, seconds());
  if (!(f.rms_dbfs >= silence_threshold_dbfs_)) {
    window.kind = AudioWindowKind::kSilence;
  } else {
    const int votes = (f.low_energy_ratio >= kSpeechLowEnergyRatio ? 1 : 0) +
                      (f.zcr_variation >= kSpeechZcrVariation ? 1 : 0) +
                      (f.flux_variation >= kSpeechFluxVariation ? 1 : 0);
    window.kind = votes >= 2 ? AudioWindowKind::kSpeech : AudioWindowKind::kMusic;
  }
  windows_.push_back(window);
  frame_power_.clear();
  frame_zcr_.clear();
}

void AudioFeatureExtractor::Finish() {
  EndFrame();
  if (static_cast<int>(frame_power_.size()) * 2 >= window_frames_) EndWindow();
  frame_power_.clear();
  frame_zcr_.clear();
}

}  // namespace pixvault::media
