// Downscaling an image to a provider's pixel limit before it is uploaded there (resolution,
// service/resolver.h): the same picture, at most `max_pixels` large, in the source's format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.h"

namespace pixvault::media {

struct DownscaledImage {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::string mime_type;  // image/jpeg, image/png or image/webp
  std::string extension;  // ".jpg", ".png" or ".webp"
};

// Writes the image at `in` scaled down (aspect ratio kept, EXIF orientation applied, never
// up) so that width x height <= `max_pixels`, to `out_stem` + extension: JPEG (quality 90)
// for JPEG sources, WebP (quality 90) for WebP, PNG (keeping alpha) for everything else.
// `decode_limit` bounds the source's pixels as OpenImageSource does. Returns what it wrote.
// Errors: those of OpenImageSource, kInvalidArgument for max_pixels < 1, kCorrupt when the
// image cannot be decoded, kUnavailable when the output cannot be written (nothing is left
// behind then).
[[nodiscard]] Result<DownscaledImage> DownscaleImageToPixels(const std::filesystem::path& in,
                                                             std::int64_t max_pixels,
                                                             std::int64_t decode_limit,
                                                             const std::filesystem::path& out_stem);

}  // namespace pixvault::media
