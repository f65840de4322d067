// Thumbnails and previews of media files, as WebP pictures, and the perceptual hashes of what
// they show.
//
// What each media type renders to:
//  - image: the picture itself (first frame of an animated GIF/WebP), decoded at reduced size
//    where the format allows it (libvips shrink-on-load), turned upright from its EXIF
//    orientation, with its alpha channel kept;
//  - video: a poster frame chosen to be sharp and away from cuts and fades (see
//    poster.h for the rule), turned upright from the display matrix, HDR (PQ/HLG) tone-mapped
//    to SDR BT.709;
//  - audio: a waveform of the mono downmix of the whole file (see waveform.h for the
//    drawing), `size` wide and size / 4 high (at least 16 pixels), on a transparent background;
//  - 3D models: kUnsupported (no renderer yet).
// The picture is scaled down so that its longest edge is `size` pixels, keeping its aspect
// ratio; smaller pictures are never enlarged.
//
// Ownership: nothing is retained between calls; results are plain values. Thread-safety: safe to
// call from any number of threads at once (each call decodes on the calling thread; libvips may
// use its own worker threads).
//
// Errors: kInvalidArgument when a size or the quality is out of range, or when the picture's
// width * height exceeds `max_pixels` (read from the header before any pixel is decoded);
// kCorrupt when the file cannot be decoded (truncated, random bytes, no frame), including
// "no video stream" / "no audio stream"; kUnsupported for 3D models and for formats pixvault
// does not open; kNotFound / kPermissionDenied when the file cannot be read; kInternal when a
// library fails to start. Messages never contain the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/enums.h"
#include "core/error.h"
#include "media/phash.h"

namespace pixvault::media {

inline constexpr int kThumbnailSize = 320;
inline constexpr int kPreviewSize = 1280;

struct RenderOptions {
  int size = kThumbnailSize;  // longest edge, in pixels, 16..16383
  int webp_quality = 80;      // 1..100
  // Largest accepted width * height of the source picture (16383^2, the WebP limit).
  std::int64_t max_pixels = 268'402'689;
};

// A WebP picture and its dimensions.
struct RenderedImage {
  std::string webp;
  int width = 0;
  int height = 0;
};

// Renders the file at `path`, which SniffType classified as `type`, to one WebP picture.
[[nodiscard]] Result<RenderedImage> RenderThumbnail(const std::filesystem::path& path,
                                                    MediaType type,
                                                    const RenderOptions& options = {});

// RenderThumbnail(path, MediaType::kImage, options), defined apart from the video and audio
// renderers so that a program calling only this links none of their decoders.
[[nodiscard]] Result<RenderedImage> RenderImageThumbnail(const std::filesystem::path& path,
                                                         const RenderOptions& options = {});

// WebP pictures of the video frames shown at `times` (see DecodeFramesAt), upright, fitting
// options.size; in the order of `times`. Errors as RenderThumbnail, and kInvalidArgument for
// a negative or non-finite time.
[[nodiscard]] Result<std::vector<RenderedImage>> RenderVideoFrames(
    const std::filesystem::path& path, const std::vector<double>& times,
    const RenderOptions& options = {});

struct DerivativeOptions {
  int thumbnail_size = kThumbnailSize;
  int preview_size = kPreviewSize;
  int webp_quality = 80;
  std::int64_t max_pixels = 268'402'689;
};

struct Derivatives {
  RenderedImage thumbnail;
  RenderedImage preview;
  // Hashes of the picture shown (the image, the video's poster frame); none for audio.
  std::optional<ImageHashes> hashes;
};

// Thumbnail, preview and hashes of one file, decoding it once: the picture (or poster frame,
// or waveform) is decoded at the preview size and the thumbnail and hashes are made from that.
// Errors as RenderThumbnail.
[[nodiscard]] Result<Derivatives> RenderDerivatives(const std::filesystem::path& path,
                                                    MediaType type,
                                                    const DerivativeOptions& options = {});

}  // namespace pixvault::media
