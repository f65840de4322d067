#include "media/poster.h"

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "media/av_decoder.h"
#include "media/av_util.h"

namespace pixvault::media {
namespace {

constexpr double kForwardDecodeSec = 2.0;  // decode on instead of seeking when this close
constexpr int kMaxFramesToTarget = 250;    // frames decoded after a seek to reach a time
constexpr double kCompareAfterSec = 0.4;   // the frame compared for cuts and fades
constexpr int kMaxFramesToCompare = 60;
constexpr int kAnalysisWidth = 256;
constexpr int kHistogramBins = 32;
constexpr double kFlatPenalty = 0.05;
constexpr double kDarkMean = 24;  // limited-range black is 16
constexpr double kFlatStdDev = 10;

constexpr const char* kToneMapChain =
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
    "zscale=t=bt709:m=bt709:r=tv,format=yuv420p";

struct SwsFree {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsFree>;
struct FilterGraphFree {
  void operator()(AVFilterGraph* graph) const { avfilter_graph_free(&graph); }
};
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphFree>;
struct InOutFree {
  void operator()(AVFilterInOut* inout) const { avfilter_inout_free(&inout); }
};
using InOutPtr = std::unique_ptr<AVFilterInOut, InOutFree>;

// ---- Scoring ----

struct Features {
  double sharpness = 0;  // variance of the Laplacian
  double mean = 0;
  double std_dev = 0;
  std::array<double, kHistogramBins> histogram{};  // normalised
};

Result<Features> Analyse(const AVFrame& frame) {
  const int width = std::min(frame.width, kAnalysisWidth);
  const int height = std::max(
      1, static_cast<int>(std::lround(static_cast<double>(frame.height) * width / frame.width)));
  const SwsContextPtr sws(sws_getContext(frame.width, frame.height,
                                         static_cast<AVPixelFormat>(frame.format), width, height,
                                         AV_PIX_FMT_GRAY8, SWS_AREA, nullptr, nullptr, nullptr));
  if (sws == nullptr) return Fail(ErrorCode::kUnsupported, "cannot convert the frame format");
  const auto w = static_cast<std::size_t>(width);
  const auto h = static_cast<std::size_t>(height);
  const int stride = (width + 63) / 64 * 64;
  std::vector<std::uint8_t> gray(static_cast<std::size_t>(stride) * h);
  std::uint8_t* planes[4] = {gray.data(), nullptr, nullptr, nullptr};
  const int strides[4] = {stride, 0, 0, 0};
  sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, planes, strides);

  Features out;
  double sum = 0, sum_sq = 0;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) {
      const double v = gray[y * static_cast<std::size_t>(stride) + x];
      sum += v;
      sum_sq += v * v;
      out.histogram[static_cast<std::size_t>(v) * kHistogramBins / 256] += 1;
    }
  }
  const double n = static_cast<double>(w * h);
  out.mean = sum / n;
  out.std_dev = std::sqrt(std::max(0.0, sum_sq / n - out.mean * out.mean));
  for (double& bin : out.histogram) bin /= n;
  if (w >= 3 && h >= 3) {
    double lap_sum = 0, lap_sq = 0;
    const auto s = static_cast<std::size_t>(stride);
    for (std::size_t y = 1; y + 1 < h; ++y) {
      for (std::size_t x = 1; x + 1 < w; ++x) {
        const std::uint8_t* p = &gray[y * s + x];
        const double lap = 4.0 * p[0] - p[-1] - p[1] - p[-static_cast<std::ptrdiff_t>(s)] - p[s];
        lap_sum += lap;
        lap_sq += lap * lap;
      }
    }
    const double m = static_cast<double>((w - 2) * (h - 2));
    out.sharpness = lap_sq / m - (lap_sum / m) * (lap_sum / m);
  }
  return out;
}

double HistogramChange(const Features& a, const Features& b) {
  double l1 = 0;
  for (std::size_t i = 0; i < a.histogram.size(); ++i) {
    l1 += std::abs(a.histogram[i] - b.histogram[i]);
  }
  return l1 / 2;
}

double Score(const Features& candidate, const std::optional<Features>& later) {
  const double change = later ? HistogramChange(candidate, *later) : 0;
  const bool flat = candidate.mean < kDarkMean || candidate.std_dev < kFlatStdDev;
  return candidate.sharpness * (1 - change) * (1 - change) * (flat ? kFlatPenalty : 1.0);
}

// ---- Choosing the frame ----

double DurationOf(const AVFormatContext& context, const AVStream& stream) {
  if (stream.duration != AV_NOPTS_VALUE && stream.duration > 0) {
    return static_cast<double>(stream.duration) * av_q2d(stream.time_base);
  }
  if (context.duration != AV_NOPTS_VALUE && context.duration > 0) {
    return static_cast<double>(context.duration) / AV_TIME_BASE;
  }
  return 0;
}

struct Best {
  AvFramePtr frame;
  double time = 0;
  double score = -1;
};

// Decodes up to the first frame at or after `target` (or the last one before the end), seeking
// unless the target is a short way ahead of `position`, the time of the last frame decoded.
// Null when nothing could be decoded there.
Result<AvFramePtr> DecodeAt(AvStreamDecoder& decoder, double target,
                            std::optional<double>& position, double& frame_time) {
  const bool decode_on = position ? (target >= *position && target - *position <= kForwardDecodeSec)
                                  : target <= kForwardDecodeSec;
  if (!decode_on && !decoder.Seek(target)) return AvFramePtr();
  AvFramePtr current;
  for (int n = 0; n < kMaxFramesToTarget; ++n) {
    PV_ASSIGN_OR_RETURN(const AVFrame* frame, decoder.Next());
    if (frame == nullptr) break;
    PV_ASSIGN_OR_RETURN(current, CloneAvFrame(*frame));
    frame_time = decoder.TimeOf(*frame);
    position = frame_time;
    if (frame_time >= target) break;
  }
  return current;
}

Result<Best> ChooseFrame(AVFormatContext& context, AvStreamDecoder& decoder, int candidates) {
  const double duration = DurationOf(context, decoder.stream());
  std::vector<double> times;
  if (duration >= 1.0 && candidates > 1) {
    for (int i = 0; i < candidates; ++i) {
      times.push_back(duration * (0.1 + 0.8 * i / (candidates - 1)));
    }
  } else {
    times.push_back(0);
  }

  Best best;
  std::optional<double> position;  // time of the last frame decoded
  std::optional<double> previous_candidate;
  for (const double target : times) {
    double current_time = 0;
    // An unseekable file still offers its other times.
    PV_ASSIGN_OR_RETURN(AvFramePtr current, DecodeAt(decoder, target, position, current_time));
    if (current == nullptr) continue;
    if (previous_candidate && std::abs(*previous_candidate - current_time) < 1e-6) continue;
    previous_candidate = current_time;

    std::optional<Features> later;
    for (int n = 0; n < kMaxFramesToCompare; ++n) {
      PV_ASSIGN_OR_RETURN(const AVFrame* frame, decoder.Next());
      if (frame == nullptr) break;
      const double t = decoder.TimeOf(*frame);
      position = t;
      if (t >= current_time + kCompareAfterSec || n + 1 == kMaxFramesToCompare) {
        PV_ASSIGN_OR_RETURN(later, Analyse(*frame));
        break;
      }
    }
    PV_ASSIGN_OR_RETURN(const Features features, Analyse(*current));
    const double score = Score(features, later);
    if (score > best.score) {
      best.frame = std::move(current);
      best.time = current_time;
      best.score = score;
    }
  }
  if (best.frame == nullptr) return Fail(ErrorCode::kCorrupt, "no decodable video frame");
  return best;
}

// ---- Tone mapping and conversion ----

bool IsHdr(AVColorTransferCharacteristic trc) {
  return trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67;
}

Result<AvFramePtr> ToneMap(AVFrame& frame) {
  FilterGraphPtr graph(avfilter_graph_alloc());
  if (graph == nullptr) return Fail(ErrorCode::kInternal, "out of memory creating a filter graph");
  graph->nb_threads = 1;
  const std::string args =
      "video_size=" + std::to_string(frame.width) + "x" + std::to_string(frame.height) +
      ":pix_fmt=" + std::to_string(frame.format) + ":time_base=1/1:pixel_aspect=1/1";
  AVFilterContext* source = nullptr;
  AVFilterContext* sink = nullptr;
  int rc = avfilter_graph_create_filter(&source, avfilter_get_by_name("buffer"), "in", args.c_str(),
                                        nullptr, graph.get());
  if (rc < 0) return Fail(AvError(rc, "create tone-mapping input"));
  rc = avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nullptr,
                                    nullptr, graph.get());
  if (rc < 0) return Fail(AvError(rc, "create tone-mapping output"));
  InOutPtr outputs(avfilter_inout_alloc());
  InOutPtr inputs(avfilter_inout_alloc());
  if (outputs == nullptr || inputs == nullptr) {
    return Fail(ErrorCode::kInternal, "out of memory creating a filter graph");
  }
  outputs->name = av_strdup("in");
  outputs->filter_ctx = source;
  inputs->name = av_strdup("out");
  inputs->filter_ctx = sink;
  AVFilterInOut* raw_inputs = inputs.release();
  AVFilterInOut* raw_outputs = outputs.release();
  rc = avfilter_graph_parse_ptr(graph.get(), kToneMapChain, &raw_inputs, &raw_outputs, nullptr);
  inputs.reset(raw_inputs);
  outputs.reset(raw_outputs);
  if (rc < 0) return Fail(AvError(rc, "build the tone-mapping filters"));
  rc = avfilter_graph_config(graph.get(), nullptr);
  if (rc < 0) return Fail(AvError(rc, "configure the tone-mapping filters"));
  rc = av_buffersrc_add_frame_flags(source, &frame, AV_BUFFERSRC_FLAG_KEEP_REF);
  if (rc >= 0) rc = av_buffersrc_add_frame_flags(source, nullptr, 0);
  if (rc < 0) return Fail(AvError(rc, "tone-map the frame"));
  AvFramePtr out(av_frame_alloc());
  if (out == nullptr) return Fail(ErrorCode::kInternal, "out of memory allocating a frame");
  rc = av_buffersink_get_frame(sink, out.get());
  if (rc < 0) return Fail(AvError(rc, "tone-map the frame"));
  return out;
}

int SwsColorspace(const AVFrame& frame) {
  switch (frame.colorspace) {
    case AVCOL_SPC_BT709:
      return SWS_CS_ITU709;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return SWS_CS_BT2020;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
      return SWS_CS_ITU601;
    case AVCOL_SPC_SMPTE240M:
      return SWS_CS_SMPTE240M;
    case AVCOL_SPC_FCC:
      return SWS_CS_FCC;
    default:
      return frame.height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
  }
}

Result<Raster> ToRgb(const AVFrame& frame, AVRational sample_aspect, int max_edge) {
  double display_width = frame.width;
  if (sample_aspect.num > 0 && sample_aspect.den > 0) display_width *= av_q2d(sample_aspect);
  const double longest = std::max(display_width, static_cast<double>(frame.height));
  const double scale = std::min(1.0, max_edge / longest);
  Raster out;
  out.width = std::max(1, static_cast<int>(std::lround(display_width * scale)));
  out.height = std::max(1, static_cast<int>(std::lround(frame.height * scale)));
  out.bands = 3;
  const SwsContextPtr sws(sws_getContext(
      frame.width, frame.height, static_cast<AVPixelFormat>(frame.format), out.width, out.height,
      AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr,
      nullptr));
  if (sws == nullptr) return Fail(ErrorCode::kUnsupported, "cannot convert the frame format");
  const int full_range = frame.color_range == AVCOL_RANGE_JPEG ? 1 : 0;
  sws_setColorspaceDetails(sws.get(), sws_getCoefficients(SwsColorspace(frame)), full_range,
                           sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  // An aligned buffer for swscale, copied into the packed raster.
  AvFramePtr rgb(av_frame_alloc());
  if (rgb == nullptr) return Fail(ErrorCode::kInternal, "out of memory allocating a frame");
  rgb->format = AV_PIX_FMT_RGB24;
  rgb->width = out.width;
  rgb->height = out.height;
  const int rc = av_frame_get_buffer(rgb.get(), 0);
  if (rc < 0) return Fail(AvError(rc, "allocate a frame"));
  sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, rgb->data, rgb->linesize);
  const auto row = static_cast<std::size_t>(out.width) * 3;
  out.pixels.resize(row * static_cast<std::size_t>(out.height));
  for (std::size_t y = 0; y < static_cast<std::size_t>(out.height); ++y) {
    std::copy_n(rgb->data[0] + y * static_cast<std::size_t>(rgb->linesize[0]), row,
                out.pixels.begin() + static_cast<std::ptrdiff_t>(y * row));
  }
  return out;
}

Status CheckFrameSize(const AVCodecParameters& par, std::int64_t max_pixels) {
  if (par.width <= 0 || par.height <= 0) return Ok();
  return CheckPixelLimit(par.width, par.height, max_pixels, "video frame");
}

// An opened video stream, its size checked against the pixel limit.
struct OpenVideo {
  AvFormatContextPtr context;
  const AVStream* stream = nullptr;
};

Result<OpenVideo> OpenVideoStream(const std::filesystem::path& path, std::int64_t max_pixels) {
  OpenVideo v;
  PV_ASSIGN_OR_RETURN(v.context, OpenAvInput(path, AvInputLimits{}));
  // The size from the header first, before stream analysis decodes anything.
  for (unsigned i = 0; i < v.context->nb_streams; ++i) {
    if (v.context->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    PV_RETURN_IF_ERROR(CheckFrameSize(*v.context->streams[i]->codecpar, max_pixels));
  }
  PV_RETURN_IF_ERROR(FindAvStreamInfo(*v.context));
  v.stream = FindAvStream(*v.context, AVMEDIA_TYPE_VIDEO);
  if (v.stream == nullptr) return Fail(ErrorCode::kCorrupt, "no video stream");
  PV_RETURN_IF_ERROR(CheckFrameSize(*v.stream->codecpar, max_pixels));
  return v;
}

// The decoded `frame` as display-ready RGB: size checked, tone-mapped when HDR, scaled.
Result<PosterFrame> ToPosterFrame(AVFrame& frame, const AVStream& stream, double time_sec,
                                  const PosterOptions& options) {
  // A decoded frame can be larger than the header said; it is refused before conversion.
  PV_RETURN_IF_ERROR(CheckPixelLimit(frame.width, frame.height, options.max_pixels, "video frame"));
  // Colour properties the bitstream left unset come from the container.
  const AVCodecParameters& par = *stream.codecpar;
  if (frame.color_trc == AVCOL_TRC_UNSPECIFIED) frame.color_trc = par.color_trc;
  if (frame.color_primaries == AVCOL_PRI_UNSPECIFIED) frame.color_primaries = par.color_primaries;
  if (frame.colorspace == AVCOL_SPC_UNSPECIFIED) frame.colorspace = par.color_space;
  if (frame.color_range == AVCOL_RANGE_UNSPECIFIED) frame.color_range = par.color_range;

  AVRational sample_aspect = frame.sample_aspect_ratio;
  if (sample_aspect.num <= 0) sample_aspect = stream.sample_aspect_ratio;
  if (sample_aspect.num <= 0) sample_aspect = par.sample_aspect_ratio;

  PosterFrame out;
  if (IsHdr(frame.color_trc)) {
    PV_ASSIGN_OR_RETURN(const AvFramePtr sdr, ToneMap(frame));
    PV_ASSIGN_OR_RETURN(out.rgb, ToRgb(*sdr, sample_aspect, options.max_edge));
  } else {
    PV_ASSIGN_OR_RETURN(out.rgb, ToRgb(frame, sample_aspect, options.max_edge));
  }
  out.rotation = DisplayRotation(stream);
  out.time_sec = time_sec;
  return out;
}

}  // namespace

Result<PosterFrame> DecodePosterFrame(const std::filesystem::path& path,
                                      const PosterOptions& options) {
  EnsureLibavInitialised();
  const AvLogCapture capture;  // FFmpeg's own explanation goes into error messages
  PV_ASSIGN_OR_RETURN(const OpenVideo video, OpenVideoStream(path, options.max_pixels));
  PV_ASSIGN_OR_RETURN(AvStreamDecoder decoder,
                      AvStreamDecoder::Open(*video.context, *video.stream));
  PV_ASSIGN_OR_RETURN(Best best, ChooseFrame(*video.context, decoder, options.candidates));
  return ToPosterFrame(*best.frame, *video.stream, best.time, options);
}

Result<std::vector<PosterFrame>> DecodeFramesAt(const std::filesystem::path& path,
                                                const std::vector<double>& times,
                                                const PosterOptions& options) {
  EnsureLibavInitialised();
  const AvLogCapture capture;
  PV_ASSIGN_OR_RETURN(const OpenVideo video, OpenVideoStream(path, options.max_pixels));
  PV_ASSIGN_OR_RETURN(AvStreamDecoder decoder,
                      AvStreamDecoder::Open(*video.context, *video.stream));
  // Decoded in time order (seeking back only when the caller's times go back), answered in
  // the caller's order.
  std::vector<std::size_t> order(times.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return times[a] < times[b]; });
  std::vector<PosterFrame> out(times.size());
  std::optional<double> position;
  for (const std::size_t i : order) {
    if (!std::isfinite(times[i]) || times[i] < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "a frame time must be a finite, non-negative number");
    }
    double frame_time = 0;
    PV_ASSIGN_OR_RETURN(AvFramePtr frame, DecodeAt(decoder, times[i], position, frame_time));
    if (frame == nullptr) {
      // A failed seek: decode from the start instead.
      if (!decoder.Seek(0)) return Fail(ErrorCode::kCorrupt, "cannot seek in the video");
      position.reset();
      PV_ASSIGN_OR_RETURN(frame, DecodeAt(decoder, times[i], position, frame_time));
    }
    if (frame == nullptr) return Fail(ErrorCode::kCorrupt, "no decodable video frame");
    PV_ASSIGN_OR_RETURN(out[i], ToPosterFrame(*frame, *video.stream, frame_time, options));
  }
  return out;
}

}  // namespace pixvault::media
