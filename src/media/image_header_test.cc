#include "media/image_header.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "media/vips_util.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

std::span<const unsigned char> Bytes(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

// A 97x61 sRGB picture (odd sizes, so width and height cannot be swapped unnoticed).
VipsImagePtr Picture() {
  EXPECT_TRUE(EnsureVipsInitialised().has_value());
  VipsImage* black = nullptr;
  EXPECT_EQ(vips_black(&black, 97, 61, "bands", 3, nullptr), 0);
  const VipsImagePtr owned(black);
  VipsImage* out = nullptr;
  EXPECT_EQ(vips_copy(owned.get(), &out, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr), 0);
  VipsImagePtr copy(out);
  out = nullptr;
  EXPECT_EQ(vips_cast_uchar(copy.get(), &out, nullptr), 0);
  return VipsImagePtr(out);
}

// Owns the g_malloc'd output of a libvips *save_buffer call that returned `rc`.
std::string Take(int rc, void* buffer, std::size_t length) {
  EXPECT_EQ(rc, 0) << vips_error_buffer();
  std::string bytes(buffer == nullptr ? "" : static_cast<const char*>(buffer),
                    buffer == nullptr ? 0 : length);
  g_free(buffer);
  return bytes;
}

std::string Save(VipsImage* image, HeaderFormat format) {
  void* buffer = nullptr;
  std::size_t length = 0;
  int rc = -1;
  switch (format) {
    case HeaderFormat::kPng:
      rc = vips_pngsave_buffer(image, &buffer, &length, nullptr);
      break;
    case HeaderFormat::kJpeg:
      rc = vips_jpegsave_buffer(image, &buffer, &length, nullptr);
      break;
    case HeaderFormat::kWebp:
      rc = vips_webpsave_buffer(image, &buffer, &length, nullptr);
      break;
  }
  return Take(rc, buffer, length);
}

// The picture with libvips' built-in sRGB profile attached, the way a camera or an editor
// tags its files.
VipsImagePtr TaggedPicture() {
  const VipsImagePtr plain = Picture();
  void* buffer = nullptr;
  std::size_t length = 0;
  const int rc = vips_jpegsave_buffer(plain.get(), &buffer, &length, "profile", "srgb", nullptr);
  const std::string jpeg = Take(rc, buffer, length);
  VipsImagePtr tagged(vips_image_new_from_buffer(jpeg.data(), jpeg.size(), "", nullptr));
  EXPECT_NE(tagged, nullptr);
  VipsImage* out = nullptr;  // decoded now: the buffer above is gone after return
  EXPECT_EQ(vips_copy(tagged.get(), &out, nullptr), 0);
  return VipsImagePtr(vips_image_copy_memory(VipsImagePtr(out).get()));
}

// What libvips' own header reading says: the reference the parser must agree with.
struct Truth {
  int width = 0;
  int height = 0;
  bool icc = false;
};
Truth VipsHeader(const std::string& bytes) {
  const VipsImagePtr image(vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr));
  EXPECT_NE(image, nullptr);
  if (image == nullptr) return {};
  return {vips_image_get_width(image.get()), vips_image_get_height(image.get()),
          vips_image_get_typeof(image.get(), VIPS_META_ICC_NAME) != 0};
}

struct Sample {
  const char* name;
  HeaderFormat format;
  bool tagged;
};
constexpr Sample kSamples[] = {
    {"png", HeaderFormat::kPng, false},   {"png+icc", HeaderFormat::kPng, true},
    {"jpeg", HeaderFormat::kJpeg, false}, {"jpeg+icc", HeaderFormat::kJpeg, true},
    {"webp", HeaderFormat::kWebp, false}, {"webp+icc", HeaderFormat::kWebp, true},
};

std::string Encode(const Sample& sample) {
  const VipsImagePtr image = sample.tagged ? TaggedPicture() : Picture();
  return Save(image.get(), sample.format);
}

TEST(ImageInfoFromHeader, AgreesWithLibvipsOnFilesWithAndWithoutIccProfiles) {
  for (const Sample& sample : kSamples) {
    SCOPED_TRACE(sample.name);
    const std::string bytes = Encode(sample);
    const Truth truth = VipsHeader(bytes);
    ASSERT_EQ(truth.icc, sample.tagged);  // otherwise the file does not test what it should
    const std::optional<ImageHeaderInfo> info = ImageInfoFromHeader(Bytes(bytes), sample.format);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->size.width, truth.width);
    EXPECT_EQ(info->size.height, truth.height);
    EXPECT_EQ(info->has_icc_profile, truth.icc);
  }
}

// ffmpeg writes JFIF JPEGs and simple-format (VP8) WebPs, which libvips does not.
TEST(ImageInfoFromHeader, AgreesWithLibvipsOnFfmpegFiles) {
  for (const auto& [name, format] :
       {std::pair{"image.png", HeaderFormat::kPng}, std::pair{"image.jpeg", HeaderFormat::kJpeg},
        std::pair{"image.webp", HeaderFormat::kWebp}}) {
    SCOPED_TRACE(name);
    const std::filesystem::path path = testing::MediaFile(name);
    if (path.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name;
    const std::string bytes = ::pixvault::testing::ReadFile(path);
    const Truth truth = VipsHeader(bytes);
    const std::optional<ImageHeaderInfo> info = ImageInfoFromHeader(Bytes(bytes), format);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->size.width, truth.width);
    EXPECT_EQ(info->size.height, truth.height);
    EXPECT_EQ(info->has_icc_profile, truth.icc);
  }
}

TEST(ImageInfoFromHeader, EveryTruncatedHeaderGivesNothingOrTheRightAnswer) {
  for (const Sample& sample : kSamples) {
    SCOPED_TRACE(sample.name);
    const std::string bytes = Encode(sample);
    const std::optional<ImageHeaderInfo> full = ImageInfoFromHeader(Bytes(bytes), sample.format);
    ASSERT_TRUE(full.has_value());
    bool answered = false;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      // An exact-size heap copy, so that a read past the end is caught by ASan.
      const std::vector<unsigned char> prefix(bytes.begin(), bytes.begin() + static_cast<long>(n));
      const std::optional<ImageHeaderInfo> info = ImageInfoFromHeader(prefix, sample.format);
      if (!info) continue;
      answered = true;
      EXPECT_EQ(info->size.width, full->size.width) << n;
      EXPECT_EQ(info->size.height, full->size.height) << n;
      EXPECT_EQ(info->has_icc_profile, full->has_icc_profile) << n;
    }
    EXPECT_TRUE(answered);
  }
}

TEST(ImageInfoFromHeader, OtherFormatsAreNotGuessed) {
  const std::string png = Save(Picture().get(), HeaderFormat::kPng);
  const std::string jpeg = Save(Picture().get(), HeaderFormat::kJpeg);
  EXPECT_FALSE(ImageInfoFromHeader(Bytes(png), HeaderFormat::kJpeg).has_value());
  EXPECT_FALSE(ImageInfoFromHeader(Bytes(png), HeaderFormat::kWebp).has_value());
  EXPECT_FALSE(ImageInfoFromHeader(Bytes(jpeg), HeaderFormat::kPng).has_value());
  EXPECT_FALSE(ImageInfoFromHeader(Bytes(std::string("GIF89a\x10\0\x10\0", 10)), HeaderFormat::kPng)
                   .has_value());
  EXPECT_FALSE(ImageInfoFromHeader({}, HeaderFormat::kWebp).has_value());
}

TEST(ImageInfoFromHeader, MalformedHeadersGiveNothing) {
  const std::string png = Save(Picture().get(), HeaderFormat::kPng);
  {
    std::string bad = png;  // the chunk after IHDR claims 4 GiB
    bad.replace(33, 4, "\xFF\xFF\xFF\xFF");
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kPng).has_value());
  }
  {
    std::string bad = png;  // IHDR of the wrong length
    bad[11] = 14;
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kPng).has_value());
  }
  {
    std::string bad = png;  // width 0
    bad.replace(16, 4, std::string(4, '\0'));
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kPng).has_value());
  }
  const std::string jpeg = Save(Picture().get(), HeaderFormat::kJpeg);
  {
    // A scan before any frame header.
    const std::string bad = std::string("\xFF\xD8\xFF\xDA\x00\x08", 6) + jpeg.substr(2);
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kJpeg).has_value());
  }
  {
    // A segment length of 1 (less than its own two bytes).
    const std::string bad = std::string("\xFF\xD8\xFF\xE1\x00\x01", 6) + jpeg.substr(2);
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kJpeg).has_value());
  }
  {
    // A frame header too short to hold a size.
    const std::string bad = std::string("\xFF\xD8\xFF\xC0\x00\x04\x08\x00", 8) + jpeg.substr(2);
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kJpeg).has_value());
  }
  const std::string webp = Save(Picture().get(), HeaderFormat::kWebp);
  {
    std::string bad = webp;  // an unknown first chunk
    bad.replace(12, 4, "ABCD");
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kWebp).has_value());
  }
  {
    std::string bad = webp;  // a VP8 chunk without its start code
    bad.replace(12, 4, "VP8 ");
    EXPECT_FALSE(ImageInfoFromHeader(Bytes(bad), HeaderFormat::kWebp).has_value());
  }
}

TEST(ImageInfoFromHeader, JpegProfileAfterLargeSegmentsIsFound) {
  const VipsImagePtr tagged = TaggedPicture();
  const std::string jpeg = Save(tagged.get(), HeaderFormat::kJpeg);
  // Three maximal comment segments (as a camera's EXIF block would be) before the rest.
  std::string padded = jpeg.substr(0, 2);
  for (int i = 0; i < 3; ++i) padded += "\xFF\xFE\xFF\xFF" + std::string(0xFFFF - 2, 'x');
  padded += jpeg.substr(2);
  ASSERT_TRUE(VipsHeader(padded).icc);
  const std::optional<ImageHeaderInfo> info =
      ImageInfoFromHeader(Bytes(padded), HeaderFormat::kJpeg);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->has_icc_profile);
  EXPECT_EQ(info->size.width, 97);
  EXPECT_FALSE(ImageInfoFromHeader(Bytes(padded).first(100'000), HeaderFormat::kJpeg));
}

TEST(ImageInfoFromHeader, RandomlyDamagedHeadersNeverReadOutOfBounds) {
  std::mt19937 random(42);
  for (const Sample& sample : kSamples) {
    SCOPED_TRACE(sample.name);
    const std::string bytes = Encode(sample);
    const std::size_t head = std::min<std::size_t>(bytes.size(), 1024);
    for (int round = 0; round < 2000; ++round) {
      std::vector<unsigned char> damaged(bytes.begin(),
                                         bytes.begin() + static_cast<long>(random() % head + 1));
      for (int flips = 0; flips < 4; ++flips) {
        damaged[random() % damaged.size()] = static_cast<unsigned char>(random());
      }
      for (const HeaderFormat format :
           {HeaderFormat::kPng, HeaderFormat::kJpeg, HeaderFormat::kWebp}) {
        if (const auto info = ImageInfoFromHeader(damaged, format)) {
          EXPECT_GT(info->size.width, 0);
          EXPECT_GT(info->size.height, 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace pixvault::media
