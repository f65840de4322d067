// Loudness range (LRA, EBU Tech 3342) from short-term loudness values (internal to src/media).
//
// libebur128 computes LRA from short-term blocks taken once per second; Tech 3342 asks for at
// least ten per second, which is what FFmpeg's ebur128 filter does, and on dynamic material
// the two differ by more than 1 LU. AnalyzeAudio therefore reads libebur128's short-term
// loudness every 100 ms and gates it here: values below -70 LUFS are dropped, then those more
// than 20 LU below the energy mean of the rest; LRA is the spread between the 10th and 95th
// percentiles (at ranks round(0.10 n) and round(0.95 n), as FFmpeg picks them). Values are
// kept in a histogram of 0.01 LU bins from -70 to +10 LUFS (louder ones count as +10), so
// memory is constant (64 KiB) whatever the length; the relative gate uses the exact mean.
//
// Thread-safety: none; a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace pixvault::media {

class LoudnessRange {
 public:
  LoudnessRange();

  // One short-term loudness value, in LUFS (-inf for silence).
  void Add(double lufs);

  // The range in LU; absent when no value passes the gates.
  std::optional<double> Range() const;

 private:
  std::vector<std::int64_t> bins_;
  double energy_ = 0;  // sum of the values above the absolute gate, as energies
  std::int64_t count_ = 0;
};

}  // namespace pixvault::media
