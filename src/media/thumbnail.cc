#include "media/thumbnail.h"

#include <algorithm>
#include <string>
#include <vector>

#include "media/poster.h"
#include "media/render_checks.h"
#include "media/vips_render.h"
#include "media/waveform.h"

namespace pixvault::media {
namespace {

// A decoded video frame as an image in memory, turned upright.
Result<VipsImagePtr> UprightImage(const PosterFrame& frame) {
  PV_ASSIGN_OR_RETURN(const VipsImagePtr image, ImageFromRaster(frame.rgb));
  PV_ASSIGN_OR_RETURN(const VipsImagePtr upright, RotateClockwise(image.get(), frame.rotation));
  return Materialise(upright.get());
}

// The poster frame of a video, upright, in memory, fitting `max_edge` x `max_edge`.
Result<VipsImagePtr> PosterImage(const std::filesystem::path& path, int max_edge,
                                 std::int64_t max_pixels) {
  PosterOptions poster_options;
  poster_options.max_pixels = max_pixels;
  poster_options.max_edge = max_edge;
  PV_ASSIGN_OR_RETURN(const PosterFrame poster, DecodePosterFrame(path, poster_options));
  return UprightImage(poster);
}

Result<RenderedImage> VideoThumbnail(const std::filesystem::path& path,
                                     const RenderOptions& options) {
  PV_ASSIGN_OR_RETURN(const VipsImagePtr poster,
                      PosterImage(path, options.size, options.max_pixels));
  return EncodeWebp(poster.get(), options.webp_quality);
}

// Waveforms are a quarter as high as they are wide, and at least 16 pixels high.
int WaveformHeight(int width) { return std::max(16, width / 4); }

Result<RenderedImage> EncodeWaveform(const std::vector<WaveformColumn>& columns, int quality) {
  const Raster raster = DrawWaveform(columns, WaveformHeight(static_cast<int>(columns.size())));
  PV_ASSIGN_OR_RETURN(const VipsImagePtr image, ImageFromRaster(raster));
  return EncodeWebp(image.get(), quality);
}

Result<RenderedImage> AudioThumbnail(const std::filesystem::path& path,
                                     const RenderOptions& options) {
  PV_ASSIGN_OR_RETURN(const std::vector<WaveformColumn> columns, ReadWaveform(path, options.size));
  return EncodeWaveform(columns, options.webp_quality);
}

Result<Derivatives> AudioDerivatives(const std::filesystem::path& path,
                                     const DerivativeOptions& options) {
  PV_ASSIGN_OR_RETURN(const std::vector<WaveformColumn> columns,
                      ReadWaveform(path, options.preview_size));
  Derivatives out;
  PV_ASSIGN_OR_RETURN(out.preview, EncodeWaveform(columns, options.webp_quality));
  PV_ASSIGN_OR_RETURN(
      out.thumbnail,
      EncodeWaveform(RegroupWaveform(columns, options.thumbnail_size), options.webp_quality));
  return out;
}

// Preview, thumbnail and hashes from one picture already in memory at (up to) preview size.
Result<Derivatives> DerivativesOf(VipsImage* picture, const DerivativeOptions& options,
                                  bool with_hashes) {
  Derivatives out;
  PV_ASSIGN_OR_RETURN(const VipsImagePtr preview,
                      ThumbnailFromImage(picture, options.preview_size));
  PV_ASSIGN_OR_RETURN(out.preview, EncodeWebp(preview.get(), options.webp_quality));
  PV_ASSIGN_OR_RETURN(const VipsImagePtr thumbnail,
                      ThumbnailFromImage(picture, options.thumbnail_size));
  PV_ASSIGN_OR_RETURN(out.thumbnail, EncodeWebp(thumbnail.get(), options.webp_quality));
  if (with_hashes) {
    PV_ASSIGN_OR_RETURN(out.hashes, HashImage(picture));
  }
  return out;
}

Result<Derivatives> ImageDerivatives(const std::filesystem::path& path,
                                     const DerivativeOptions& options) {
  PV_ASSIGN_OR_RETURN(const ImageSource source, OpenImageSource(path, options.max_pixels));
  PV_ASSIGN_OR_RETURN(const VipsImagePtr lazy, ThumbnailFromSource(source, options.preview_size));
  // Decoded once; the preview and thumbnail below are made from this copy.
  PV_ASSIGN_OR_RETURN(const VipsImagePtr picture, Materialise(lazy.get()));
  return DerivativesOf(picture.get(), options, /*with_hashes=*/true);
}

Result<Derivatives> VideoDerivatives(const std::filesystem::path& path,
                                     const DerivativeOptions& options) {
  PV_ASSIGN_OR_RETURN(const VipsImagePtr poster,
                      PosterImage(path, options.preview_size, options.max_pixels));
  return DerivativesOf(poster.get(), options, /*with_hashes=*/true);
}

}  // namespace

Result<RenderedImage> RenderThumbnail(const std::filesystem::path& path, MediaType type,
                                      const RenderOptions& options) {
  // Options first, whatever the type (RenderImageThumbnail checks them again on its own).
  PV_RETURN_IF_ERROR(CheckSize(options.size, "the size"));
  PV_RETURN_IF_ERROR(CheckQuality(options.webp_quality));
  switch (type) {
    case MediaType::kImage:
      return RenderImageThumbnail(path, options);
    case MediaType::kVideo:
      return VideoThumbnail(path, options);
    case MediaType::kAudio:
      return AudioThumbnail(path, options);
    case MediaType::kModel3d:
      return Fail(ErrorCode::kUnsupported, "3D models have no thumbnail renderer");
  }
  return Fail(ErrorCode::kInternal, "unknown media type");
}

Result<std::vector<RenderedImage>> RenderVideoFrames(const std::filesystem::path& path,
                                                     const std::vector<double>& times,
                                                     const RenderOptions& options) {
  PV_RETURN_IF_ERROR(CheckSize(options.size, "the size"));
  PV_RETURN_IF_ERROR(CheckQuality(options.webp_quality));
  PosterOptions poster_options;
  poster_options.max_pixels = options.max_pixels;
  poster_options.max_edge = options.size;
  PV_ASSIGN_OR_RETURN(const std::vector<PosterFrame> frames,
                      DecodeFramesAt(path, times, poster_options));
  std::vector<RenderedImage> out;
  out.reserve(frames.size());
  for (const PosterFrame& frame : frames) {
    PV_ASSIGN_OR_RETURN(const VipsImagePtr image, UprightImage(frame));
    PV_ASSIGN_OR_RETURN(RenderedImage webp, EncodeWebp(image.get(), options.webp_quality));
    out.push_back(std::move(webp));
  }
  return out;
}

Result<Derivatives> RenderDerivatives(const std::filesystem::path& path, MediaType type,
                                      const DerivativeOptions& options) {
  PV_RETURN_IF_ERROR(CheckSize(options.thumbnail_size, "the thumbnail size"));
  PV_RETURN_IF_ERROR(CheckSize(options.preview_size, "the preview size"));
  PV_RETURN_IF_ERROR(CheckQuality(options.webp_quality));
  if (options.thumbnail_size > options.preview_size) {
    return Fail(ErrorCode::kInvalidArgument, "the thumbnail cannot be larger than the preview");
  }
  switch (type) {
    case MediaType::kImage:
      return ImageDerivatives(path, options);
    case MediaType::kVideo:
      return VideoDerivatives(path, options);
    case MediaType::kAudio:
      return AudioDerivatives(path, options);
    case MediaType::kModel3d:
      return Fail(ErrorCode::kUnsupported, "3D models have no thumbnail renderer");
  }
  return Fail(ErrorCode::kInternal, "unknown media type");
}

}  // namespace pixvault::media
