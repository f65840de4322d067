#include "media/phash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::JpegWithOrientation;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;

#define PV_MEDIA_OR_SKIP(var, name)                  \
  const std::filesystem::path var = MediaFile(name); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

ImageHashes MustHash(const std::filesystem::path& path) {
  const Result<ImageHashes> hashes = HashImageFile(path);
  EXPECT_TRUE(hashes.has_value()) << path << ": " << hashes.error().message;
  return hashes.value_or(ImageHashes{});
}

TEST(HammingDistance, CountsDifferingBits) {
  EXPECT_EQ(HammingDistance(0, 0), 0);
  EXPECT_EQ(HammingDistance(0, ~std::uint64_t{0}), 64);
  EXPECT_EQ(HammingDistance(0b1011, 0b0110), 3);
}

TEST(HashGray, FlatPictureHasNoBitsSet) {
  const std::vector<std::uint8_t> flat(40 * 30, 100);
  const Result<ImageHashes> hashes = HashGray(GrayView{40, 30, flat});
  ASSERT_TRUE(hashes.has_value()) << hashes.error().message;
  EXPECT_EQ(hashes->phash, 0u);
  EXPECT_EQ(hashes->dhash, 0u);
}

TEST(HashGray, DHashBitIsSetWhenLeftIsBrighter) {
  // Brightness falls from left to right: every "left > right" comparison holds.
  std::vector<std::uint8_t> ramp(90 * 16);
  for (std::size_t y = 0; y < 16; ++y) {
    for (std::size_t x = 0; x < 90; ++x) ramp[y * 90 + x] = static_cast<std::uint8_t>(250 - 2 * x);
  }
  const Result<ImageHashes> hashes = HashGray(GrayView{90, 16, ramp});
  ASSERT_TRUE(hashes.has_value());
  EXPECT_EQ(hashes->dhash, ~std::uint64_t{0});
  // The pHash ignores row 0 / column 0 of the DCT, where a pure horizontal ramp lives; the
  // median split still sets about half the bits.
  EXPECT_LE(std::popcount(hashes->phash), 32);
}

TEST(HashGray, RejectsInconsistentViews) {
  const std::vector<std::uint8_t> pixels(10);
  EXPECT_EQ(HashGray(GrayView{4, 4, pixels}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(HashGray(GrayView{0, 0, {}}).error().code, ErrorCode::kInvalidArgument);
}

TEST(HashImageFile, SimilarPicturesAreClose) {
  PV_MEDIA_OR_SKIP(original, "picture.png");
  const ImageHashes base = MustHash(original);
  for (const char* name : {"picture_q60.jpeg", "picture_half.png", "picture_bright.png"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path path = MediaFile(name);
    if (path.empty()) continue;
    const ImageHashes variant = MustHash(path);
    const int distance = HammingDistance(base.phash, variant.phash);
    RecordProperty(std::string("phash_distance_") + name, distance);
    RecordProperty(std::string("dhash_distance_") + name,
                   HammingDistance(base.dhash, variant.dhash));
    EXPECT_LE(distance, 6);
    EXPECT_LE(HammingDistance(base.dhash, variant.dhash), 10);
  }
}

TEST(HashImageFile, DifferentPicturesAreFar) {
  PV_MEDIA_OR_SKIP(original, "picture.png");
  std::vector<std::pair<std::string, ImageHashes>> all = {{"picture.png", MustHash(original)}};
  for (const char* name : {"picture_later.png", "mandelbrot.png", "smptebars.png"}) {
    const std::filesystem::path path = MediaFile(name);
    if (!path.empty()) all.emplace_back(name, MustHash(path));
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      SCOPED_TRACE(all[i].first + " vs " + all[j].first);
      EXPECT_GT(HammingDistance(all[i].second.phash, all[j].second.phash), 10);
      // testsrc2 at 0 s and 9 s share their layout (only small parts move): the coarse 9x8
      // dHash cannot tell them apart, so it is only held to pictures from other sources.
      if (i == 0 && all[j].first == "picture_later.png") continue;
      EXPECT_GT(HammingDistance(all[i].second.dhash, all[j].second.dhash), 10);
    }
  }
}

TEST(HashImageFile, ExifOrientationIsAppliedBeforeHashing) {
  PV_MEDIA_OR_SKIP(original, "picture.png");
  PV_MEDIA_OR_SKIP(ccw, "picture_ccw.jpeg");  // stored turned 90 degrees counter-clockwise
  const std::filesystem::path tagged = ScratchDir() / "picture_ccw_orientation6.jpeg";
  WriteFile(tagged, JpegWithOrientation(ReadFile(ccw), 6));  // displayed turned back upright
  const ImageHashes upright = MustHash(original);
  EXPECT_GT(HammingDistance(upright.phash, MustHash(ccw).phash), 10);  // the test can fail
  const ImageHashes turned_back = MustHash(tagged);
  EXPECT_LE(HammingDistance(upright.phash, turned_back.phash), 6);
  EXPECT_LE(HammingDistance(upright.dhash, turned_back.dhash), 10);
}

TEST(HashImageFile, ErrorsAreValues) {
  const std::filesystem::path empty = ScratchDir() / "phash_empty.png";
  WriteFile(empty, "");
  EXPECT_EQ(HashImageFile(empty).error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(HashImageFile(ScratchDir() / "phash_missing.png").error().code, ErrorCode::kNotFound);
  PV_MEDIA_OR_SKIP(original, "picture.png");
  EXPECT_EQ(HashImageFile(original, 1000).error().code, ErrorCode::kInvalidArgument);
}

// ---- Banding ----

TEST(CandidateBands, ReturnsTheBandsAndTheirNeighbours) {
  const std::uint64_t hash = 0x0123456789abcdefULL;
  const Result<std::vector<BandKey>> exact = CandidateBands(hash, 7);
  ASSERT_TRUE(exact.has_value());
  ASSERT_EQ(exact->size(), 8u);
  EXPECT_EQ((*exact)[0], (BandKey{0, 0xef}));
  EXPECT_EQ((*exact)[7], (BandKey{7, 0x01}));
  const Result<std::vector<BandKey>> wide = CandidateBands(hash, 15);
  ASSERT_TRUE(wide.has_value());
  EXPECT_EQ(wide->size(), 72u);
  EXPECT_EQ(CandidateBands(hash, 16).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(CandidateBands(hash, -1).error().code, ErrorCode::kInvalidArgument);
}

// Every pair within the distance shares a key: the query's candidates against the 8 keys a
// stored hash is indexed under.
TEST(CandidateBands, FindsEveryHashWithinTheDistance) {
  std::mt19937_64 random(42);
  for (int max_distance = 0; max_distance <= kMaxBandedDistance; ++max_distance) {
    for (int trial = 0; trial < 5000; ++trial) {
      const std::uint64_t query = random();
      // A stored hash exactly d bits away, d <= max_distance, with the bits spread at random.
      const int d = static_cast<int>(random() % static_cast<std::uint64_t>(max_distance + 1));
      std::vector<int> bits(64);
      for (int i = 0; i < 64; ++i) bits[static_cast<std::size_t>(i)] = i;
      std::shuffle(bits.begin(), bits.end(), random);
      std::uint64_t stored = query;
      for (int i = 0; i < d; ++i) stored ^= std::uint64_t{1} << bits[static_cast<std::size_t>(i)];
      ASSERT_EQ(HammingDistance(query, stored), d);

      const std::vector<BandKey> candidates = CandidateBands(query, max_distance).value();
      bool found = false;
      for (int band = 0; band < kHashBands && !found; ++band) {
        const BandKey key{band, HashBand(stored, band)};
        found = std::find(candidates.begin(), candidates.end(), key) != candidates.end();
      }
      ASSERT_TRUE(found) << "max_distance " << max_distance << " d " << d << " query " << query
                         << " stored " << stored;
    }
  }
}

// The worst case the rule relies on: d = 15 spread as 2 bits in 7 bands and 1 in the last.
TEST(CandidateBands, WorstCaseSpreadIsFound) {
  const std::uint64_t query = 0;
  const std::uint64_t stored = 0x0103030303030303ULL;  // bands 0..6: 2 bits, band 7: 1 bit
  ASSERT_EQ(HammingDistance(query, stored), 15);
  const std::vector<BandKey> candidates = CandidateBands(query, 15).value();
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), BandKey{7, 0x01}), candidates.end());
}

}  // namespace
}  // namespace pixvault::media
