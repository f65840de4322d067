// The image case of RenderThumbnail, in a file of its own: a program that renders only images
// (bench/thumbnail_bench) links libvips and none of the video and audio decoders.
#include <string>

#include "media/render_checks.h"
#include "media/thumbnail.h"
#include "media/vips_render.h"

namespace pixvault::media {
namespace {

constexpr int kMinSize = 16;
constexpr int kMaxSize = 16383;  // the WebP limit

}  // namespace

Status CheckSize(int size, std::string_view what) {
  if (size >= kMinSize && size <= kMaxSize) return Ok();
  return Fail(ErrorCode::kInvalidArgument,
              std::string(what) + " must be " + std::to_string(kMinSize) + ".." +
                  std::to_string(kMaxSize) + " pixels, not " + std::to_string(size));
}

Status CheckQuality(int quality) {
  if (quality >= 1 && quality <= 100) return Ok();
  return Fail(ErrorCode::kInvalidArgument,
              "WebP quality must be 1..100, not " + std::to_string(quality));
}

Result<RenderedImage> RenderImageThumbnail(const std::filesystem::path& path,
                                           const RenderOptions& options) {
  PV_RETURN_IF_ERROR(CheckSize(options.size, "the size"));
  PV_RETURN_IF_ERROR(CheckQuality(options.webp_quality));
  PV_ASSIGN_OR_RETURN(const ImageSource source, OpenImageSource(path, options.max_pixels));
  PV_ASSIGN_OR_RETURN(const VipsImagePtr image, ThumbnailFromSource(source, options.size));
  return EncodeWebp(image.get(), options.webp_quality);
}

}  // namespace pixvault::media
