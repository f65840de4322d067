#include "media/vips_render.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "testing/temp_dir.h"
#include "testing/test_media.h"

namespace pixvault::media {
namespace {

using ::pixvault::media::testing::GeneratedFile;
using ::pixvault::media::testing::JpegWithOrientation;
using ::pixvault::media::testing::ScratchDir;
using ::pixvault::testing::ReadFile;
using ::pixvault::testing::WriteFile;

struct Pixels {
  int width = 0;
  int height = 0;
  int bands = 0;
  VipsBandFormat format = VIPS_FORMAT_NOTSET;
  std::string bytes;
};

Pixels Evaluate(VipsImage* image) {
  Pixels out;
  out.width = vips_image_get_width(image);
  out.height = vips_image_get_height(image);
  out.bands = vips_image_get_bands(image);
  out.format = vips_image_get_format(image);
  std::size_t size = 0;
  void* memory = vips_image_write_to_memory(image, &size);
  EXPECT_NE(memory, nullptr) << vips_error_buffer();
  if (memory != nullptr) out.bytes.assign(static_cast<const char*>(memory), size);
  g_free(memory);
  return out;
}

// The thumbnail of `path` through ThumbnailFromSource as it runs (for PNG, JPEG and WebP: the
// loader called directly) and through libvips' own vips_thumbnail_source (the path every other
// format takes), decoded to pixels.
void ExpectSamePixelsAsVipsThumbnail(const std::filesystem::path& path, int size) {
  SCOPED_TRACE(path.filename().string() + " at " + std::to_string(size));
  ASSERT_FALSE(path.empty()) << "ffmpeg could not make the file";
  Result<ImageSource> direct = OpenImageSource(path, 1LL << 30);
  ASSERT_TRUE(direct.has_value()) << direct.error().message;
  ASSERT_TRUE(direct->format.has_value()) << "the direct path is not taken";
  Result<ImageSource> generic = OpenImageSource(path, 1LL << 30);
  ASSERT_TRUE(generic.has_value()) << generic.error().message;
  generic->format.reset();

  const Result<VipsImagePtr> fast = ThumbnailFromSource(*direct, size);
  ASSERT_TRUE(fast.has_value()) << fast.error().message;
  const Result<VipsImagePtr> reference = ThumbnailFromSource(*generic, size);
  ASSERT_TRUE(reference.has_value()) << reference.error().message;
  const Pixels a = Evaluate(fast->get());
  const Pixels b = Evaluate(reference->get());
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.bands, b.bands);
  EXPECT_EQ(a.format, b.format);
  EXPECT_GT(a.bytes.size(), 0u);
  EXPECT_TRUE(a.bytes == b.bytes) << "the pixels differ";
}

std::filesystem::path Picture(std::string_view name, std::string_view size,
                              std::string_view encode) {
  return GeneratedFile(name, "-f lavfi -i testsrc2=size=" + std::string(size) + " -frames:v 1 " +
                                 std::string(encode) + " -f image2");
}

constexpr std::string_view kJpeg = "-c:v mjpeg -q:v 3 -pix_fmt yuvj420p";

// Every JPEG shrink-on-load factor (1, 2, 4 and 8) and its edges.
TEST(ThumbnailFromSource, JpegGivesTheSamePixelsAsVipsThumbnail) {
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_640x480.jpeg", "640x480", kJpeg), 320);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_1600x900.jpeg", "1600x900", kJpeg), 320);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_1600x900.jpeg", "1600x900", kJpeg), 400);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_4000x3000.jpeg", "4000x3000", kJpeg), 320);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_4000x3000.jpeg", "4000x3000", kJpeg), 250);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_4000x3000.jpeg", "4000x3000", kJpeg), 1280);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_900x2400.jpeg", "900x2400", kJpeg), 150);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_grey.jpeg", "1280x720", "-c:v mjpeg -pix_fmt gray"), 160);
  // Smaller than the thumbnail: never enlarged.
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_200x100.jpeg", "200x100", kJpeg), 320);
}

TEST(ThumbnailFromSource, RotatedJpegGivesTheSamePixelsAsVipsThumbnail) {
  const std::filesystem::path plain = Picture("direct_rot.jpeg", "1600x900", kJpeg);
  ASSERT_FALSE(plain.empty());
  const std::filesystem::path rotated = ScratchDir() / "direct_rot6.jpeg";
  WriteFile(rotated, JpegWithOrientation(ReadFile(plain), 6));
  ExpectSamePixelsAsVipsThumbnail(rotated, 320);
}

TEST(ThumbnailFromSource, JpegWithAnIccProfileGivesTheSamePixelsAsVipsThumbnail) {
  const std::filesystem::path plain = Picture("direct_icc_src.jpeg", "1600x900", kJpeg);
  ASSERT_FALSE(plain.empty());
  const VipsImagePtr image(vips_image_new_from_file(plain.c_str(), nullptr));
  ASSERT_NE(image, nullptr);
  const std::filesystem::path tagged = ScratchDir() / "direct_icc.jpeg";
  ASSERT_EQ(vips_jpegsave(image.get(), tagged.c_str(), "profile", "srgb", nullptr), 0);
  const Result<ImageSource> source = OpenImageSource(tagged, 1LL << 30);
  ASSERT_TRUE(source.has_value());
  ASSERT_TRUE(source->has_icc_profile);  // the case this test is about
  ExpectSamePixelsAsVipsThumbnail(tagged, 320);
}

TEST(ThumbnailFromSource, WebpGivesTheSamePixelsAsVipsThumbnail) {
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_1920x1080.webp", "1920x1080", "-c:v libwebp -quality 85"), 320);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_1920x1080.webp", "1920x1080", "-c:v libwebp -quality 85"), 1000);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_alpha.webp", "1000x700",
              "-vf format=rgba,colorchannelmixer=aa=0.5 -c:v libwebp -quality 85"),
      200);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_small.webp", "200x150", "-c:v libwebp -quality 85"), 320);
}

// PNG has no shrink-on-load; the direct path does the resampling steps itself.
TEST(ThumbnailFromSource, PngGivesTheSamePixelsAsVipsThumbnail) {
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_rgb.png", "1920x1080", "-c:v png"), 320);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_rgb.png", "1920x1080", "-c:v png"), 1280);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_rgba.png", "1000x700", "-vf format=rgba,colorchannelmixer=aa=0.5 -c:v png"),
      200);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_grey.png", "1000x700", "-pix_fmt gray -c:v png"),
                                  200);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_grey_alpha.png", "1000x700", "-pix_fmt ya8 -c:v png"), 200);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_16bit.png", "1000x700", "-pix_fmt rgb48be -c:v png"), 200);
  ExpectSamePixelsAsVipsThumbnail(
      Picture("direct_palette.png", "1000x700", "-pix_fmt pal8 -c:v png"), 200);
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_tall.png", "300x1500", "-c:v png"), 320);
  // Smaller than the thumbnail: never enlarged (and alpha with a shrink of 1).
  ExpectSamePixelsAsVipsThumbnail(Picture("direct_small_alpha.png", "200x100",
                                          "-vf format=rgba,colorchannelmixer=aa=0.5 -c:v png"),
                                  320);
}

// A PNG with an eXIf chunk carrying `orientation` (the TIFF block JpegWithOrientation puts in
// a JPEG's APP1), inserted after IHDR.
std::string PngWithOrientation(const std::string& png, int orientation) {
  const std::string jpeg = JpegWithOrientation(std::string("\xff\xd8\xff\xd9", 4), orientation);
  // SOI, then APP1: FF E1, a 2-byte length (counting itself), "Exif\0\0", the TIFF block.
  const std::size_t length =
      (static_cast<unsigned char>(jpeg[4]) << 8) | static_cast<unsigned char>(jpeg[5]);
  const std::string tiff = jpeg.substr(2 + 2 + 2 + 6, length - 2 - 6);
  std::string chunk;
  for (const int shift : {24, 16, 8, 0}) chunk += static_cast<char>((tiff.size() >> shift) & 0xff);
  const std::string body = "eXIf" + tiff;
  const std::uint32_t crc = ::pixvault::media::testing::Crc32(body);
  chunk += body;
  for (const int shift : {24, 16, 8, 0}) chunk += static_cast<char>((crc >> shift) & 0xff);
  constexpr std::size_t kAfterIhdr = 8 + 4 + 4 + 13 + 4;
  return png.substr(0, kAfterIhdr) + chunk + png.substr(kAfterIhdr);
}

TEST(ThumbnailFromSource, RotatedPngGivesTheSamePixelsAsVipsThumbnail) {
  const std::filesystem::path plain = Picture("direct_rot.png", "1000x500", "-c:v png");
  ASSERT_FALSE(plain.empty());
  const std::filesystem::path rotated = ScratchDir() / "direct_rot6.png";
  WriteFile(rotated, PngWithOrientation(ReadFile(plain), 6));
  const VipsImagePtr check(vips_image_new_from_file(rotated.c_str(), nullptr));
  ASSERT_NE(check, nullptr) << vips_error_buffer();
  ASSERT_EQ(vips_image_get_orientation(check.get()), 6);  // the case this test is about
  ExpectSamePixelsAsVipsThumbnail(rotated, 200);
  const Result<ImageSource> source = OpenImageSource(rotated, 1LL << 30);
  ASSERT_TRUE(source.has_value());
  const Result<VipsImagePtr> thumb = ThumbnailFromSource(*source, 200);
  ASSERT_TRUE(thumb.has_value());
  EXPECT_EQ(vips_image_get_width(thumb->get()), 100);  // upright: 500 wide, 1000 high
  EXPECT_EQ(vips_image_get_height(thumb->get()), 200);
}

TEST(ThumbnailFromSource, TruncatedFilesFailOnTheDirectPath) {
  for (const auto& [name, encode] :
       std::vector<std::pair<std::string, std::string>>{{"direct_cut.jpeg", std::string(kJpeg)},
                                                        {"direct_cut.png", "-c:v png"},
                                                        {"direct_cut.webp", "-c:v libwebp"}}) {
    SCOPED_TRACE(name);
    const std::filesystem::path whole = Picture("whole_" + name, "1600x900", encode);
    ASSERT_FALSE(whole.empty());
    const std::string bytes = ReadFile(whole);
    const std::filesystem::path cut = ScratchDir() / name;
    WriteFile(cut, bytes.substr(0, bytes.size() * 2 / 3));
    const Result<ImageSource> source = OpenImageSource(cut, 1LL << 30);
    ASSERT_TRUE(source.has_value()) << source.error().message;  // the header is intact
    ASSERT_TRUE(source->format.has_value());
    const Result<VipsImagePtr> thumb = ThumbnailFromSource(*source, 320);
    if (!thumb.has_value()) {
      EXPECT_EQ(thumb.error().code, ErrorCode::kCorrupt);
      continue;
    }
    // Lazy: the error shows when the pixels are written.
    std::size_t size = 0;
    void* memory = vips_image_write_to_memory(thumb->get(), &size);
    EXPECT_EQ(memory, nullptr) << "a truncated file decoded without an error";
    g_free(memory);
    vips_error_clear();
  }
}

}  // namespace
}  // namespace pixvault::media
