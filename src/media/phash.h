// Perceptual hashes of a picture, for finding near-duplicates: two 64-bit fingerprints that
// change little when a picture is re-encoded, resized or slightly re-toned, and a banding
// helper for looking them up in an index without comparing against every stored hash.
//
// pHash (DCT hash): the picture, in grayscale (Rec.601 luma of 8-bit sRGB, alpha flattened
// onto black), is area-averaged to 32x32 regardless of its aspect ratio; a 2-D DCT-II of that
// block is taken; the 64 coefficients (u, v) with 1 <= u, v <= 8 (the lowest 8x8 frequencies
// except row 0 and column 0, so neither the mean brightness nor purely horizontal/vertical
// ramps of the whole frame count, as in the original pHash library) are compared with their
// median: bit (v - 1) * 8 + (u - 1) is 1 when the coefficient is greater than the median.
// dHash (difference hash): the grayscale picture is area-averaged to 9 columns x 8 rows; bit
// y * 8 + x is 1 when pixel (x, y) is brighter than pixel (x + 1, y).
// Bit 0 is the least significant bit of the std::uint64_t.
//
// Ownership: plain values in and out. Thread-safety: every function may be called from any
// thread at once. Errors are listed per function.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/error.h"

namespace pixvault::media {

struct ImageHashes {
  std::uint64_t phash = 0;
  std::uint64_t dhash = 0;
  friend bool operator==(const ImageHashes&, const ImageHashes&) = default;
};

// An 8-bit grayscale picture, row-major, `width * height` bytes, borrowed.
struct GrayView {
  int width = 0;
  int height = 0;
  std::span<const std::uint8_t> pixels;
};

// Both hashes of `gray`. Errors: kInvalidArgument when the view is empty or its size does not
// match width * height.
[[nodiscard]] Result<ImageHashes> HashGray(const GrayView& gray);

// Both hashes of the image file at `path` (PNG, JPEG, WebP, GIF first frame, TIFF, HEIF, JXL),
// decoded at reduced size (shrink-on-load) with its EXIF orientation applied. Errors as
// RenderThumbnail for images: kInvalidArgument when width * height exceeds `max_pixels` (from
// the header, before decoding), kCorrupt when it cannot be decoded, kUnsupported for other
// formats, kNotFound when the file is missing.
[[nodiscard]] Result<ImageHashes> HashImageFile(const std::filesystem::path& path,
                                                std::int64_t max_pixels = 268'402'689);

// Number of differing bits.
int HammingDistance(std::uint64_t a, std::uint64_t b);

// ---- Banding, for a near-duplicate index ----
//
// A hash is split into 8 bands of 8 bits: band i = (hash >> (8 * i)) & 0xff. Pigeonhole: if
// two hashes differ in d bits, those bits fall into at most d bands, so
//   d <= 7  => at least one band is equal in both hashes;
//   d <= 15 => at least one band differs in at most 1 bit (if all 8 bands differed in >= 2
//              bits, d would be >= 16).
// An index that stores every hash under its 8 (index, band value) keys therefore finds every
// hash within distance d of a query by looking up the keys `CandidateBands` returns, then
// checking the true distance of each candidate.
inline constexpr int kHashBands = 8;
inline constexpr int kMaxBandedDistance = 15;

struct BandKey {
  int index = 0;           // 0..7
  std::uint8_t value = 0;  // the band's 8 bits
  friend bool operator==(const BandKey&, const BandKey&) = default;
};

// Band i of `hash`.
std::uint8_t HashBand(std::uint64_t hash, int index);

// The keys to look up to find every hash within `max_distance` of `hash`: for
// max_distance <= 7 the 8 bands of `hash` itself; for 8..15 each band together with its 8
// one-bit neighbours (72 keys). Errors: kInvalidArgument when max_distance is negative or
// above kMaxBandedDistance (15).
[[nodiscard]] Result<std::vector<BandKey>> CandidateBands(std::uint64_t hash, int max_distance);

}  // namespace pixvault::media
