// Picture size of an encoded image read from its header bytes only (no pixel is decoded), for
// the textures of 3D models. Knows PNG, JPEG (baseline and progressive SOF markers), GIF, BMP
// and WebP (VP8, VP8L, VP8X).
//
// Thread-safety: pure function. Errors: none; nullopt when the bytes are not one of these
// formats or the header is cut short.
#pragma once

#include <optional>
#include <span>

namespace pixvault::media {

struct ImageSize {
  int width = 0;
  int height = 0;
};

[[nodiscard]] std::optional<ImageSize> ImageSizeFromHeader(std::span<const unsigned char> bytes);

}  // namespace pixvault::media
