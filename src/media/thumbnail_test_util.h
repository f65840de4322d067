// Test-only helpers of the thumbnail tests: WebP output decoded back with libvips.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "media/thumbnail.h"
#include "media/vips_util.h"
#include "testing/test_media.h"

#define PV_MEDIA_OR_SKIP(var, name)                                              \
  const std::filesystem::path var = ::pixvault::media::testing::MediaFile(name); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

namespace pixvault::media::testing {

struct Decoded {
  int width = 0;
  int height = 0;
  int bands = 0;
  std::vector<std::uint8_t> pixels;

  const std::uint8_t* At(int x, int y) const {
    return &pixels[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                    static_cast<std::size_t>(x)) *
                   static_cast<std::size_t>(bands)];
  }
  // Mean of the first three bands (or the only one) over the whole picture.
  double MeanBrightness() const {
    double sum = 0;
    const int colour_bands = bands >= 3 ? 3 : 1;
    for (std::size_t i = 0; i < pixels.size(); ++i) {
      if (static_cast<int>(i % static_cast<std::size_t>(bands)) < colour_bands) sum += pixels[i];
    }
    return sum / (static_cast<double>(pixels.size()) / bands * colour_bands);
  }
  // Mean of each of the first three bands (all the same for a one-band picture).
  std::array<double, 3> MeanRgb() const {
    std::array<double, 3> sum{};
    const std::size_t n = pixels.size() / static_cast<std::size_t>(bands);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t b = 0; b < 3; ++b) {
        sum[b] += pixels[i * static_cast<std::size_t>(bands) + (bands >= 3 ? b : std::size_t{0})];
      }
    }
    for (double& v : sum) v /= static_cast<double>(n);
    return sum;
  }
  // Standard deviation of the first band: the picture's contrast.
  double Contrast() const {
    double sum = 0, sum_sq = 0;
    const std::size_t n = pixels.size() / static_cast<std::size_t>(bands);
    for (std::size_t i = 0; i < n; ++i) {
      const double v = pixels[i * static_cast<std::size_t>(bands)];
      sum += v;
      sum_sq += v * v;
    }
    const double mean = sum / static_cast<double>(n);
    return std::sqrt(sum_sq / static_cast<double>(n) - mean * mean);
  }
};

inline Decoded DecodeWebp(const std::string& webp) {
  Decoded out;
  EXPECT_TRUE(EnsureVipsInitialised().has_value());
  const char* loader = vips_foreign_find_load_buffer(webp.data(), webp.size());
  EXPECT_NE(loader, nullptr);
  if (loader == nullptr) return out;
  EXPECT_THAT(std::string(loader), ::testing::HasSubstr("Webp"));
  const VipsImagePtr image(vips_image_new_from_buffer(webp.data(), webp.size(), "", nullptr));
  EXPECT_NE(image, nullptr);
  if (image == nullptr) return out;
  EXPECT_EQ(vips_image_get_format(image.get()), VIPS_FORMAT_UCHAR);
  out.width = vips_image_get_width(image.get());
  out.height = vips_image_get_height(image.get());
  out.bands = vips_image_get_bands(image.get());
  std::size_t size = 0;
  void* memory = vips_image_write_to_memory(image.get(), &size);
  EXPECT_NE(memory, nullptr);
  if (memory == nullptr) return out;
  const auto* bytes = static_cast<const std::uint8_t*>(memory);
  out.pixels.assign(bytes, bytes + size);
  g_free(memory);
  return out;
}

inline Result<RenderedImage> Thumb(const std::filesystem::path& path, MediaType type,
                                   int size = 320) {
  RenderOptions options;
  options.size = size;
  return RenderThumbnail(path, type, options);
}

// Alpha of the pixel (x, y) of a decoded picture (255 without an alpha band).
inline int AlphaAt(const Decoded& d, int x, int y) { return d.bands == 4 ? d.At(x, y)[3] : 255; }

}  // namespace pixvault::media::testing
