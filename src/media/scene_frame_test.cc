#include "media/scene_frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <tuple>
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

TEST(BoxDownscale, AnOutputLargerThanTheSourceRepeatsItsPixels) {
  // 3x2 into 4x3 (as 4:1:0 chroma of a narrow frame can ask): every output pixel is one
  // source pixel, none is left empty or read past the plane.
  Plane plane{3, 2, 5, {10, 20, 30, 0, 0, 40, 50, 60, 0, 0}};
  EXPECT_EQ(Downscale(plane, 4, 3, 4),
            (std::vector<std::uint8_t>{10, 10, 20, 30, 10, 10, 20, 30, 40, 40, 50, 60}));
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

// AddColours spelled out: each chroma sample with the mean of the (up to) 2x2 luma samples
// under it, to RGB by the frame's matrix and range, binned 4x4x4.
ColourHistogram ReferenceColours(const WorkFrame& f) {
  const double kr = f.bt709 ? 0.2126 : 0.299, kb = f.bt709 ? 0.0722 : 0.114;
  const double kg = 1 - kr - kb;
  const double y_offset = f.full_range ? 0 : 16, y_scale = f.full_range ? 255 : 219;
  const double c_scale = f.full_range ? 255 : 224;
  const int cw = (f.width + 1) / 2, ch = (f.height + 1) / 2;
  ColourHistogram h;
  for (int y = 0; y < ch; ++y) {
    for (int x = 0; x < cw; ++x) {
      double luma = 0;
      int n = 0;
      for (int yy = 2 * y; yy < std::min(2 * y + 2, f.height); ++yy) {
        for (int xx = 2 * x; xx < std::min(2 * x + 2, f.width); ++xx) {
          luma += f.y[static_cast<std::size_t>(yy * f.width + xx)];
          ++n;
        }
      }
      const auto c = static_cast<std::size_t>(y * cw + x);
      const double yv = (luma / n - y_offset) / y_scale;
      const double pb = (f.u[c] - 128.0) / c_scale, pr = (f.v[c] - 128.0) / c_scale;
      const double r = std::clamp(yv + 2 * (1 - kr) * pr, 0.0, 1.0) * 255;
      const double g =
          std::clamp(yv - 2 * kb * (1 - kb) / kg * pb - 2 * kr * (1 - kr) / kg * pr, 0.0, 1.0) *
          255;
      const double b = std::clamp(yv + 2 * (1 - kb) * pb, 0.0, 1.0) * 255;
      const auto bin = [](double v) { return std::min(3, static_cast<int>(v / 64)); };
      auto& slot = h.bins[static_cast<std::size_t>(bin(r) * 16 + bin(g) * 4 + bin(b))];
      slot.count += 1;
      slot.r += r;
      slot.g += g;
      slot.b += b;
    }
  }
  return h;
}

TEST(AddColours, MatchesTheSpelledOutConversionOnOddSizes) {
  std::mt19937 random(7);
  for (const auto& [width, height, full_range, bt709] :
       std::vector<std::tuple<int, int, bool, bool>>{
           {9, 7, false, false}, {8, 6, true, true}, {1, 1, false, true}, {33, 17, true, false}}) {
    WorkFrame f;
    AllocateWorkFrame(width, height, f);
    f.full_range = full_range;
    f.bt709 = bt709;
    for (auto* plane : {&f.y, &f.u, &f.v}) {
      for (auto& p : *plane) p = static_cast<std::uint8_t>(random() & 0xff);
    }
    ColourHistogram got;
    AddColours(f, got);
    const ColourHistogram want = ReferenceColours(f);
    for (std::size_t i = 0; i < want.bins.size(); ++i) {
      // Rounding differs slightly (factors instead of divisions): it could move a value lying
      // exactly on a bin edge, which these frames do not have.
      EXPECT_EQ(got.bins[i].count, want.bins[i].count) << width << "x" << height << " bin " << i;
      EXPECT_NEAR(got.bins[i].r, want.bins[i].r, 1e-6) << width << "x" << height << " bin " << i;
      EXPECT_NEAR(got.bins[i].g, want.bins[i].g, 1e-6) << width << "x" << height << " bin " << i;
      EXPECT_NEAR(got.bins[i].b, want.bins[i].b, 1e-6) << width << "x" << height << " bin " << i;
    }
  }
}

}  // namespace
}  // namespace pixvault::media::scene
