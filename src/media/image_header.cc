#include "media/image_header.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pixvault::media {
namespace {

std::uint32_t Be16(const unsigned char* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t Be32(const unsigned char* p) { return (Be16(p) << 16) | Be16(p + 2); }
std::uint32_t Le16(const unsigned char* p) { return (std::uint32_t{p[1]} << 8) | p[0]; }
std::uint32_t Le24(const unsigned char* p) { return (std::uint32_t{p[2]} << 16) | Le16(p); }
std::uint32_t Le32(const unsigned char* p) { return (Le16(p + 2) << 16) | Le16(p); }

std::optional<ImageSize> Make(std::uint32_t width, std::uint32_t height) {
  if (width == 0 || height == 0 || width > 1'000'000 || height > 1'000'000) return std::nullopt;
  return ImageSize{static_cast<int>(width), static_cast<int>(height)};
}

std::optional<ImageSize> Jpeg(std::span<const unsigned char> b) {
  std::size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) return std::nullopt;
    const unsigned char marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;  // markers without a length
      continue;
    }
    const std::size_t length = Be16(&b[i + 2]);
    if (length < 2) return std::nullopt;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (i + 9 > b.size()) return std::nullopt;
      return Make(Be16(&b[i + 7]), Be16(&b[i + 5]));
    }
    if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // scan data before any SOF
    i += 2 + length;
  }
  return std::nullopt;
}

std::optional<ImageSize> Webp(std::span<const unsigned char> b) {
  if (b.size() < 30) return std::nullopt;
  const unsigned char* chunk = b.data() + 12;
  if (std::memcmp(chunk, "VP8 ", 4) == 0) {
    return Make(Le16(chunk + 14) & 0x3FFF, Le16(chunk + 16) & 0x3FFF);
  }
  if (std::memcmp(chunk, "VP8L", 4) == 0) {
    const std::uint32_t bits = Le32(chunk + 9);
    return Make((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (std::memcmp(chunk, "VP8X", 4) == 0) return Make(Le24(chunk + 12) + 1, Le24(chunk + 15) + 1);
  return std::nullopt;
}

}  // namespace

std::optional<ImageSize> ImageSizeFromHeader(std::span<const unsigned char> b) {
  static constexpr unsigned char kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() >= 24 && std::memcmp(b.data(), kPng, sizeof kPng) == 0 &&
      std::memcmp(b.data() + 12, "IHDR", 4) == 0) {
    return Make(Be32(b.data() + 16), Be32(b.data() + 20));
  }
  if (b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Jpeg(b);
  if (b.size() >= 10 &&
      (std::memcmp(b.data(), "GIF87a", 6) == 0 || std::memcmp(b.data(), "GIF89a", 6) == 0)) {
    return Make(Le16(b.data() + 6), Le16(b.data() + 8));
  }
  if (b.size() >= 26 && b[0] == 'B' && b[1] == 'M') {
    // Negative height = top-down rows.
    const std::int64_t height = static_cast<std::int32_t>(Le32(b.data() + 22));
    const std::int64_t rows = height < 0 ? -height : height;
    return Make(Le32(b.data() + 18), rows > 1'000'000 ? 0 : static_cast<std::uint32_t>(rows));
  }
  if (b.size() >= 16 && std::memcmp(b.data(), "RIFF", 4) == 0 &&
      std::memcmp(b.data() + 8, "WEBP", 4) == 0) {
    return Webp(b);
  }
  return std::nullopt;
}

}  // namespace pixvault::media
