#include "media/scene_frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace pixvault::media::scene {
namespace {

struct Plane {
  int width, height, stride;
  std::vector<std::uint8_t> pixels;
  PlaneView View() const { return {pixels.data(), stride, width, height}; }
};

// A plane with a few bytes of padding after each row (as decoders lay them out).
Plane RandomPlane(int width, int height, std::uint32_t seed) {
  Plane plane{width, height, width + 7, {}};
  plane.pixels.resize(static_cast<std::size_t>(plane.stride) * static_cast<std::size_t>(height));
  std::mt19937 random(seed);
  for (auto& p : plane.pixels) p = static_cast<std::uint8_t>(random() & 0xff);
  return plane;
}

// Mean of every pixel of each box, rounded to nearest (halves up): what BoxDownscale gives
// when no box is taller than its row budget.
std::vector<std::uint8_t> ExactBoxMeans(const Plane& plane, int dst_width, int dst_height) {
  std::vector<std::uint8_t> out;
  for (int oy = 0; oy < dst_height; ++oy) {
    const int y0 = static_cast<int>(std::int64_t{oy} * plane.height / dst_height);
    const int y1 = static_cast<int>(std::int64_t{oy + 1} * plane.height / dst_height);
    for (int ox = 0; ox < dst_width; ++ox) {
      const int x0 = static_cast<int>(std::int64_t{ox} * plane.width / dst_width);
      const int x1 = static_cast<int>(std::int64_t{ox + 1} * plane.width / dst_width);
      std::uint64_t sum = 0, count = 0;
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
          sum += plane.pixels[static_cast<std::size_t>(y * plane.stride + x)];
          ++count;
        }
      }
      out.push_back(static_cast<std::uint8_t>((sum + count / 2) / count));
    }
  }
  return out;
}

std::vector<std::uint8_t> Downscale(const Plane& plane, int dst_width, int dst_height,
                                    int max_rows) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(dst_width) *
                                static_cast<std::size_t>(dst_height));
  BoxDownscale(plane.View(), dst_width, dst_height, max_rows, out.data());
  return out;
}

TEST(BoxDownscale, BoxesWithinTheRowBudgetAreExactRoundedMeans) {
  // Box widths and heights that vary across the frame (14 and 15 columns, 14 and 15 rows).
  const Plane odd = RandomPlane(1919, 1079, 1);
  EXPECT_EQ(Downscale(odd, 128, 72, 257), ExactBoxMeans(odd, 128, 72));
  // The same size in both directions: a copy.
  const Plane small = RandomPlane(33, 17, 2);
  std::vector<std::uint8_t> unpadded;
  for (int y = 0; y < 17; ++y) {
    const auto row = small.pixels.begin() + y * small.stride;
    unpadded.insert(unpadded.end(), row, row + 33);
  }
  EXPECT_EQ(Downscale(small, 33, 17, 1), unpadded);
}

TEST(BoxDownscale, LargeBoxesRoundExactly) {
  // One box of 4,080 x 257 pixels (just under 2^20, the fixed-point reciprocal's limit) and one
  // of 4,096 x 257 (above it): every pixel 200 but one, so the sum sits just above or below a
  // rounding boundary.
  for (const int width : {4080, 4096}) {
    Plane plane{width, 257, width, {}};
    plane.pixels.assign(static_cast<std::size_t>(width) * 257, 200);
    const std::uint64_t count = static_cast<std::uint64_t>(width) * 257;
    // Raise the sum by count / 2 - 1 (rounds down to 200), then by one more (rounds up).
    std::uint64_t extra = count / 2 - 1;
    for (auto& p : plane.pixels) {
      if (extra == 0) break;
      const auto add = std::min<std::uint64_t>(extra, 55);
      p = static_cast<std::uint8_t>(p + add);
      extra -= add;
    }
    EXPECT_EQ(Downscale(plane, 1, 1, 257), std::vector<std::uint8_t>{200}) << width;
    for (auto& p : plane.pixels) {
      if (p < 255) {
        ++p;
        break;
      }
    }
    EXPECT_EQ(Downscale(plane, 1, 1, 257), std::vector<std::uint8_t>{201}) << width;
    EXPECT_EQ(Downscale(plane, 1, 1, 257), ExactBoxMeans(plane, 1, 1)) << width;
  }
}

TEST(BoxDownscale, TallBoxesAreSampledAcrossTheirHeight) {
  // Each row holds its own index: a box's value is the mean index of the rows it sampled.
  Plane plane{8, 60, 8, {}};
  for (int y = 0; y < 60; ++y) {
    for (int x = 0; x < 8; ++x) plane.pixels.push_back(static_cast<std::uint8_t>(y));
  }
  // Boxes of 15 rows: two rows sampled at 1/4 and 3/4 of each (offsets 3 and 11), four at
  // 1/8, 3/8, 5/8 and 7/8 (offsets 1, 5, 9 and 13); the mean is the box's middle row either
  // way, 7 rows past its top.
  for (const int rows : {2, 4}) {
    const auto out = Downscale(plane, 2, 4, rows);
    EXPECT_EQ(out, (std::vector<std::uint8_t>{7, 7, 22, 22, 37, 37, 52, 52})) << rows;
  }
  // One row: the middle one (offset 7).
  EXPECT_EQ(Downscale(plane, 1, 4, 1), (std::vector<std::uint8_t>{7, 22, 37, 52}));
  // A row budget out of range is clamped: 0 reads one row.
  EXPECT_EQ(Downscale(plane, 1, 4, 0), (std::vector<std::uint8_t>{7, 22, 37, 52}));
}

}  // namespace
}  // namespace pixvault::media::scene
