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

bool IsPng(std::span<const unsigned char> b) {
  static constexpr unsigned char kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return b.size() >= sizeof kPng && std::memcmp(b.data(), kPng, sizeof kPng) == 0;
}

bool IsWebp(std::span<const unsigned char> b) {
  return b.size() >= 16 && std::memcmp(b.data(), "RIFF", 4) == 0 &&
         std::memcmp(b.data() + 8, "WEBP", 4) == 0;
}

// Chunks after IHDR up to the first IDAT; libvips reads an ICC profile only from iCCP, which
// the PNG specification places before IDAT.
std::optional<ImageHeaderInfo> PngInfo(std::span<const unsigned char> b) {
  // Signature (8), then IHDR: length (4) = 13, type (4), data (13), CRC (4).
  if (!IsPng(b) || b.size() < 33 || Be32(b.data() + 8) != 13 ||
      std::memcmp(b.data() + 12, "IHDR", 4) != 0) {
    return std::nullopt;
  }
  const std::optional<ImageSize> size = Make(Be32(b.data() + 16), Be32(b.data() + 20));
  if (!size) return std::nullopt;
  std::size_t i = 33;
  while (b.size() - i >= 8) {
    const std::uint32_t length = Be32(&b[i]);
    if (length > 0x7FFF'FFFF) return std::nullopt;  // the specification's limit
    const unsigned char* type = &b[i + 4];
    if (std::memcmp(type, "iCCP", 4) == 0) return ImageHeaderInfo{*size, true};
    if (std::memcmp(type, "IDAT", 4) == 0) return ImageHeaderInfo{*size, false};
    if (std::memcmp(type, "IEND", 4) == 0) return std::nullopt;           // no image data
    if (b.size() - i - 8 < std::size_t{length} + 4) return std::nullopt;  // cut short
    i += 12 + std::size_t{length};
  }
  return std::nullopt;
}

// Markers up to the first SOS: libjpeg's jpeg_read_header, which libvips calls, collects the
// APP2 segments it sees until then, and libvips takes those starting "ICC_PROFILE" (any
// length: erring towards true) as the profile.
std::optional<ImageHeaderInfo> JpegInfo(std::span<const unsigned char> b) {
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) return std::nullopt;
  std::optional<ImageSize> size;
  bool icc = false;
  std::size_t i = 2;
  while (b.size() - i >= 4) {
    if (b[i] != 0xFF) return std::nullopt;
    const unsigned char marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0xD9 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      return std::nullopt;  // a second SOI, EOI, TEM or RST before the first scan
    }
    const std::size_t length = Be16(&b[i + 2]);
    if (length < 2) return std::nullopt;
    if (marker == 0xDA) {
      if (!size) return std::nullopt;
      return ImageHeaderInfo{*size, icc};
    }
    if (b.size() - i - 2 < length) return std::nullopt;  // segment cut short
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (size || length < 7) return std::nullopt;  // two frames, or too short for a frame
      size = Make(Be16(&b[i + 7]), Be16(&b[i + 5]));
      if (!size) return std::nullopt;  // e.g. height 0 (given later by DNL)
    }
    if (marker == 0xE2 && length >= 2 + 11 && std::memcmp(&b[i + 4], "ICC_PROFILE", 11) == 0) {
      icc = true;
    }
    i += 2 + length;
  }
  return std::nullopt;
}

// The first chunk: a simple-format WebP (VP8, VP8L) has no room for a profile; an extended one
// (VP8X) says in its flags whether an ICCP chunk follows, and libvips reads it only then.
std::optional<ImageHeaderInfo> WebpInfo(std::span<const unsigned char> b) {
  if (!IsWebp(b) || b.size() < 30) return std::nullopt;
  const unsigned char* chunk = b.data() + 12;
  const std::uint32_t length = Le32(chunk + 4);
  bool icc = false;
  if (std::memcmp(chunk, "VP8 ", 4) == 0) {
    // Frame tag (3), then the start code 9D 01 2A, then the sizes.
    if (length < 10 || chunk[11] != 0x9D || chunk[12] != 0x01 || chunk[13] != 0x2A) {
      return std::nullopt;
    }
  } else if (std::memcmp(chunk, "VP8L", 4) == 0) {
    if (length < 5 || chunk[8] != 0x2F) return std::nullopt;  // the lossless signature
  } else if (std::memcmp(chunk, "VP8X", 4) == 0) {
    if (length < 10) return std::nullopt;
    icc = (chunk[8] & 0x20) != 0;
  } else {
    return std::nullopt;
  }
  const std::optional<ImageSize> size = Webp(b);
  if (!size) return std::nullopt;
  return ImageHeaderInfo{*size, icc};
}

}  // namespace

std::optional<ImageHeaderInfo> ImageInfoFromHeader(std::span<const unsigned char> bytes,
                                                   HeaderFormat format) {
  switch (format) {
    case HeaderFormat::kPng:
      return PngInfo(bytes);
    case HeaderFormat::kJpeg:
      return JpegInfo(bytes);
    case HeaderFormat::kWebp:
      return WebpInfo(bytes);
  }
  return std::nullopt;
}

std::optional<ImageSize> ImageSizeFromHeader(std::span<const unsigned char> b) {
  if (IsPng(b) && b.size() >= 24 && std::memcmp(b.data() + 12, "IHDR", 4) == 0) {
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
  if (IsWebp(b)) {
    return Webp(b);
  }
  return std::nullopt;
}

}  // namespace pixvault::media
