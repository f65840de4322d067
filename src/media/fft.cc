#include "media/fft.h"

#include <cassert>
#include <cmath>
#include <numbers>
#include <utility>

namespace pixvault::media {

Fft::Fft(std::size_t size) : size_(size), cos_(size / 2), sin_(size / 2), bit_reversed_(size) {
  assert(size >= 2 && (size & (size - 1)) == 0);
  for (std::size_t k = 0; k < size / 2; ++k) {
    const double angle =
        2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(size);
    cos_[k] = std::cos(angle);
    sin_[k] = -std::sin(angle);
  }
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < size) ++bits;
  for (std::size_t i = 0; i < size; ++i) {
    std::size_t reversed = 0;
    for (std::size_t b = 0; b < bits; ++b) reversed |= ((i >> b) & 1u) << (bits - 1 - b);
    bit_reversed_[i] = reversed;
  }
}

void Fft::Transform(std::vector<double>& re, std::vector<double>& im, bool inverse) const {
  assert(re.size() == size_ && im.size() == size_);
  for (std::size_t i = 0; i < size_; ++i) {
    const std::size_t j = bit_reversed_[i];
    if (i < j) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }
  const double sign = inverse ? -1.0 : 1.0;
  for (std::size_t length = 2; length <= size_; length <<= 1) {
    const std::size_t half = length / 2;
    const std::size_t step = size_ / length;
    for (std::size_t start = 0; start < size_; start += length) {
      for (std::size_t j = 0; j < half; ++j) {
        const double wr = cos_[j * step];
        const double wi = sign * sin_[j * step];
        const std::size_t a = start + j, b = a + half;
        const double vr = re[b] * wr - im[b] * wi;
        const double vi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - vr;
        im[b] = im[a] - vi;
        re[a] += vr;
        im[a] += vi;
      }
    }
  }
  if (inverse) {
    const double scale = 1.0 / static_cast<double>(size_);
    for (std::size_t i = 0; i < size_; ++i) {
      re[i] *= scale;
      im[i] *= scale;
    }
  }
}

}  // namespace pixvault::media
