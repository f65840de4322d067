#include "media/loudness_range.h"

#include <cmath>

namespace pixvault::media {
namespace {

constexpr double kLowest = -70;  // absolute gate, LUFS
constexpr double kHighest = 10;
constexpr double kBinsPerLu = 100;
constexpr double kRelativeGate = -20;  // LU below the mean of the values above kLowest

double BinLoudness(std::size_t bin) { return kLowest + static_cast<double>(bin) / kBinsPerLu; }

// Relative to BS.1770's reference; the -0.691 offset cancels in the gate.
double Energy(double lufs) { return std::pow(10.0, lufs / 10); }

}  // namespace

LoudnessRange::LoudnessRange()
    : bins_(static_cast<std::size_t>((kHighest - kLowest) * kBinsPerLu) + 1, 0) {}

void LoudnessRange::Add(double lufs) {
  if (!(lufs >= kLowest)) return;  // also drops -inf and NaN
  energy_ += Energy(lufs);
  ++count_;
  const double clamped = std::fmin(lufs, kHighest);
  ++bins_[static_cast<std::size_t>(std::lround((clamped - kLowest) * kBinsPerLu))];
}

std::optional<double> LoudnessRange::Range() const {
  if (count_ == 0) return std::nullopt;
  const double gate = 10 * std::log10(energy_ / static_cast<double>(count_)) + kRelativeGate;
  const auto first =
      static_cast<std::size_t>(std::fmax(0.0, std::ceil((gate - kLowest) * kBinsPerLu - 1e-9)));
  std::int64_t gated = 0;
  for (std::size_t bin = first; bin < bins_.size(); ++bin) gated += bins_[bin];
  if (gated == 0) return std::nullopt;

  // The values at ranks round(10% n) and round(95% n), rounding half to even: FFmpeg's choice
  // (with few values, ceil instead of round moves LRA by tenths of an LU).
  const auto rank_low = static_cast<std::int64_t>(std::lrint(0.10 * static_cast<double>(gated)));
  const auto rank_high = static_cast<std::int64_t>(std::lrint(0.95 * static_cast<double>(gated)));
  std::optional<double> low, high;
  std::int64_t seen = 0;
  for (std::size_t bin = first; bin < bins_.size() && !high; ++bin) {
    seen += bins_[bin];
    if (!low && seen >= std::max<std::int64_t>(rank_low, 1)) low = BinLoudness(bin);
    if (seen >= std::max<std::int64_t>(rank_high, 1)) high = BinLoudness(bin);
  }
  if (!low || !high) return std::nullopt;
  return *high - *low;
}

}  // namespace pixvault::media
