// Internal to src/media: an 8-bit interleaved pixel buffer handed from the decoders (FFmpeg,
// the waveform drawer) to the encoder (libvips), and the pixel-count limit shared by the render
// paths.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace pixvault::media {

// `bands` samples per pixel (1 gray, 3 RGB, 4 RGBA), rows packed without padding.
struct Raster {
  int width = 0;
  int height = 0;
  int bands = 0;
  std::vector<std::uint8_t> pixels;
};

// kInvalidArgument naming `what` when width * height is above `max_pixels`.
inline Status CheckPixelLimit(std::int64_t width, std::int64_t height, std::int64_t max_pixels,
                              std::string_view what) {
  const std::int64_t pixels = width * height;
  if (pixels <= max_pixels) return Ok();
  return Fail(ErrorCode::kInvalidArgument,
              std::string(what) + " is " + std::to_string(width) + "x" + std::to_string(height) +
                  " (" + std::to_string(pixels) + " pixels), more than the limit of " +
                  std::to_string(max_pixels) + " pixels");
}

}  // namespace pixvault::media
