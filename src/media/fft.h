// A small radix-2 complex FFT for the audio features (internal to src/media). Real and
// imaginary parts live in separate arrays: several times faster than std::complex here,
// whose operators keep the compiler from vectorising.
//
// Thread-safety: a constructed Fft is immutable; Forward/Inverse may run on many threads at
// once (on different data).
#pragma once

#include <cstddef>
#include <vector>

namespace pixvault::media {

class Fft {
 public:
  // `size` must be a power of two >= 2 (asserted).
  explicit Fft(std::size_t size);

  std::size_t size() const { return size_; }

  // In place; both vectors must have size() elements. The inverse is scaled by 1 / size, so
  // Inverse(Forward(x)) == x.
  void Forward(std::vector<double>& re, std::vector<double>& im) const { Transform(re, im, false); }
  void Inverse(std::vector<double>& re, std::vector<double>& im) const { Transform(re, im, true); }

 private:
  void Transform(std::vector<double>& re, std::vector<double>& im, bool inverse) const;

  std::size_t size_;
  std::vector<double> cos_;  // cos(2 pi k / size), k < size / 2
  std::vector<double> sin_;  // -sin(2 pi k / size): the forward twiddles' imaginary parts
  std::vector<std::size_t> bit_reversed_;
};

}  // namespace pixvault::media
