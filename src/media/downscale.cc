#include "media/downscale.h"

#include <vips/vips.h>

#include <cmath>
#include <system_error>

#include "media/vips_render.h"
#include "media/vips_util.h"

namespace pixvault::media {

Result<DownscaledImage> DownscaleImageToPixels(const std::filesystem::path& in,
                                               std::int64_t max_pixels, std::int64_t decode_limit,
                                               const std::filesystem::path& out_stem) {
  if (max_pixels < 1) return Fail(ErrorCode::kInvalidArgument, "max_pixels must be >= 1");
  PV_ASSIGN_OR_RETURN(ImageSource image, OpenImageSource(in, decode_limit));
  PV_ASSIGN_OR_RETURN(const std::string loader, FindImageLoader(image.source.get()));
  const VipsImagePtr header(vips_image_new_from_source(image.source.get(), "", "access",
                                                       VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (header == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot read image header"));
  const double w = vips_image_get_width(header.get());
  const double h = vips_image_get_height(header.get());
  // The largest size of the source's aspect ratio within the limit. The square box of its
  // longer side yields it whichever way EXIF orientation turns the picture.
  const double scale = std::min(1.0, std::sqrt(static_cast<double>(max_pixels) / (w * h)));
  int box_w = std::max(1, static_cast<int>(std::floor(w * scale)));
  int box_h = std::max(1, static_cast<int>(std::floor(h * scale)));
  while (static_cast<std::int64_t>(box_w) * box_h > max_pixels) {
    if (box_w >= box_h) {
      --box_w;
    } else {
      --box_h;
    }
  }
  const int side = std::max(box_w, box_h);
  VipsImage* scaled_raw = nullptr;
  const int rc = vips_thumbnail_source(image.source.get(), &scaled_raw, side, "height", side,
                                       "size", VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_ERROR,
                                       "option_string", "fail_on=error", nullptr);
  if (rc != 0 || scaled_raw == nullptr) {
    return Fail(VipsError(ErrorCode::kCorrupt, "cannot decode image"));
  }
  VipsImagePtr scaled(scaled_raw);
  // vips_thumbnail fits the box; the rounding of a rotated image can still land one pixel
  // over the limit, so crop what is over.
  int out_w = vips_image_get_width(scaled.get());
  int out_h = vips_image_get_height(scaled.get());
  while (static_cast<std::int64_t>(out_w) * out_h > max_pixels) {
    if (out_w >= out_h) {
      --out_w;
    } else {
      --out_h;
    }
  }
  if (out_w != vips_image_get_width(scaled.get()) || out_h != vips_image_get_height(scaled.get())) {
    VipsImage* cropped = nullptr;
    if (vips_crop(scaled.get(), &cropped, 0, 0, out_w, out_h, nullptr) != 0) {
      return Fail(VipsError(ErrorCode::kInternal, "cannot crop image"));
    }
    scaled.reset(cropped);
  }

  DownscaledImage result;
  result.width = out_w;
  result.height = out_h;
  int saved = 0;
  std::filesystem::path out = out_stem;
  if (loader.rfind("jpegload", 0) == 0) {
    result.mime_type = "image/jpeg";
    result.extension = ".jpg";
    out += result.extension;
    saved = vips_jpegsave(scaled.get(), out.c_str(), "Q", 90, nullptr);
  } else if (loader.rfind("webpload", 0) == 0) {
    result.mime_type = "image/webp";
    result.extension = ".webp";
    out += result.extension;
    saved = vips_webpsave(scaled.get(), out.c_str(), "Q", 90, nullptr);
  } else {
    result.mime_type = "image/png";
    result.extension = ".png";
    out += result.extension;
    saved = vips_pngsave(scaled.get(), out.c_str(), nullptr);
  }
  if (saved != 0) {
    std::error_code ignored;
    std::filesystem::remove(out, ignored);
    return Fail(VipsError(ErrorCode::kCorrupt, "cannot write the downscaled image"));
  }
  return result;
}

}  // namespace pixvault::media
