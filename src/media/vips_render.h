// Internal to src/media: the libvips steps of rendering (open an image file within limits,
// scale, encode WebP, hash), shared by thumbnail.cc and phash.cc.
//
// Thread-safety: every function may be called from any thread; images are not shared.
// Errors are converted from libvips here (VipsError) and nowhere else in the render path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "media/image_header.h"
#include "media/phash.h"
#include "media/raster.h"
#include "media/thumbnail.h"
#include "media/vips_util.h"

namespace pixvault::media {

struct ImageSource {
  VipsSourcePtr source;
  bool has_icc_profile = false;  // the header carries an embedded ICC profile
  // PNG, JPEG and WebP files whose header this project parsed: the format and the size, so
  // ThumbnailFromSource can call the loader itself (no loader search, no header pass).
  std::optional<HeaderFormat> format;
  int width = 0;
  int height = 0;
};

// Opens the image file at `path` for decoding: PNG, JPEG or WebP by its magic bytes, or a
// format whose libvips loader is on the allowlist (FindImageLoader), with the header's
// width * height at most `max_pixels`; nothing is decoded.
// Errors: kNotFound / kUnavailable (unreadable), kCorrupt (no header), kUnsupported,
// kInvalidArgument (too many pixels).
[[nodiscard]] Result<ImageSource> OpenImageSource(const std::filesystem::path& path,
                                                  std::int64_t max_pixels);

// The pixels of vips_thumbnail_source: the first frame scaled down (never up) to fit
// `size` x `size`, shrink-on-load, EXIF orientation applied, colour-managed to sRGB when the
// file embeds an ICC profile. For PNG, JPEG and WebP the loader is called directly with the
// factor vips_thumbnail would choose (vips_render_test compares the pixels), which saves its
// loader searches: a few milliseconds per file, most of the time for small pictures. Decode
// errors and truncation are kCorrupt. The result is lazy: pixels are decoded when it is
// written.
[[nodiscard]] Result<VipsImagePtr> ThumbnailFromSource(const ImageSource& image, int size);

// The same on an image already in memory (used to derive the thumbnail from the preview).
[[nodiscard]] Result<VipsImagePtr> ThumbnailFromImage(VipsImage* image, int size);

// Evaluates `image` into memory, so several outputs can be made from one decode.
[[nodiscard]] Result<VipsImagePtr> Materialise(VipsImage* image);

// Wraps a copy of `raster` (1, 3 or 4 bands) as an sRGB (or B_W) image.
[[nodiscard]] Result<VipsImagePtr> ImageFromRaster(const Raster& raster);

// Rotates clockwise by 0, 90, 180 or 270 degrees.
[[nodiscard]] Result<VipsImagePtr> RotateClockwise(VipsImage* image, std::int64_t degrees);

// Encodes as lossy WebP (alpha kept, metadata stripped). Decoding errors of a lazy image show
// up here and are kCorrupt.
[[nodiscard]] Result<RenderedImage> EncodeWebp(VipsImage* image, int quality);

// pHash and dHash of `image` (any size; alpha flattened onto black, converted to 8-bit sRGB,
// then Rec.601 luma).
[[nodiscard]] Result<ImageHashes> HashImage(VipsImage* image);

// Rec.601 luma of a 3- or 4-band raster (alpha ignored), or the raster itself when 1 band.
std::vector<std::uint8_t> LumaOf(const Raster& raster);

}  // namespace pixvault::media
