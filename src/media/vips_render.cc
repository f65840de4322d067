#include "media/vips_render.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "media/image_header.h"

namespace pixvault::media {
namespace {

// g_malloc'd memory from libvips.
struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GBuffer = std::unique_ptr<void, GFree>;

// Takes ownership of the output of a vips operation: `rc` is its return value. `out` is a
// reference so that `Take(vips_op(in, &out), out, ...)` reads it after the operation ran.
Result<VipsImagePtr> Take(int rc, VipsImage*& out, ErrorCode code, std::string_view what) {
  VipsImagePtr owned(out);
  if (rc != 0 || owned == nullptr) return Fail(VipsError(code, what));
  return owned;
}

// 8-bit sRGB (or B_W) with its alpha, whatever the decoder produced (16-bit PNG, CMYK...).
Result<VipsImagePtr> ToDisplayable(VipsImage* image) {
  const VipsInterpretation interpretation = vips_image_get_interpretation(image);
  const bool grey = interpretation == VIPS_INTERPRETATION_B_W;
  if (vips_image_get_format(image) == VIPS_FORMAT_UCHAR &&
      (grey || interpretation == VIPS_INTERPRETATION_sRGB)) {
    return VipsImagePtr(VIPS_IMAGE(g_object_ref(image)));
  }
  VipsImage* out = nullptr;
  const int rc = vips_colourspace(image, &out,
                                  grey || interpretation == VIPS_INTERPRETATION_GREY16
                                      ? VIPS_INTERPRETATION_B_W
                                      : VIPS_INTERPRETATION_sRGB,
                                  nullptr);
  PV_ASSIGN_OR_RETURN(VipsImagePtr converted,
                      Take(rc, out, ErrorCode::kCorrupt, "cannot convert to sRGB"));
  if (vips_image_get_format(converted.get()) == VIPS_FORMAT_UCHAR) return converted;
  out = nullptr;
  return Take(vips_cast_uchar(converted.get(), &out, nullptr), out, ErrorCode::kCorrupt,
              "cannot convert to 8 bits");
}

// PNG, JPEG or WebP from the file's magic bytes (the checks libvips' own loaders make), or
// nullopt for anything else.
std::optional<HeaderFormat> SniffFormat(VipsSource* source) {
  unsigned char* data = nullptr;
  const gint64 got = vips_source_sniff_at_most(source, &data, 12);
  if (got < 12 || data == nullptr) {
    vips_error_clear();
    return std::nullopt;
  }
  const std::string_view magic(reinterpret_cast<const char*>(data), 12);
  if (magic.starts_with("\x89PNG\r\n\x1a\n")) return HeaderFormat::kPng;
  if (magic.starts_with("\xff\xd8\xff")) return HeaderFormat::kJpeg;
  if (magic.starts_with("RIFF") && magic.substr(8, 4) == "WEBP") return HeaderFormat::kWebp;
  return std::nullopt;
}

// Size and ICC profile of a `format` file from its first bytes; nullopt whenever
// ImageInfoFromHeader is not sure. Almost every file answers from the first 16 KiB; JPEGs with
// a large EXIF block or PNGs with large text chunks before the picture need more, up to
// 256 KiB (the sniff buffer stays with the source until it is closed).
std::optional<ImageHeaderInfo> HeaderInfo(VipsSource* source, HeaderFormat format) {
  for (const std::size_t want : {std::size_t{16} << 10, std::size_t{256} << 10}) {
    unsigned char* data = nullptr;
    const gint64 got = vips_source_sniff_at_most(source, &data, want);
    if (got <= 0 || data == nullptr) {
      vips_error_clear();
      return std::nullopt;
    }
    const auto length = static_cast<std::size_t>(got);
    if (auto info = ImageInfoFromHeader(std::span(data, length), format)) return info;
    if (length < want) return std::nullopt;  // the whole file was read
  }
  return std::nullopt;
}

// What vips_thumbnail (libvips 8.14) divides both axes by to fit `size` x `size`, never
// enlarging: the larger of the two ratios, at least 1, and at most either dimension.
double CommonShrink(int width, int height, int size) {
  const double shrink =
      std::max({1.0, static_cast<double>(width) / size, static_cast<double>(height) / size});
  return std::min({shrink, static_cast<double>(width), static_cast<double>(height)});
}

// vips_thumbnail's JPEG shrink-on-load: a DCT-domain block shrink to somewhat above the
// target, leaving at least a factor of two for the resampling step that follows.
int JpegShrink(double shrink) {
  if (shrink >= 16) return 8;
  if (shrink >= 8) return 4;
  if (shrink >= 4) return 2;
  return 1;
}

// The first frame of a PNG, JPEG or WebP, loaded as vips_thumbnail_source would load it for a
// `size` thumbnail (the same loader, shrink-on-load factor, sequential access and fail_on),
// but without its loader search (three per file: every loader's sniffer, openslide's opens
// the file as an SQLite database) and its separate header pass.
Result<VipsImagePtr> LoadForThumbnail(const ImageSource& image, HeaderFormat format, int size) {
  VipsSource* source = image.source.get();
  const double shrink = CommonShrink(image.width, image.height, size);
  VipsImage* out = nullptr;
  int rc = -1;
  switch (format) {
    case HeaderFormat::kJpeg:
      rc = vips_jpegload_source(source, &out, "shrink", JpegShrink(shrink), "access",
                                VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
      break;
    case HeaderFormat::kWebp:
      rc = vips_webpload_source(source, &out, "scale", 1.0 / shrink, "access",
                                VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
      break;
    case HeaderFormat::kPng:
      rc = vips_pngload_source(source, &out, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                               VIPS_FAIL_ON_ERROR, nullptr);
      break;
  }
  return Take(rc, out, ErrorCode::kCorrupt, "cannot decode image");
}

// The steps of vips_thumbnail after the load, for a file without shrink-on-load and without
// an ICC profile: 8-bit sRGB (or B_W) as the processing space, alpha premultiplied while
// resampling, one vips_resize by the common shrink, EXIF orientation applied. (Not
// vips_thumbnail_image: libvips 8.14 puts a line cache of its own in front of the image, and
// for a full-size PNG that cache's buffers are a third of the work.)
Result<VipsImagePtr> ResizeForThumbnail(VipsImage* loaded, int size) {
  VipsImage* out = nullptr;
  PV_ASSIGN_OR_RETURN(VipsImagePtr image, Take(vips_colourspace(loaded, &out,
                                                                vips_image_get_bands(loaded) < 3
                                                                    ? VIPS_INTERPRETATION_B_W
                                                                    : VIPS_INTERPRETATION_sRGB,
                                                                nullptr),
                                               out, ErrorCode::kCorrupt, "cannot convert to sRGB"));
  const double shrink =
      CommonShrink(vips_image_get_width(image.get()), vips_image_get_height(image.get()), size);
  const VipsBandFormat format = vips_image_get_format(image.get());
  const bool premultiply = vips_image_hasalpha(image.get()) && shrink != 1.0;
  if (premultiply) {
    out = nullptr;
    PV_ASSIGN_OR_RETURN(image, Take(vips_premultiply(image.get(), &out, nullptr), out,
                                    ErrorCode::kCorrupt, "cannot premultiply alpha"));
  }
  out = nullptr;
  PV_ASSIGN_OR_RETURN(
      image, Take(vips_resize(image.get(), &out, 1.0 / shrink, "vscale", 1.0 / shrink, nullptr),
                  out, ErrorCode::kCorrupt, "cannot scale image"));
  if (premultiply) {
    VipsImage* divided = nullptr;
    PV_ASSIGN_OR_RETURN(const VipsImagePtr unpremultiplied,
                        Take(vips_unpremultiply(image.get(), &divided, nullptr), divided,
                             ErrorCode::kCorrupt, "cannot unpremultiply alpha"));
    out = nullptr;
    PV_ASSIGN_OR_RETURN(image, Take(vips_cast(unpremultiplied.get(), &out, format, nullptr), out,
                                    ErrorCode::kCorrupt, "cannot unpremultiply alpha"));
  }
  if (vips_image_get_orientation(image.get()) != 1) {
    // autorot needs random access; the thumbnail is small by now.
    VipsImagePtr small(vips_image_copy_memory(image.get()));
    if (small == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot decode image"));
    out = nullptr;
    PV_ASSIGN_OR_RETURN(image, Take(vips_autorot(small.get(), &out, nullptr), out,
                                    ErrorCode::kCorrupt, "cannot rotate image"));
  }
  return image;
}

}  // namespace

Result<ImageSource> OpenImageSource(const std::filesystem::path& path, std::int64_t max_pixels) {
  PV_RETURN_IF_ERROR(EnsureVipsInitialised());
  // A source, not a file name: vips_thumbnail(filename) parses "name.png[options]".
  VipsSourcePtr source(vips_source_new_from_file(path.c_str()));
  if (source == nullptr) {
    std::error_code ignored;
    const bool exists = std::filesystem::exists(path, ignored);
    return Fail(
        VipsError(exists ? ErrorCode::kUnavailable : ErrorCode::kNotFound, "cannot open file"));
  }
  // PNG, JPEG and WebP: size and ICC profile from the header bytes, which costs a fraction of
  // a loader search and header pass.
  const std::optional<HeaderFormat> format = SniffFormat(source.get());
  if (format.has_value()) {
    if (const std::optional<ImageHeaderInfo> info = HeaderInfo(source.get(), *format)) {
      PV_RETURN_IF_ERROR(CheckPixelLimit(info->size.width, info->size.height, max_pixels, "image"));
      return ImageSource{std::move(source), info->has_icc_profile, format, info->size.width,
                         info->size.height};
    }
  } else if (const Result<std::string> loader = FindImageLoader(source.get()); !loader) {
    return Fail(loader.error());
  }
  // Other formats, or header bytes this parser is not sure of: ask the loader. Header only:
  // with sequential access nothing is decoded until pixels are requested.
  const VipsImagePtr header(
      vips_image_new_from_source(source.get(), "", "access", VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (header == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot read image header"));
  PV_RETURN_IF_ERROR(CheckPixelLimit(vips_image_get_width(header.get()),
                                     vips_image_get_height(header.get()), max_pixels, "image"));
  const bool has_icc_profile = vips_image_get_typeof(header.get(), VIPS_META_ICC_NAME) != 0;
  return ImageSource{std::move(source), has_icc_profile, std::nullopt, 0, 0};
}

Result<VipsImagePtr> ThumbnailFromSource(const ImageSource& image, int size) {
  VipsImage* out = nullptr;
  // export_profile only for files with an embedded ICC profile, so the stripped WebP shows the
  // right colours: given for every file, libvips would colour-manage untagged files too (from
  // an assumed sRGB to sRGB), which costs about 15% more CPU for nothing.
  if (image.format.has_value()) {
    PV_ASSIGN_OR_RETURN(const VipsImagePtr loaded, LoadForThumbnail(image, *image.format, size));
    if (*image.format == HeaderFormat::kPng && !image.has_icc_profile) {
      return ResizeForThumbnail(loaded.get(), size);
    }
    // The rest of vips_thumbnail on the pre-shrunk image: the same resampling, EXIF
    // orientation and colour steps, so the pixels are those of vips_thumbnail_source.
    const int rc = image.has_icc_profile
                       ? vips_thumbnail_image(loaded.get(), &out, size, "height", size, "size",
                                              VIPS_SIZE_DOWN, "export_profile", "srgb", nullptr)
                       : vips_thumbnail_image(loaded.get(), &out, size, "height", size, "size",
                                              VIPS_SIZE_DOWN, nullptr);
    return Take(rc, out, ErrorCode::kCorrupt, "cannot decode image");
  }
  // fail_on: truncated or undecodable data is an error, not a picture with a grey bottom. It
  // also goes in the loader's option string: libvips 8.14 does not forward the thumbnail's own
  // fail_on to the loader when reading from a source.
  const int rc =
      image.has_icc_profile
          ? vips_thumbnail_source(image.source.get(), &out, size, "height", size, "size",
                                  VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_ERROR, "option_string",
                                  "fail_on=error", "export_profile", "srgb", nullptr)
          : vips_thumbnail_source(image.source.get(), &out, size, "height", size, "size",
                                  VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_ERROR, "option_string",
                                  "fail_on=error", nullptr);
  return Take(rc, out, ErrorCode::kCorrupt, "cannot decode image");
}

Result<VipsImagePtr> ThumbnailFromImage(VipsImage* image, int size) {
  VipsImage* out = nullptr;
  const int rc =
      vips_thumbnail_image(image, &out, size, "height", size, "size", VIPS_SIZE_DOWN, nullptr);
  return Take(rc, out, ErrorCode::kCorrupt, "cannot scale image");
}

Result<VipsImagePtr> Materialise(VipsImage* image) {
  VipsImagePtr out(vips_image_copy_memory(image));
  if (out == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot decode image"));
  return out;
}

Result<VipsImagePtr> ImageFromRaster(const Raster& raster) {
  PV_RETURN_IF_ERROR(EnsureVipsInitialised());
  VipsImagePtr image(vips_image_new_from_memory_copy(raster.pixels.data(), raster.pixels.size(),
                                                     raster.width, raster.height, raster.bands,
                                                     VIPS_FORMAT_UCHAR));
  if (image == nullptr) return Fail(VipsError(ErrorCode::kInternal, "cannot wrap pixels"));
  // new_from_memory guesses the interpretation from the band count; make it explicit.
  image->Type = raster.bands <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
  return image;
}

Result<VipsImagePtr> RotateClockwise(VipsImage* image, std::int64_t degrees) {
  VipsAngle angle = VIPS_ANGLE_D0;
  switch (degrees) {
    case 90:
      angle = VIPS_ANGLE_D90;  // libvips angles are clockwise
      break;
    case 180:
      angle = VIPS_ANGLE_D180;
      break;
    case 270:
      angle = VIPS_ANGLE_D270;
      break;
    default:
      return VipsImagePtr(VIPS_IMAGE(g_object_ref(image)));
  }
  VipsImage* out = nullptr;
  return Take(vips_rot(image, &out, angle, nullptr), out, ErrorCode::kInternal,
              "cannot rotate image");
}

Result<RenderedImage> EncodeWebp(VipsImage* image, int quality) {
  PV_ASSIGN_OR_RETURN(const VipsImagePtr converted, ToDisplayable(image));
  // libvips 8.14's webpsave ignores `strip` (EXIF, XMP and ICC profiles are written anyway),
  // so every metadata item is dropped from a shallow copy first: thumbnails must not carry a
  // photo's EXIF (location, camera serial...), and the pixels are sRGB by now, which is what an
  // untagged WebP means.
  VipsImage* out = nullptr;
  PV_ASSIGN_OR_RETURN(const VipsImagePtr displayable,
                      Take(vips_copy(converted.get(), &out, nullptr), out, ErrorCode::kInternal,
                           "cannot copy image"));
  if (gchar** fields = vips_image_get_fields(displayable.get()); fields != nullptr) {
    // Names of built-in properties (width, bands...) are not metadata; removing them is a no-op.
    for (gchar** field = fields; *field != nullptr; ++field) {
      vips_image_remove(displayable.get(), *field);
    }
    g_strfreev(fields);
  }
  void* raw = nullptr;
  std::size_t length = 0;
  const int rc =
      vips_webpsave_buffer(displayable.get(), &raw, &length, "Q", quality, "strip", TRUE, nullptr);
  const GBuffer buffer(raw);
  if (rc != 0 || raw == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot encode WebP"));
  RenderedImage rendered;
  rendered.webp.assign(static_cast<const char*>(raw), length);
  rendered.width = vips_image_get_width(displayable.get());
  rendered.height = vips_image_get_height(displayable.get());
  return rendered;
}

Result<ImageHashes> HashImage(VipsImage* image) {
  PV_ASSIGN_OR_RETURN(VipsImagePtr rgb, ToDisplayable(image));
  if (vips_image_hasalpha(rgb.get())) {
    VipsImage* out = nullptr;
    PV_ASSIGN_OR_RETURN(rgb, Take(vips_flatten(rgb.get(), &out, nullptr), out, ErrorCode::kCorrupt,
                                  "cannot flatten alpha"));
    if (vips_image_get_format(rgb.get()) != VIPS_FORMAT_UCHAR) {
      out = nullptr;
      PV_ASSIGN_OR_RETURN(rgb, Take(vips_cast_uchar(rgb.get(), &out, nullptr), out,
                                    ErrorCode::kCorrupt, "cannot convert to 8 bits"));
    }
  }
  std::size_t size = 0;
  const GBuffer memory(vips_image_write_to_memory(rgb.get(), &size));
  if (memory == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot decode image"));
  Raster raster;
  raster.width = vips_image_get_width(rgb.get());
  raster.height = vips_image_get_height(rgb.get());
  raster.bands = vips_image_get_bands(rgb.get());
  const auto* bytes = static_cast<const std::uint8_t*>(memory.get());
  raster.pixels.assign(bytes, bytes + size);
  const std::vector<std::uint8_t> luma = LumaOf(raster);
  return HashGray(GrayView{raster.width, raster.height, luma});
}

std::vector<std::uint8_t> LumaOf(const Raster& raster) {
  if (raster.bands < 3) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(raster.width) *
                                  static_cast<std::size_t>(raster.height));
    const auto step = static_cast<std::size_t>(raster.bands);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = raster.pixels[i * step];
    return out;
  }
  const auto step = static_cast<std::size_t>(raster.bands);
  std::vector<std::uint8_t> out(raster.pixels.size() / step);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t* p = &raster.pixels[i * step];
    // Rec.601 weights in 8.8 fixed point (77 + 150 + 29 = 256).
    out[i] = static_cast<std::uint8_t>((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
  }
  return out;
}

}  // namespace pixvault::media
