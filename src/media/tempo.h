// Tempo from an onset-strength signal (internal to src/media; see audio_analysis.h).
//
// After Percival & Tzanetakis, "Streamlined tempo estimation based on autocorrelation and
// cross-correlation with pulses" (IEEE/ACM TASLP 2014), written from the paper's ideas:
//   1. the generalized autocorrelation (inverse FFT of |FFT|^0.5) of the mean-removed onset
//      signal, over 2048-value windows (11.9 s) every 512 values, normalised and averaged;
//   2. harmonic enhancement: A(t) + A(2t) + A(4t); its ten highest peaks between 50 and
//      220 BPM are the candidates;
//   3. each candidate period is scored by cross-correlating the whole onset signal with a
//      pulse train of that period at every phase (best phase's mean minus all phases' mean);
//   4. octave decision without a trained model: go to the double tempo while the half-beat
//      pulses are nearly as strong as the beats (pulse ratio >= kOctavePulseRatio), to the
//      half tempo when every other beat is weak (ratio of the half tempo < kOctavePulseRatio);
//   5. the period is refined by a least-squares fit through the autocorrelation peaks at its
//      multiples, then to 0.05% by the same pulse-train correlation on a fine grid.
// Confidence is the correlation of the onset signal with itself one beat later (Pearson, per
// window, averaged), clamped to [0, 1]: about 1 for a steady click track, low for speech and
// noise. No tempo is reported when the beat pulses rise less than kMinPulseSalience times the
// mean onset strength above the mean (steady tones, noise).
//
// Thread-safety: a pure function.
#pragma once

#include <optional>
#include <span>

#include "media/audio_analysis.h"

namespace pixvault::media {

inline constexpr double kMinBpm = 50;
inline constexpr double kMaxBpm = 220;
inline constexpr double kOctavePulseRatio = 0.7;
inline constexpr double kMinPulseSalience = 2.0;
// Shorter onset signals (in seconds) give no tempo.
inline constexpr double kMinTempoSeconds = 4;

// `onset` sampled at `rate` values per second. Absent when the signal is too short or flat,
// or when the confidence is below `min_confidence`.
std::optional<AudioTempo> EstimateTempo(std::span<const float> onset, double rate,
                                        double min_confidence);

}  // namespace pixvault::media
