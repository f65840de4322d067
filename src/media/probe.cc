#include "media/probe.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>

#include "media/av_util.h"
#include "media/raster.h"
#include "media/sniff.h"
#include "media/vips_util.h"

namespace pixvault::media {
namespace {

// ---- Video and audio (libavformat) ----

// Refuses oversized pictures from the header alone, before stream analysis decodes frames.
Status CheckFrameSizes(const AVFormatContext& context, std::int64_t max_pixels) {
  for (unsigned i = 0; i < context.nb_streams; ++i) {
    const AVCodecParameters& par = *context.streams[i]->codecpar;
    if (par.codec_type == AVMEDIA_TYPE_VIDEO && par.width > 0 && par.height > 0) {
      PV_RETURN_IF_ERROR(CheckPixelLimit(par.width, par.height, max_pixels, "video frame"));
    }
  }
  return Ok();
}

// A container whose index (the MP4 sample table, Matroska cues, ...) places media past the
// end of the file was cut short: an interrupted download or copy. The header alone looks
// complete, so this is the probe's only chance to tell.
Status CheckNotTruncated(AVFormatContext& context) {
  if (context.pb == nullptr) return Ok();
  const std::int64_t size = avio_size(context.pb);
  if (size <= 0) return Ok();
  std::int64_t end = 0;
  for (unsigned i = 0; i < context.nb_streams; ++i) {
    AVStream* stream = context.streams[i];
    const int n = avformat_index_get_entries_count(stream);
    for (int k = 0; k < n; ++k) {
      const AVIndexEntry* e = avformat_index_get_entry(stream, k);
      if (e != nullptr && e->pos >= 0) end = std::max(end, e->pos + e->size);
    }
  }
  if (end <= size) return Ok();
  return Fail(ErrorCode::kCorrupt,
              "the file is truncated or damaged: its index places media up to byte " +
                  std::to_string(end) + " but it ends at byte " + std::to_string(size));
}

double ToSeconds(std::int64_t value, AVRational time_base) {
  return static_cast<double>(value) * av_q2d(time_base);
}

Result<ProbeResult> ProbeAv(const std::filesystem::path& path, MediaType type,
                            const ProbeOptions& options) {
  EnsureLibavInitialised();
  const AvLogCapture capture;  // FFmpeg's own explanation goes into the error message
  PV_ASSIGN_OR_RETURN(
      const AvFormatContextPtr context,
      OpenAvInput(path, AvInputLimits{options.probe_size_bytes, options.analyze_duration_us}));
  PV_RETURN_IF_ERROR(CheckFrameSizes(*context, options.max_pixels));
  PV_RETURN_IF_ERROR(FindAvStreamInfo(*context));
  PV_RETURN_IF_ERROR(CheckFrameSizes(*context, options.max_pixels));
  PV_RETURN_IF_ERROR(CheckNotTruncated(*context));

  const AVStream* video = FindAvStream(*context, AVMEDIA_TYPE_VIDEO);
  const AVStream* audio = FindAvStream(*context, AVMEDIA_TYPE_AUDIO);
  if (type == MediaType::kVideo && video == nullptr) {
    return Fail(ErrorCode::kCorrupt, "no video stream");
  }
  if (type == MediaType::kAudio && audio == nullptr) {
    return Fail(ErrorCode::kCorrupt, "no audio stream");
  }

  ProbeResult result;
  result.container = context->iformat->name;
  if (context->duration != AV_NOPTS_VALUE && context->duration > 0) {
    result.duration_sec = ToSeconds(context->duration, AVRational{1, AV_TIME_BASE});
  } else if (const AVStream* main = video ? video : audio;
             main != nullptr && main->duration != AV_NOPTS_VALUE && main->duration > 0) {
    result.duration_sec = ToSeconds(main->duration, main->time_base);
  }
  if (context->bit_rate > 0) result.bitrate = context->bit_rate;

  if (video != nullptr) {
    const AVCodecParameters& par = *video->codecpar;
    if (par.width <= 0 || par.height <= 0) {
      return Fail(ErrorCode::kCorrupt, "video stream has no picture size");
    }
    result.width = par.width;
    result.height = par.height;
    result.video_codec = avcodec_get_name(par.codec_id);
    AVRational rate = video->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = video->r_frame_rate;
    if (rate.num > 0 && rate.den > 0) result.fps = av_q2d(rate);
    if (const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par.format))) {
      result.pixel_format = name;
    }
    result.rotation = DisplayRotation(*video);
    if (const char* profile = avcodec_profile_name(par.codec_id, par.profile)) {
      result.video_profile = profile;
    }
    if (par.bit_rate > 0) result.video_bitrate = par.bit_rate;
    const AVRational base = video->r_frame_rate, avg = video->avg_frame_rate;
    if (base.num > 0 && base.den > 0 && avg.num > 0 && avg.den > 0) {
      result.variable_fps = std::abs(av_q2d(base) - av_q2d(avg)) > 0.01 * av_q2d(avg);
    }
    if (par.color_trc != AVCOL_TRC_UNSPECIFIED) {
      if (const char* trc = av_color_transfer_name(par.color_trc)) result.color_transfer = trc;
    }
    if (par.color_primaries != AVCOL_PRI_UNSPECIFIED) {
      if (const char* pri = av_color_primaries_name(par.color_primaries)) {
        result.color_primaries = pri;
      }
    }
    if (par.color_space != AVCOL_SPC_UNSPECIFIED) {
      if (const char* spc = av_color_space_name(par.color_space)) result.color_space = spc;
    }
    result.hdr = par.color_trc == AVCOL_TRC_SMPTE2084 || par.color_trc == AVCOL_TRC_ARIB_STD_B67;
    if (const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(par.format))) {
      int depth = 0;
      for (int c = 0; c < d->nb_components; ++c) depth = std::max(depth, d->comp[c].depth);
      if (depth > 0) result.bit_depth = depth;
    }
  }
  if (audio != nullptr) {
    const AVCodecParameters& par = *audio->codecpar;
    result.audio_codec = avcodec_get_name(par.codec_id);
    if (par.sample_rate > 0) result.sample_rate = par.sample_rate;
    if (par.ch_layout.nb_channels > 0) result.channels = par.ch_layout.nb_channels;
  }
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    const AVStream& s = *context->streams[i];
    const AVCodecParameters& par = *s.codecpar;
    if (par.codec_type != AVMEDIA_TYPE_AUDIO) continue;
    ProbeResult::AudioStream a;
    a.codec = avcodec_get_name(par.codec_id);
    if (par.sample_rate > 0) a.sample_rate = par.sample_rate;
    if (par.ch_layout.nb_channels > 0) a.channels = par.ch_layout.nb_channels;
    if (par.bit_rate > 0) a.bitrate = par.bit_rate;
    if (const AVDictionaryEntry* lang = av_dict_get(s.metadata, "language", nullptr, 0)) {
      a.language = lang->value;
    }
    result.audio_streams.push_back(std::move(a));
  }
  return result;
}

// ---- Images (libvips) ----

std::string ImagePixelFormat(VipsImage* image) {
  const int bands = vips_image_get_bands(image);
  std::string name;
  if (vips_image_get_interpretation(image) == VIPS_INTERPRETATION_CMYK) {
    name = bands > 4 ? "cmyka" : "cmyk";
  } else if (bands >= 1 && bands <= 4) {
    static constexpr std::array<std::string_view, 4> kNames = {"gray", "graya", "rgb", "rgba"};
    name = kNames[static_cast<std::size_t>(bands - 1)];
  } else {
    name = std::to_string(bands) + "band";
  }
  switch (vips_image_get_format(image)) {
    case VIPS_FORMAT_USHORT:
    case VIPS_FORMAT_SHORT:
      return name + "16";
    case VIPS_FORMAT_UINT:
    case VIPS_FORMAT_INT:
      return name + "32";
    case VIPS_FORMAT_FLOAT:
    case VIPS_FORMAT_DOUBLE:
      return name + "f";
    default:
      return name;
  }
}

// EXIF orientation (1..8) to a clockwise display rotation; mirrored variants keep theirs.
std::int64_t OrientationRotation(int orientation) {
  switch (orientation) {
    case 3:
    case 4:
      return 180;
    case 5:
    case 6:
      return 90;
    case 7:
    case 8:
      return 270;
    default:
      return 0;
  }
}

// The fewest bytes in which a JPEG or PNG of width x height can be coded: a JPEG spends at least
// one bit on the DC coefficient of every 8x8 luma block (Huffman codes are at least a bit
// long), and deflate compresses at most 1032:1, so a PNG holds at least 1/1032 of its filtered
// rows. A header that declares more pixels than the data can hold lies about the size, the
// way a decompression bomb or a cut file does; decoders would fill the rest with grey.
Status CheckPlausibleSize(std::string_view loader, int width, int height,
                          const std::filesystem::path& path) {
  std::int64_t needed = 0;
  const auto w = static_cast<std::int64_t>(width), h = static_cast<std::int64_t>(height);
  if (loader.starts_with("jpegload")) {
    needed = ((w + 7) / 8) * ((h + 7) / 8) / 8;
  } else if (loader.starts_with("pngload")) {
    needed = h * (1 + w) / 1032;  // one byte per pixel at the least
  } else {
    return Ok();
  }
  std::error_code ec;
  const auto size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  if (ec || size >= needed) return Ok();
  return Fail(ErrorCode::kCorrupt,
              "the image declares " + std::to_string(width) + "x" + std::to_string(height) +
                  " pixels, which need at least " + std::to_string(needed) +
                  " bytes of coded data, but the file has " + std::to_string(size) +
                  " bytes (truncated, or the header lies about the size)");
}

Result<ProbeResult> ProbeImage(const std::filesystem::path& path, const ProbeOptions& options) {
  PV_RETURN_IF_ERROR(EnsureVipsInitialised());
  // A source, not vips_image_new_from_file: that one parses "name.png[options]" from the path.
  const VipsSourcePtr source(vips_source_new_from_file(path.c_str()));
  if (source == nullptr) {
    std::error_code ignored;
    const bool exists = std::filesystem::exists(path, ignored);
    return Fail(
        VipsError(exists ? ErrorCode::kUnavailable : ErrorCode::kNotFound, "cannot open file"));
  }
  PV_ASSIGN_OR_RETURN(const std::string loader, FindImageLoader(source.get()));

  // Header only: with sequential access nothing is decoded until pixels are requested.
  const VipsImagePtr image(
      vips_image_new_from_source(source.get(), "", "access", VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (image == nullptr) return Fail(VipsError(ErrorCode::kCorrupt, "cannot read image header"));
  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  PV_RETURN_IF_ERROR(CheckPixelLimit(width, height, options.max_pixels, "image"));
  PV_RETURN_IF_ERROR(CheckPlausibleSize(loader, width, height, path));

  ProbeResult result;
  result.width = width;
  result.height = height;
  result.container = std::string(loader.substr(0, loader.find("load")));
  result.pixel_format = ImagePixelFormat(image.get());
  result.rotation = OrientationRotation(vips_image_get_orientation(image.get()));
  if (const char* space =
          vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(image.get()))) {
    result.color_space = space;
  }
  result.has_alpha = vips_image_hasalpha(image.get()) != 0;
  result.frames = std::max(1, vips_image_get_n_pages(image.get()));
  result.bit_depth = static_cast<int>(8 * vips_format_sizeof(vips_image_get_format(image.get())));
  return result;
}

// ---- 3D models (not parsed yet) ----

Result<ProbeResult> ProbeModel(const std::filesystem::path& path, const ProbeOptions& options) {
  ProbeResult result;
  if (!options.format_hint.empty()) {
    result.container = options.format_hint;
    return result;
  }
  PV_ASSIGN_OR_RETURN(const Sniffed sniffed, SniffFile(path));
  if (sniffed.type != MediaType::kModel3d) {
    return Fail(ErrorCode::kInvalidArgument,
                "file content is " + sniffed.mime_type + ", not a 3D model");
  }
  result.container = sniffed.format;
  return result;
}

}  // namespace

Result<ProbeResult> ProbeFile(const std::filesystem::path& path, MediaType type,
                              const ProbeOptions& options) {
  switch (type) {
    case MediaType::kVideo:
    case MediaType::kAudio:
      return ProbeAv(path, type, options);
    case MediaType::kImage:
      return ProbeImage(path, options);
    case MediaType::kModel3d:
      return ProbeModel(path, options);
  }
  return Fail(ErrorCode::kInternal, "unknown media type");
}

}  // namespace pixvault::media
