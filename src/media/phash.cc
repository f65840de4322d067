#include "media/phash.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numbers>
#include <string>

#include "media/vips_render.h"

namespace pixvault::media {
namespace {

// Differences below this are rounding noise of the resampling and the DCT (a flat picture
// must hash to 0, not to noise).
constexpr double kEpsilon = 1e-6;

// Longest edge at which HashImageFile decodes: enough detail for a 32x32 area average, and
// small enough that JPEG and WebP decode at 1/8 scale.
constexpr int kHashDecodeSize = 256;

// Area-averaging resample of `gray` to out_w x out_h (aspect ratio not kept): each output
// pixel is the mean of the source area it covers, partial pixels weighted by coverage.
// Separable: rows first, then columns.
std::vector<double> AreaResample(const GrayView& gray, int out_w, int out_h) {
  struct Tap {
    int index;
    double weight;
  };
  // For each output position, the source pixels it covers and their normalised weights.
  auto taps = [](int in, int out) {
    std::vector<std::vector<Tap>> all(static_cast<std::size_t>(out));
    const double scale = static_cast<double>(in) / out;
    for (int o = 0; o < out; ++o) {
      const double begin = o * scale;
      const double end = (o + 1) * scale;
      double total = 0;
      for (int i = static_cast<int>(std::floor(begin)); i < in && i < end; ++i) {
        const double w = std::min<double>(end, i + 1) - std::max<double>(begin, i);
        if (w <= 0) continue;
        all[static_cast<std::size_t>(o)].push_back({i, w});
        total += w;
      }
      for (Tap& tap : all[static_cast<std::size_t>(o)]) tap.weight /= total;
    }
    return all;
  };
  const auto x_taps = taps(gray.width, out_w);
  const auto y_taps = taps(gray.height, out_h);
  const auto in_w = static_cast<std::size_t>(gray.width);
  const auto ow = static_cast<std::size_t>(out_w);

  std::vector<double> rows(static_cast<std::size_t>(gray.height) * ow);
  for (std::size_t y = 0; y < static_cast<std::size_t>(gray.height); ++y) {
    for (std::size_t x = 0; x < ow; ++x) {
      double sum = 0;
      for (const Tap& tap : x_taps[x]) {
        sum += tap.weight * gray.pixels[y * in_w + static_cast<std::size_t>(tap.index)];
      }
      rows[y * ow + x] = sum;
    }
  }
  std::vector<double> out(static_cast<std::size_t>(out_h) * ow);
  for (std::size_t y = 0; y < static_cast<std::size_t>(out_h); ++y) {
    for (std::size_t x = 0; x < ow; ++x) {
      double sum = 0;
      for (const Tap& tap : y_taps[y]) {
        sum += tap.weight * rows[static_cast<std::size_t>(tap.index) * ow + x];
      }
      out[y * ow + x] = sum;
    }
  }
  return out;
}

std::uint64_t PHash(const GrayView& gray) {
  constexpr int kN = 32;
  constexpr int kKeep = 9;  // frequencies 0..8; 0 is dropped below
  const std::vector<double> block = AreaResample(gray, kN, kN);
  // cos((2x + 1) u pi / 2N) for u < kKeep. The DCT's normalisation factors are left out: they
  // scale whole rows/columns of coefficients by constants and u, v >= 1 share one factor.
  std::array<std::array<double, kN>, kKeep> basis{};
  for (int u = 0; u < kKeep; ++u) {
    for (int x = 0; x < kN; ++x) {
      basis[static_cast<std::size_t>(u)][static_cast<std::size_t>(x)] =
          std::cos((2.0 * x + 1.0) * u * std::numbers::pi / (2.0 * kN));
    }
  }
  // Rows: row_dct[y][u] = sum_x block[y][x] * basis[u][x].
  std::array<std::array<double, kKeep>, kN> row_dct{};
  for (std::size_t y = 0; y < kN; ++y) {
    for (std::size_t u = 0; u < kKeep; ++u) {
      double sum = 0;
      for (std::size_t x = 0; x < kN; ++x) sum += block[y * kN + x] * basis[u][x];
      row_dct[y][u] = sum;
    }
  }
  std::array<double, 64> coefficients{};
  for (std::size_t v = 1; v < kKeep; ++v) {
    for (std::size_t u = 1; u < kKeep; ++u) {
      double sum = 0;
      for (std::size_t y = 0; y < kN; ++y) sum += row_dct[y][u] * basis[v][y];
      coefficients[(v - 1) * 8 + (u - 1)] = sum;
    }
  }
  std::array<double, 64> sorted = coefficients;
  std::nth_element(sorted.begin(), sorted.begin() + 32, sorted.end());
  const double upper = sorted[32];
  const double lower = *std::max_element(sorted.begin(), sorted.begin() + 32);
  const double median = (lower + upper) / 2;
  std::uint64_t hash = 0;
  for (std::size_t i = 0; i < 64; ++i) {
    if (coefficients[i] > median + kEpsilon) hash |= std::uint64_t{1} << i;
  }
  return hash;
}

std::uint64_t DHash(const GrayView& gray) {
  const std::vector<double> small = AreaResample(gray, 9, 8);
  std::uint64_t hash = 0;
  for (std::size_t y = 0; y < 8; ++y) {
    for (std::size_t x = 0; x < 8; ++x) {
      if (small[y * 9 + x] > small[y * 9 + x + 1] + kEpsilon)
        hash |= std::uint64_t{1} << (y * 8 + x);
    }
  }
  return hash;
}

}  // namespace

Result<ImageHashes> HashGray(const GrayView& gray) {
  if (gray.width <= 0 || gray.height <= 0 ||
      gray.pixels.size() !=
          static_cast<std::size_t>(gray.width) * static_cast<std::size_t>(gray.height)) {
    return Fail(ErrorCode::kInvalidArgument,
                "a grayscale picture needs width * height bytes and a non-zero size");
  }
  return ImageHashes{PHash(gray), DHash(gray)};
}

Result<ImageHashes> HashImageFile(const std::filesystem::path& path, std::int64_t max_pixels) {
  PV_ASSIGN_OR_RETURN(const ImageSource source, OpenImageSource(path, max_pixels));
  PV_ASSIGN_OR_RETURN(const VipsImagePtr image, ThumbnailFromSource(source, kHashDecodeSize));
  return HashImage(image.get());
}

int HammingDistance(std::uint64_t a, std::uint64_t b) { return std::popcount(a ^ b); }

std::uint8_t HashBand(std::uint64_t hash, int index) {
  return static_cast<std::uint8_t>((hash >> (8 * index)) & 0xffu);
}

Result<std::vector<BandKey>> CandidateBands(std::uint64_t hash, int max_distance) {
  if (max_distance < 0 || max_distance > kMaxBandedDistance) {
    return Fail(ErrorCode::kInvalidArgument, "a banded lookup finds distances 0.." +
                                                 std::to_string(kMaxBandedDistance) + ", not " +
                                                 std::to_string(max_distance));
  }
  std::vector<BandKey> keys;
  const bool neighbours = max_distance >= kHashBands;
  keys.reserve(neighbours ? kHashBands * 9 : kHashBands);
  for (int i = 0; i < kHashBands; ++i) {
    const std::uint8_t band = HashBand(hash, i);
    keys.push_back({i, band});
    if (!neighbours) continue;
    for (int bit = 0; bit < 8; ++bit) {
      keys.push_back({i, static_cast<std::uint8_t>(band ^ (1u << bit))});
    }
  }
  return keys;
}

}  // namespace pixvault::media
