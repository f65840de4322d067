// What an encoded image's header bytes say, read without decoding any pixel: the picture size
// (for the textures of 3D models, and for the pixel limit checked before a thumbnail is
// decoded) and whether an ICC profile is embedded.
//
// Thread-safety: pure functions; they never read outside `bytes`. Errors: none; nullopt when
// the bytes are not a format the function knows, are malformed or end too early.
#pragma once

#include <optional>
#include <span>

namespace pixvault::media {

struct ImageSize {
  int width = 0;
  int height = 0;
};

// Knows PNG, JPEG (baseline and progressive SOF markers), GIF, BMP and WebP (VP8, VP8L, VP8X).
[[nodiscard]] std::optional<ImageSize> ImageSizeFromHeader(std::span<const unsigned char> bytes);

enum class HeaderFormat { kPng, kJpeg, kWebp };

struct ImageHeaderInfo {
  ImageSize size;
  // The file embeds an ICC profile: a PNG iCCP chunk before the first IDAT, a JPEG APP2
  // "ICC_PROFILE" segment before the first SOS, or the ICC flag of a WebP VP8X chunk. When in
  // doubt this errs towards true (libvips then colour-manages from an assumed sRGB, which
  // costs time but not correctness).
  bool has_icc_profile = false;
};

// Size and ICC-profile presence of a `format` file whose first bytes are `bytes`: nullopt
// unless the bytes are well-formed `format` up to the point where the answer is certain (the
// first IDAT chunk of a PNG, the first SOS marker of a JPEG, the first chunk of a WebP), so
// that a caller can fall back to the decoder's own header parser.
[[nodiscard]] std::optional<ImageHeaderInfo> ImageInfoFromHeader(
    std::span<const unsigned char> bytes, HeaderFormat format);

}  // namespace pixvault::media
