#include "media/thumbnail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "media/vips_util.h"
#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::Crc32;
using ::pixvault::media::testing::JpegWithOrientation;
using ::pixvault::media::testing::MediaFile;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;
using ::testing::AnyOf;
using ::testing::HasSubstr;

#define PV_MEDIA_OR_SKIP(var, name)                  \
  const std::filesystem::path var = MediaFile(name); \
  if (var.empty()) GTEST_SKIP() << "ffmpeg cannot produce " << name

// A WebP decoded back with libvips, as 8-bit interleaved samples.
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

Decoded DecodeWebp(const std::string& webp) {
  Decoded out;
  EXPECT_TRUE(EnsureVipsInitialised().has_value());
  const char* loader = vips_foreign_find_load_buffer(webp.data(), webp.size());
  EXPECT_NE(loader, nullptr);
  if (loader == nullptr) return out;
  EXPECT_THAT(std::string(loader), HasSubstr("Webp"));
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

Result<RenderedImage> Thumb(const std::filesystem::path& path, MediaType type, int size = 320) {
  RenderOptions options;
  options.size = size;
  return RenderThumbnail(path, type, options);
}

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

// ---- Video ----

TEST(RenderThumbnail, VideoPosterComesFromTheSharpPart) {
  PV_MEDIA_OR_SKIP(video, "fade_in.mp4");  // black to 2 s, fade to 4 s, testsrc2 to 8 s
  PV_MEDIA_OR_SKIP(still, "image.png");    // a testsrc2 frame, for the expected brightness
  const Result<RenderedImage> poster = Thumb(video, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 320);
  EXPECT_EQ(poster->height, 240);
  const Result<RenderedImage> reference = Thumb(still, MediaType::kImage);
  ASSERT_TRUE(reference.has_value()) << reference.error().message;
  const double mean = DecodeWebp(poster->webp).MeanBrightness();
  const double expected = DecodeWebp(reference->webp).MeanBrightness();
  RecordProperty("poster_mean", std::to_string(mean));
  RecordProperty("testsrc2_mean", std::to_string(expected));
  // A black frame is ~16, a frame in the middle of the fade ~half; the sharp part is full.
  EXPECT_GT(mean, expected * 0.9);
  EXPECT_LT(mean, expected * 1.1);
}

TEST(RenderThumbnail, RotatedVideoGivesAPortraitPoster) {
  PV_MEDIA_OR_SKIP(video, "rotated.mp4");  // 320x240 stored, displayed turned a quarter
  const Result<RenderedImage> poster = Thumb(video, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 240);
  EXPECT_EQ(poster->height, 320);
  const Decoded decoded = DecodeWebp(poster->webp);
  EXPECT_EQ(decoded.width, 240);
  EXPECT_EQ(decoded.height, 320);
}

TEST(RenderThumbnail, HdrVideoIsToneMappedToSdr) {
  PV_MEDIA_OR_SKIP(hdr, "hdr_pq.mp4");  // testsrc2 as PQ 10-bit BT.2020, 100-nit content
  PV_MEDIA_OR_SKIP(sdr, "video.mp4");   // the same pattern in SDR
  const Result<RenderedImage> poster = Thumb(hdr, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 320);
  const Decoded decoded = DecodeWebp(poster->webp);
  ASSERT_EQ(decoded.bands, 3);  // 8-bit (checked in DecodeWebp), RGB
  const Result<RenderedImage> reference = Thumb(sdr, MediaType::kVideo);
  ASSERT_TRUE(reference.has_value()) << reference.error().message;
  const double mean = decoded.MeanBrightness();
  const double expected = DecodeWebp(reference->webp).MeanBrightness();
  RecordProperty("hdr_mean", std::to_string(mean));
  RecordProperty("sdr_mean", std::to_string(expected));
  // Not washed out (PQ code values shown as if SDR look grey and flat) and not black: the
  // Hable curve darkens 100-nit content somewhat, so the mean lands below the SDR one.
  EXPECT_GT(mean, expected * 0.4);
  EXPECT_LT(mean, expected * 1.15);
  // PQ code values for 100-nit content span about half the range: shown without tone mapping
  // the frame has about 0.4 of the SDR contrast (measured with ffmpeg: luma standard deviation
  // 25 against 66); tone-mapped, about 0.6.
  const double contrast = decoded.Contrast();
  const double expected_contrast = DecodeWebp(reference->webp).Contrast();
  RecordProperty("hdr_contrast", std::to_string(contrast));
  RecordProperty("sdr_contrast", std::to_string(expected_contrast));
  EXPECT_GT(contrast, expected_contrast * 0.5);
}

TEST(RenderThumbnail, SingleFrameVideo) {
  PV_MEDIA_OR_SKIP(video, "single_frame.mp4");
  const Result<RenderedImage> poster = Thumb(video, MediaType::kVideo);
  ASSERT_TRUE(poster.has_value()) << poster.error().message;
  EXPECT_EQ(poster->width, 320);
  EXPECT_EQ(poster->height, 240);
  EXPECT_GT(DecodeWebp(poster->webp).MeanBrightness(), 40);
}

TEST(RenderThumbnail, VideoErrors) {
  PV_MEDIA_OR_SKIP(audio, "audio.wav");
  const Result<RenderedImage> no_video = Thumb(audio, MediaType::kVideo);
  ASSERT_FALSE(no_video.has_value());
  EXPECT_EQ(no_video.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(no_video.error().message, HasSubstr("no video stream"));

  PV_MEDIA_OR_SKIP(video, "video.mp4");  // moov at the end: half a file has no index
  const std::string bytes = ReadFile(video);
  const std::filesystem::path truncated = ScratchDir() / "truncated.mp4";
  WriteFile(truncated, bytes.substr(0, bytes.size() / 2));
  const Result<RenderedImage> broken = Thumb(truncated, MediaType::kVideo);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().code, ErrorCode::kCorrupt) << broken.error().message;

  RenderOptions limited;
  limited.max_pixels = 320 * 239;
  const Result<RenderedImage> too_big = RenderThumbnail(video, MediaType::kVideo, limited);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, ErrorCode::kInvalidArgument);
}

TEST(RenderThumbnail, VideoWithFlippedBytesFailsOrRendersWithoutCrashing) {
  PV_MEDIA_OR_SKIP(video, "video.mp4");
  std::string bytes = ReadFile(video);
  std::mt19937 random(11);
  // Damage the frame data (the first 48 bytes hold the ftyp box and mdat header).
  for (int i = 0; i < 200; ++i) {
    const std::size_t at = 48 + random() % (bytes.size() / 2);
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
  }
  const std::filesystem::path damaged = ScratchDir() / "flipped.mp4";
  WriteFile(damaged, bytes);
  const Result<RenderedImage> poster = Thumb(damaged, MediaType::kVideo);
  if (poster.has_value()) {
    EXPECT_EQ(DecodeWebp(poster->webp).width, poster->width);
  } else {
    EXPECT_EQ(poster.error().code, ErrorCode::kCorrupt) << poster.error().message;
  }
}

TEST(RenderDerivatives, VideoPosterIsDecodedOnceForAllThree) {
  PV_MEDIA_OR_SKIP(video, "fade_in.mp4");
  const Result<Derivatives> out = RenderDerivatives(video, MediaType::kVideo);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->preview.width, 320);  // 320x240 source: never enlarged
  EXPECT_EQ(out->thumbnail.width, 320);
  ASSERT_TRUE(out->hashes.has_value());
  EXPECT_NE(out->hashes->phash, 0u);  // not a flat (black) frame
  DerivativeOptions small;
  small.thumbnail_size = 64;
  small.preview_size = 160;
  const Result<Derivatives> scaled = RenderDerivatives(video, MediaType::kVideo, small);
  ASSERT_TRUE(scaled.has_value()) << scaled.error().message;
  EXPECT_EQ(scaled->preview.width, 160);
  EXPECT_EQ(scaled->preview.height, 120);
  EXPECT_EQ(scaled->thumbnail.width, 64);
  EXPECT_EQ(scaled->thumbnail.height, 48);
}

// ---- Audio ----

// Alpha of the pixel (x, y) of an RGBA picture.
int AlphaAt(const Decoded& d, int x, int y) { return d.bands == 4 ? d.At(x, y)[3] : 255; }

TEST(RenderThumbnail, AudioGivesAWaveform) {
  for (const char* name : {"audio.wav", "audio.mp3", "audio.ogg", "audio.flac"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path path = MediaFile(name);
    if (path.empty()) continue;
    const Result<RenderedImage> thumb = Thumb(path, MediaType::kAudio);
    ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
    EXPECT_EQ(thumb->width, 320);
    EXPECT_EQ(thumb->height, 80);
    const Decoded decoded = DecodeWebp(thumb->webp);
    ASSERT_EQ(decoded.bands, 4);
    ASSERT_EQ(decoded.height, 80);
    // lavfi's sine has amplitude 1/8: the wave reaches 5 of the 40 rows above the centre.
    EXPECT_GT(AlphaAt(decoded, 160, 38), 200);
    EXPECT_LT(AlphaAt(decoded, 160, 2), 50);
  }
}

TEST(RenderThumbnail, WaveformFollowsTheLoudness) {
  PV_MEDIA_OR_SKIP(path, "audio_half_silent.wav");  // silent for 1 s, then a sine for 1 s
  const Result<RenderedImage> thumb = Thumb(path, MediaType::kAudio, 400);
  ASSERT_TRUE(thumb.has_value()) << thumb.error().message;
  const Decoded decoded = DecodeWebp(thumb->webp);
  ASSERT_EQ(decoded.width, 400);
  ASSERT_EQ(decoded.height, 100);
  for (const int x : {20, 100, 180}) {
    EXPECT_GT(AlphaAt(decoded, x, 50), 200) << x;  // the centre line
    EXPECT_LT(AlphaAt(decoded, x, 46), 50) << x;   // nothing above it
  }
  for (const int x : {220, 300, 380}) EXPECT_GT(AlphaAt(decoded, x, 46), 200) << x;
}

TEST(RenderThumbnail, AudioErrors) {
  PV_MEDIA_OR_SKIP(video, "video.mp4");
  const Result<RenderedImage> no_audio = Thumb(video, MediaType::kAudio);
  ASSERT_FALSE(no_audio.has_value());
  EXPECT_EQ(no_audio.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(no_audio.error().message, HasSubstr("no audio stream"));
}

TEST(RenderDerivatives, AudioWaveformsAtBothSizesWithoutHashes) {
  PV_MEDIA_OR_SKIP(path, "audio.mp3");
  const Result<Derivatives> out = RenderDerivatives(path, MediaType::kAudio);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->preview.width, 1280);
  EXPECT_EQ(out->preview.height, 320);
  EXPECT_EQ(out->thumbnail.width, 320);
  EXPECT_EQ(out->thumbnail.height, 80);
  EXPECT_EQ(DecodeWebp(out->thumbnail.webp).height, 80);
  EXPECT_FALSE(out->hashes.has_value());
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
