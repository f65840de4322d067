#include "media/tempo.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "media/fft.h"

namespace pixvault::media {
namespace {

constexpr std::size_t kWindow = 2048;  // onset values per autocorrelation window
constexpr std::size_t kHop = 512;
constexpr std::size_t kCandidates = 10;
constexpr double kCompression = 0.5;  // |X|^0.5: the "generalized" autocorrelation
constexpr int kFineSteps = 8;         // final period search: +-8 steps of 0.05%
constexpr double kFineStep = 0.0005;

// Averaged generalized autocorrelation of the windows of `onset`, normalised by lag 0 and
// corrected for the shrinking overlap; `windows` is set to the number of windows used.
std::vector<double> AverageAutocorrelation(std::span<const float> onset, std::size_t window,
                                           int& windows) {
  std::size_t fft_size = 2;
  while (fft_size < 2 * window) fft_size *= 2;
  const Fft fft(fft_size);
  const std::size_t lags = window / 2;
  std::vector<double> sum(lags, 0.0);
  std::vector<double> re(fft_size), im(fft_size);
  windows = 0;
  for (std::size_t start = 0; start + window <= onset.size(); start += kHop) {
    double mean = 0;
    for (std::size_t i = 0; i < window; ++i) mean += onset[start + i];
    mean /= static_cast<double>(window);
    double energy = 0;
    std::fill(re.begin(), re.end(), 0.0);
    std::fill(im.begin(), im.end(), 0.0);
    for (std::size_t i = 0; i < window; ++i) {
      re[i] = onset[start + i] - mean;
      energy += re[i] * re[i];
    }
    if (energy <= 1e-12) continue;  // a flat window (silence) says nothing about tempo
    fft.Forward(re, im);
    for (std::size_t k = 0; k < fft_size; ++k) {
      re[k] = std::pow(re[k] * re[k] + im[k] * im[k], kCompression / 2);
      im[k] = 0;
    }
    fft.Inverse(re, im);
    const double zero = re[0];
    if (zero <= 0) continue;
    for (std::size_t lag = 0; lag < lags; ++lag) {
      sum[lag] += re[lag] / zero * static_cast<double>(window) / static_cast<double>(window - lag);
    }
    ++windows;
  }
  if (windows > 0) {
    for (double& v : sum) v /= windows;
  }
  return sum;
}

// `values` at a fractional index, linearly interpolated (0 outside).
double At(std::span<const double> values, double index) {
  if (index < 0 || index + 1 >= static_cast<double>(values.size())) return 0;
  const auto i = static_cast<std::size_t>(index);
  const double f = index - static_cast<double>(i);
  return values[i] * (1 - f) + values[i + 1] * f;
}

// Harmonically enhanced autocorrelation at `lag`: the mean of A(lag), A(2 lag), A(4 lag)
// over the multiples inside the autocorrelation.
double Enhanced(std::span<const double> acf, double lag) {
  double sum = 0;
  int terms = 0;
  for (const double multiple : {1.0, 2.0, 4.0}) {
    if (lag * multiple + 1 >= static_cast<double>(acf.size())) break;
    sum += At(acf, lag * multiple);
    ++terms;
  }
  return terms > 0 ? sum / terms : 0;
}

// The fractional position of the peak at or next to integer `lag` (parabolic fit).
double PeakNear(std::span<const double> acf, std::size_t lag) {
  for (int step = 0; step < 3 && lag > 0 && lag + 1 < acf.size(); ++step) {
    if (acf[lag + 1] > acf[lag]) {
      ++lag;
    } else if (acf[lag - 1] > acf[lag]) {
      --lag;
    } else {
      break;
    }
  }
  if (lag == 0 || lag + 1 >= acf.size()) return static_cast<double>(lag);
  const double a = acf[lag - 1], b = acf[lag], c = acf[lag + 1];
  const double denominator = a - 2 * b + c;
  const double offset = denominator < 0 ? 0.5 * (a - c) / denominator : 0.0;
  return static_cast<double>(lag) + std::clamp(offset, -0.5, 0.5);
}

struct Pulses {
  double beat = 0;     // pulse-train correlation at each window's best phase, minus its mean
  double offbeat = 0;  // the same half a period later
  int windows = 0;
};

// Cross-correlation of the onset signal with pulse trains of `period`, window by window (so
// that a small period error or a drifting tempo does not smear the pulses), summed.
Pulses PulseTrains(std::span<const float> onset, double period, std::size_t window) {
  Pulses out;
  const auto comb = [&](std::size_t start, double phase) {
    double sum = 0;
    int n = 0;
    for (int k = 0;; ++k) {
      const double t = phase + k * period;
      if (t + 1 >= static_cast<double>(window)) break;
      const auto i = static_cast<std::size_t>(t);
      const double f = t - static_cast<double>(i);
      sum += onset[start + i] * (1 - f) + onset[start + i + 1] * f;
      ++n;
    }
    return n > 0 ? sum / n : 0.0;
  };
  for (std::size_t start = 0; start + window <= onset.size(); start += kHop) {
    double best = -1, best_phase = 0, mean = 0;
    int phases = 0;
    for (double phase = 0; phase < period; phase += 1.0) {
      const double c = comb(start, phase);
      mean += c;
      ++phases;
      if (c > best) {
        best = c;
        best_phase = phase;
      }
    }
    mean /= phases;
    out.beat += best - mean;
    out.offbeat += std::max(0.0, comb(start, std::fmod(best_phase + period / 2, period)) - mean);
    ++out.windows;
  }
  return out;
}

// Pearson correlation of the onset signal with itself `period` values later (linearly
// interpolated), window by window, averaged.
double Periodicity(std::span<const float> onset, double period, std::size_t window) {
  double total = 0;
  int windows = 0;
  for (std::size_t start = 0; start + window <= onset.size(); start += kHop) {
    const std::span<const float> w = onset.subspan(start, window);
    double mean = 0;
    for (const float v : w) mean += v;
    mean /= static_cast<double>(window);
    double xy = 0, xx = 0, yy = 0;
    for (std::size_t i = 0; static_cast<double>(i) + period + 1 < static_cast<double>(window);
         ++i) {
      const double t = static_cast<double>(i) + period;
      const auto j = static_cast<std::size_t>(t);
      const double f = t - static_cast<double>(j);
      const double x = w[i] - mean;
      const double y = w[j] * (1 - f) + w[j + 1] * f - mean;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    if (xx > 0 && yy > 0) {
      total += xy / std::sqrt(xx * yy);
      ++windows;
    }
  }
  return windows > 0 ? total / windows : 0;
}

double PulseRatio(const Pulses& p) { return p.beat > 0 ? p.offbeat / p.beat : 0; }

}  // namespace

std::optional<AudioTempo> EstimateTempo(std::span<const float> onset, double rate,
                                        double min_confidence) {
  if (static_cast<double>(onset.size()) < kMinTempoSeconds * rate) return std::nullopt;
  const std::size_t window = std::min(kWindow, onset.size());
  int windows = 0;
  const std::vector<double> acf = AverageAutocorrelation(onset, window, windows);
  if (windows == 0) return std::nullopt;

  const double min_lag = 60 * rate / kMaxBpm;
  const double max_lag = std::min(60 * rate / kMinBpm, static_cast<double>(acf.size()) - 2);
  if (max_lag <= min_lag) return std::nullopt;

  // Candidates: the highest local maxima of the enhanced autocorrelation.
  std::vector<std::pair<double, std::size_t>> peaks;  // (value, lag)
  const auto first = static_cast<std::size_t>(std::ceil(min_lag));
  const auto last = static_cast<std::size_t>(std::floor(max_lag));
  for (std::size_t lag = first; lag <= last; ++lag) {
    const double v = Enhanced(acf, static_cast<double>(lag));
    const double before = Enhanced(acf, static_cast<double>(lag) - 1);
    const double after = Enhanced(acf, static_cast<double>(lag) + 1);
    if (v >= before && v > after) peaks.emplace_back(v, lag);
  }
  if (peaks.empty()) return std::nullopt;
  std::sort(peaks.begin(), peaks.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  if (peaks.size() > kCandidates) peaks.resize(kCandidates);

  // The candidate whose pulse trains explain the most onset strength.
  double period = 0, best_score = -1;
  for (const auto& [value, lag] : peaks) {
    const double candidate = PeakNear(acf, lag);
    // Pulse strength per unit of time, so that a multiple of the period (every second or third
    // beat, as strong per pulse) scores below the period itself.
    const double score = PulseTrains(onset, candidate, window).beat / candidate;
    if (score > best_score) {
      best_score = score;
      period = candidate;
    }
  }

  // Octave decision.
  const double fastest = 60 * rate / kMaxBpm, slowest = 60 * rate / kMinBpm;
  while (period / 2 >= fastest &&
         PulseRatio(PulseTrains(onset, period, window)) >= kOctavePulseRatio) {
    period = PeakNear(acf, static_cast<std::size_t>(std::lround(period / 2)));
  }
  while (period * 2 <= slowest && 2 * period + 1 < static_cast<double>(window) &&
         PulseRatio(PulseTrains(onset, 2 * period, window)) < kOctavePulseRatio) {
    period = PeakNear(acf, static_cast<std::size_t>(std::lround(period * 2)));
  }

  // Refinement: a least-squares period through the peaks at the multiples of the period.
  double weighted = 0, norm = 0;
  for (int k = 1; k * period + 2 < static_cast<double>(acf.size()) * 0.9; ++k) {
    const double peak = PeakNear(acf, static_cast<std::size_t>(std::lround(k * period)));
    if (std::abs(peak - k * period) > 0.5 * period) break;
    weighted += k * peak;
    norm += static_cast<double>(k) * k;
  }
  if (norm > 0) period = weighted / norm;
  // Then the period within +-0.4% whose pulse trains line up best with the onsets: over a
  // 12 s window even a 0.1% error drifts a fast beat's pulses off the onsets.
  double best_period = period, best_beat = -1;
  for (int step = -kFineSteps; step <= kFineSteps; ++step) {
    const double candidate = period * (1 + kFineStep * step);
    const double beat = PulseTrains(onset, candidate, window).beat;
    if (beat > best_beat) {
      best_beat = beat;
      best_period = candidate;
    }
  }
  period = best_period;

  // Pulses that barely rise above the average onset strength are not a beat (a steady chord
  // whose waveform beats against the analysis hop can look periodic).
  double mean = 0;
  for (const float v : onset) mean += v;
  mean /= static_cast<double>(onset.size());
  const Pulses pulses = PulseTrains(onset, period, window);
  if (pulses.windows == 0 || !(pulses.beat / pulses.windows >= kMinPulseSalience * mean)) {
    return std::nullopt;
  }

  AudioTempo tempo;
  tempo.bpm = 60 * rate / period;
  tempo.confidence = std::clamp(Periodicity(onset, period, window), 0.0, 1.0);
  tempo.half_bpm = tempo.bpm / 2;
  tempo.double_bpm = tempo.bpm * 2;
  if (tempo.confidence < min_confidence) return std::nullopt;
  return tempo;
}

}  // namespace pixvault::media
