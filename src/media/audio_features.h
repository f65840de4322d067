// Streaming features of a mono signal at 11025 Hz for AnalyzeAudio (internal to src/media):
// the onset-strength signal the tempo estimator reads, and the speech / music / silence label
// of each window.
//
// Onset strength: Hann-windowed 512-sample frames every 64 samples (172.3 per second); the
// spectrum is log-compressed (log(1 + 1000 |X|), |X| normalised so that a full-scale sine
// peaks at 1) and the onset value is the sum of its increases over the previous frame
// (half-wave rectified spectral flux).
//
// Window labels, from 245-sample frames (22.2 ms, 45 per second):
//   silence  the window's RMS is below the silence threshold (dBFS);
//   speech   at least two of: low-energy frame ratio >= kSpeechLowEnergyRatio (pauses between
//            syllables), coefficient of variation of the zero-crossing rate over the audible
//            frames >= kSpeechZcrVariation (voiced / unvoiced alternation), coefficient of
//            variation of the onset signal >= kSpeechFluxVariation (bursty spectra);
//   music    any other audible window.
// The thresholds are heuristics chosen on synthetic signals (see audio_analysis_test.cc):
// syllable-like bursts of a buzzy harmonic tone and noise with pauses measured 0.69-0.89 low-
// energy ratio, 0.6-1.4 ZCR variation, 2.3-4.2 flux variation; a sustained chord 0.00 / 0.1 /
// 0.5; a chord pulsing on a kick 0.22-0.29 / 0.2-0.3 / 2.4-2.9; an arpeggio of decaying notes
// 0.36 / 0.2 / 3.7-4.0. Percussion alone (clicks, a drum loop) also looks like speech here;
// AnalyzeAudio relabels every window of a file with a steady beat as music. Real recordings
// will fall outside these ranges; treat the labels as hints.
//
// Ownership: a plain value. Thread-safety: none; one extractor per analysis.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "media/audio_analysis.h"
#include "media/fft.h"

namespace pixvault::media {

inline constexpr double kSpeechLowEnergyRatio = 0.50;
inline constexpr double kSpeechZcrVariation = 0.50;
inline constexpr double kSpeechFluxVariation = 2.0;

// What a window's label is decided from.
struct AudioWindowFeatures {
  double rms_dbfs = 0;
  double low_energy_ratio = 0;  // frames with power below half the window's mean power
  double zcr_variation = 0;     // std / mean of the zero-crossing rate, audible frames
  double flux_variation = 0;    // std / mean of the onset signal within the window
};

class AudioFeatureExtractor {
 public:
  static constexpr int kSampleRate = 11025;
  static constexpr int kOnsetHop = 64;
  static constexpr double kOnsetRate = static_cast<double>(kSampleRate) / kOnsetHop;

  AudioFeatureExtractor(double window_sec, double silence_threshold_dbfs);

  void Add(std::span<const float> samples);
  // Labels the last, partial window when it is at least half a window long. Call once, last.
  void Finish();

  double seconds() const { return static_cast<double>(samples_) / kSampleRate; }
  const std::vector<float>& onset() const { return onset_; }
  const std::vector<AudioWindow>& windows() const { return windows_; }

 private:
  static constexpr int kFftSize = 512;
  static constexpr int kFrameSize = 245;

  void OnsetFrame();
  void EndFrame();
  void EndWindow();

  int window_frames_;
  double silence_threshold_dbfs_;
  Fft fft_;
  std::vector<double> hann_;
  double magnitude_scale_;
  std::int64_t samples_ = 0;

  // Onset strength.
  std::vector<float> history_;  // the last kFftSize samples, oldest first
  int since_hop_ = 0;
  std::vector<double> re_;
  std::vector<double> im_;
  std::vector<double> previous_log_;
  bool have_previous_ = false;
  std::vector<float> onset_;
  std::size_t onset_window_start_ = 0;  // first onset value of the current window

  // Classifier frames of the current window.
  double frame_energy_ = 0;
  int frame_crossings_ = 0;
  int frame_fill_ = 0;
  float last_sample_ = 0;
  std::vector<double> frame_power_;
  std::vector<double> frame_zcr_;

  std::vector<AudioWindow> windows_;
};

}  // namespace pixvault::media
