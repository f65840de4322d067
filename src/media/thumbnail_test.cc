#include "media/thumbnail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "media/thumbnail_test_util.h"
#include "media/vips_util.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::Crc32;
using ::pixvault::media::testing::Decoded;
using ::pixvault::media::testing::DecodeWebp;
using ::pixvault::media::testing::JpegWithOrientation;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::media::testing::Thumb;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;
using ::testing::HasSubstr;

bool IsRed(const std::uint8_t* p) { return p[0] > 180 && p[1] < 80 && p[2] < 80; }
// ffmpeg's "blue" comes out of its JPEG as about (84, 16, 250).
bool IsBlue(const std::uint8_t* p) { return p[0] < 120 && p[1] < 80 && p[2] > 180; }

// ---- Images ----

TEST(RenderThumbnail, ImageLongestEdgeIsTheRequestedSize) {
  PV_MEDIA_OR_SKIP(path, "image_large.jpeg");  // 1600x900
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kImage);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->width, 320);
  EXPECT_EQ(thumb->height, 180);
  const Decoded decoded = DecodeWebp(thumb->webp);
  EXPECT_EQ(decoded.width, 320);
  EXPECT_EQ(decoded.height, 180);
  EXPECT_EQ(decoded.bands, 3);
}

TEST(RenderThumbnail, PortraitImageKeepsItsAspect) {
  PV_MEDIA_OR_SKIP(path, "picture_ccw.jpeg");  // 480x640
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kImage, 200);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->width, 150);
  EXPECT_EQ(thumb->height, 200);
}

TEST(RenderThumbnail, SmallImageIsNotEnlarged) {
  PV_MEDIA_OR_SKIP(path, "image.png");  // 320x240
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kImage, 1280);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->width, 320);
  EXPECT_EQ(thumb->height, 240);
  EXPECT_EQ(DecodeWebp(thumb->webp).width, 320);
}

TEST(RenderThumbnail, ExifOrientationIsApplied) {
  PV_MEDIA_OR_SKIP(marker, "image_marker.jpeg");  // 320x160 blue, red box top-left
  const std::filesystem::path rotated = ScratchDir() / "marker_orientation6.jpeg";
  WriteFile(rotated, JpegWithOrientation(ReadFile(marker), 6));

  // Without the tag: as stored.
  const Result<RenderedImage> plain = Thumb(marker, MediaType::kImage);
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->width, 320);
  EXPECT_TRUE(IsRed(DecodeWebp(plain->webp).At(5, 5)));

  // Orientation 6: displayed turned 90 degrees clockwise, so the top-left box is top-right.
  const Result<RenderedImage> thumb = Thumb(rotated, MediaType::kImage);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->width, 160);
  EXPECT_EQ(thumb->height, 320);
  const VipsImagePtr out(
      vips_image_new_from_buffer(thumb->webp.data(), thumb->webp.size(), "", nullptr));
  ASSERT_NE(out, nullptr);
  // Upright pixels must not carry a rotating tag (libvips writes orientation 1 or none).
  EXPECT_EQ(vips_image_get_orientation(out.get()), 1);
  const Decoded decoded = DecodeWebp(thumb->webp);
  ASSERT_EQ(decoded.width, 160);
  EXPECT_TRUE(IsRed(decoded.At(decoded.width - 6, 5)));
  EXPECT_TRUE(IsBlue(decoded.At(5, 5)));
  EXPECT_TRUE(IsBlue(decoded.At(decoded.width - 6, decoded.height - 6)));
}

TEST(RenderThumbnail, AlphaIsKept) {
  PV_MEDIA_OR_SKIP(path, "image_alpha.png");  // 400x300, alpha 50%
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kImage, 200);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->width, 200);
  const Decoded decoded = DecodeWebp(thumb->webp);
  ASSERT_EQ(decoded.bands, 4);
  EXPECT_NEAR(decoded.At(100, 75)[3], 128, 8);
}

TEST(RenderThumbnail, EmbeddedIccProfileIsAppliedAndStripped) {
  PV_MEDIA_OR_SKIP(path, "image.png");
  ASSERT_TRUE(EnsureVipsInitialised().has_value());
  const VipsImagePtr image(vips_image_new_from_file(path.c_str(), nullptr));
  ASSERT_NE(image, nullptr);
  const std::filesystem::path tagged = ScratchDir() / "tagged_srgb.jpeg";
  ASSERT_EQ(vips_jpegsave(image.get(), tagged.c_str(), "profile", "srgb", nullptr), 0);
  const VipsImagePtr check(vips_image_new_from_file(tagged.c_str(), nullptr));
  ASSERT_NE(check, nullptr);
  ASSERT_NE(vips_image_get_typeof(check.get(), VIPS_META_ICC_NAME), 0u);  // the test can fail

  const Result<RenderedImage> thumb = Thumb(tagged, MediaType::kImage, 160);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->width, 160);
  const VipsImagePtr out(
      vips_image_new_from_buffer(thumb->webp.data(), thumb->webp.size(), "", nullptr));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(vips_image_get_typeof(out.get(), VIPS_META_ICC_NAME), 0u);
  const Decoded decoded = DecodeWebp(thumb->webp);
  const Result<RenderedImage> plain = Thumb(path, MediaType::kImage, 160);
  ASSERT_TRUE(plain.has_value());
  EXPECT_NEAR(decoded.MeanBrightness(), DecodeWebp(plain->webp).MeanBrightness(), 6);
}

TEST(RenderThumbnail, ExifOfTheSourceIsNotCopied) {
  PV_MEDIA_OR_SKIP(path, "image.jpeg");
  const std::string jpeg = ReadFile(path);
  // APP1 with a little-endian TIFF IFD of two entries: Make (0x010F, ASCII, 12 bytes at
  // offset 38) and Orientation (0x0112) = 1; then the string.
  const std::string tiff = std::string("II*\0\x08\0\0\0", 8) + std::string("\x02\0", 2) +
                           std::string("\x0F\x01\x02\0\x0C\0\0\0\x26\0\0\0", 12) +
                           std::string("\x12\x01\x03\0\x01\0\0\0\x01\0\0\0", 12) +
                           std::string("\0\0\0\0", 4) + std::string("PIXVAULTCAM\0", 12);
  const std::string app1 = std::string("\xFF\xE1\x00", 3) +
                           std::string(1, static_cast<char>(2 + 6 + tiff.size())) +
                           std::string("Exif\0\0", 6) + tiff;
  const std::filesystem::path tagged = ScratchDir() / "camera_make.jpeg";
  WriteFile(tagged, jpeg.substr(0, 2) + app1 + jpeg.substr(2));
  ASSERT_NE(ReadFile(tagged).find("PIXVAULTCAM"), std::string::npos);

  const Result<RenderedImage> thumb = Thumb(tagged, MediaType::kImage, 160);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  EXPECT_EQ(thumb->webp.find("PIXVAULTCAM"), std::string::npos);
  const Result<Derivatives> derivatives = RenderDerivatives(tagged, MediaType::kImage);
  ASSERT_TRUE(derivatives.has_value()) << derivatives.error().message;
  EXPECT_EQ(derivatives->preview.webp.find("PIXVAULTCAM"), std::string::npos);
}

TEST(RenderThumbnail, AnimatedImagesGiveTheirFirstFrame) {
  for (const char* name : {"image_animated.gif", "image_animated.webp"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path path = MediaFile(name);
    if (path.empty()) continue;
    const Result<RenderedImage> thumb = Thumb(path, MediaType::kImage);
    ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
    EXPECT_EQ(thumb->width, 160);  // one 160x120 frame, not the frames stacked
    EXPECT_EQ(thumb->height, 120);
  }
}

// Rewrites the IHDR size of a real PNG and fixes the chunk's CRC.
std::string PngWithSize(std::string png, std::uint32_t width, std::uint32_t height) {
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  auto put32 = [&png](std::size_t at, std::uint32_t value) {
    for (std::size_t i = 0; i < 4; ++i) {
      png[at + i] = static_cast<char>((value >> (24 - 8 * i)) & 0xFFu);
    }
  };
  put32(16, width);
  put32(20, height);
  put32(29, Crc32(std::string_view(png).substr(12, 17)));
  return png;
}

TEST(RenderThumbnail, HugePngHeaderIsRefusedBeforeDecoding) {
  PV_MEDIA_OR_SKIP(path, "image.png");
  const std::filesystem::path huge = ScratchDir() / "huge_header.png";
  WriteFile(huge, PngWithSize(ReadFile(path), 65000, 65000));
  const Result<RenderedImage> thumb = Thumb(huge, MediaType::kImage);
  ASSERT_FALSE(thumb.has_value());
  EXPECT_EQ(thumb.error().code, ErrorCode::kInvalidArgument) << thumb.error().message;
  EXPECT_THAT(thumb.error().message, HasSubstr("65000x65000"));
  const Result<Derivatives> derivatives = RenderDerivatives(huge, MediaType::kImage);
  ASSERT_FALSE(derivatives.has_value());
  EXPECT_EQ(derivatives.error().code, ErrorCode::kInvalidArgument);

  RenderOptions small;
  small.max_pixels = 320 * 239;
  const Result<RenderedImage> limited = RenderThumbnail(path, MediaType::kImage, small);
  ASSERT_FALSE(limited.has_value());
  EXPECT_EQ(limited.error().code, ErrorCode::kInvalidArgument);
}

TEST(RenderThumbnail, JpegThatLiesAboutItsSizeFailsCleanly) {
  PV_MEDIA_OR_SKIP(path, "image.jpeg");  // 320x240
  std::string jpeg = ReadFile(path);
  const std::size_t sof = jpeg.find("\xFF\xC0", 2);
  ASSERT_NE(sof, std::string::npos);
  // FF C0, length (2), precision (1), height (2), width (2): claim 2400x3200.
  jpeg[sof + 5] = static_cast<char>(3200 >> 8);
  jpeg[sof + 6] = static_cast<char>(3200 & 0xFF);
  jpeg[sof + 7] = static_cast<char>(2400 >> 8);
  jpeg[sof + 8] = static_cast<char>(2400 & 0xFF);
  const std::filesystem::path liar = ScratchDir() / "liar.jpeg";
  WriteFile(liar, jpeg);
  const Result<RenderedImage> thumb = Thumb(liar, MediaType::kImage);
  if (thumb.has_value()) {
    EXPECT_EQ(thumb->width, 240);
    EXPECT_EQ(thumb->height, 320);
  } else {
    EXPECT_EQ(thumb.error().code, ErrorCode::kCorrupt) << thumb.error().message;
  }
}

TEST(RenderThumbnail, TruncatedImagesAreCorrupt) {
  for (const char* name : {"image.jpeg", "image.png", "image.webp"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path path = MediaFile(name);
    if (path.empty()) continue;
    const std::string bytes = ReadFile(path);
    const std::filesystem::path truncated = ScratchDir() / (std::string("truncated_") + name);
    WriteFile(truncated, bytes.substr(0, bytes.size() / 2));
    const Result<RenderedImage> thumb = Thumb(truncated, MediaType::kImage);
    ASSERT_FALSE(thumb.has_value());
    EXPECT_EQ(thumb.error().code, ErrorCode::kCorrupt) << thumb.error().message;
  }
}

TEST(RenderThumbnail, UnreadableFilesAreErrorsForEveryType) {
  const std::filesystem::path empty = ScratchDir() / "empty.bin";
  WriteFile(empty, "");
  std::mt19937 random(7);
  std::string noise(64 * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(random() & 0xFF);
  const std::filesystem::path random_bytes = ScratchDir() / "random.bin";
  WriteFile(random_bytes, noise);
  for (const MediaType type : {MediaType::kImage, MediaType::kVideo, MediaType::kAudio}) {
    for (const auto& path : {empty, random_bytes}) {
      SCOPED_TRACE(path.filename().string() + " as type " + std::to_string(static_cast<int>(type)));
      const Result<RenderedImage> thumb = Thumb(path, type);
      ASSERT_FALSE(thumb.has_value());
      EXPECT_EQ(thumb.error().code, ErrorCode::kCorrupt) << thumb.error().message;
      EXPECT_FALSE(RenderDerivatives(path, type).has_value());
    }
  }
  const Result<RenderedImage> missing = Thumb(ScratchDir() / "missing.png", MediaType::kImage);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound) << missing.error().message;
}

TEST(RenderThumbnail, ModelsHaveNoRenderer) {
  PV_MEDIA_OR_SKIP(path, "image.png");
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kModel3d);
  ASSERT_FALSE(thumb.has_value());
  EXPECT_EQ(thumb.error().code, ErrorCode::kUnsupported);
}

TEST(RenderThumbnail, OptionsAreChecked) {
  PV_MEDIA_OR_SKIP(path, "image.png");
  EXPECT_EQ(Thumb(path, MediaType::kImage, 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Thumb(path, MediaType::kImage, 20000).error().code, ErrorCode::kInvalidArgument);
  RenderOptions bad_quality;
  bad_quality.webp_quality = 0;
  EXPECT_EQ(RenderThumbnail(path, MediaType::kImage, bad_quality).error().code,
            ErrorCode::kInvalidArgument);
  DerivativeOptions inverted;
  inverted.thumbnail_size = 640;
  inverted.preview_size = 320;
  EXPECT_EQ(RenderDerivatives(path, MediaType::kImage, inverted).error().code,
            ErrorCode::kInvalidArgument);
}

TEST(RenderDerivatives, ImageGivesThumbnailPreviewAndHashesFromOneDecode) {
  PV_MEDIA_OR_SKIP(path, "image_large.jpeg");  // 1600x900
  const Result<Derivatives> out = RenderDerivatives(path, MediaType::kImage);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->preview.width, 1280);
  EXPECT_EQ(out->preview.height, 720);
  EXPECT_EQ(out->thumbnail.width, 320);
  EXPECT_EQ(out->thumbnail.height, 180);
  EXPECT_EQ(DecodeWebp(out->preview.webp).width, 1280);
  EXPECT_EQ(DecodeWebp(out->thumbnail.webp).width, 320);
  ASSERT_TRUE(out->hashes.has_value());
  const Result<ImageHashes> direct = HashImageFile(path);
  ASSERT_TRUE(direct.has_value()) << direct.error().message;
  EXPECT_LE(HammingDistance(out->hashes->phash, direct->phash), 4);
  EXPECT_LE(HammingDistance(out->hashes->dhash, direct->dhash), 6);
}

TEST(RenderDerivatives, ImageWithAlphaIsHashed) {
  PV_MEDIA_OR_SKIP(path, "image_alpha.png");
  const Result<Derivatives> out = RenderDerivatives(path, MediaType::kImage);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_TRUE(out->hashes.has_value());
  EXPECT_NE(out->hashes->phash, 0u);
  EXPECT_EQ(DecodeWebp(out->preview.webp).bands, 4);
}

}  // namespace
}  // namespace pixvault::media
