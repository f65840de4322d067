#include "media/scenes.h"

extern "C" {
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "media/av_decoder.h"
#include "media/av_util.h"
#include "media/raster.h"
#include "media/scene_frame.h"
#include "media/scene_segmenter.h"

namespace pixvault::media {
namespace {

using scene::FrameFacts;
using scene::MotionSample;
using scene::WorkFrame;

constexpr double kDefaultMinShotSec = 0.6;
constexpr int kMotionGap = 2;  // frames between the two frames of a motion sample
// A dark frame is also nearly colourless: fading to black takes the chroma to neutral, while
// a deep blue or red picture of low luma is a shot of its own.
constexpr double kDarkMaxChroma = 12;

struct SwsFree {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsFree>;

Status Validate(const SceneOptions& o) {
  const auto bad = [](const char* what) {
    return Fail(ErrorCode::kInvalidArgument, std::string("scene option out of range: ") + what);
  };
  if (o.max_pixels <= 0) return bad("max_pixels");
  if (!std::isfinite(o.adaptive_threshold) || o.adaptive_threshold <= 1) {
    return bad("adaptive_threshold");
  }
  if (!std::isfinite(o.min_content_val) || o.min_content_val < 0 || o.min_content_val > 255) {
    return bad("min_content_val");
  }
  if (o.window < 1 || o.window > 30) return bad("window");
  if (o.min_shot_len < 0) return bad("min_shot_len");
  if (!std::isfinite(o.fade_threshold) || o.fade_threshold < 0 || o.fade_threshold > 255) {
    return bad("fade_threshold");
  }
  if (o.working_width < 32 || o.working_width > 512) return bad("working_width");
  if (o.threads < 1 || o.threads > 16) return bad("threads");
  return Ok();
}

// ---- Frames to working frames ----

// 8-bit planar YUV (or grey) that can be box-averaged straight from the decoder's planes.
bool IsPlanar8(const AVPixFmtDescriptor& d) {
  constexpr auto kExcluded = AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL |
                             AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_FLOAT;
  if ((d.flags & kExcluded) != 0 || d.comp[0].depth != 8 || d.comp[0].step != 1) return false;
  if (d.nb_components == 1) return true;
  if (d.nb_components < 3 || (d.flags & AV_PIX_FMT_FLAG_PLANAR) == 0) return false;
  for (int i = 0; i < 3; ++i) {
    if (d.comp[i].depth != 8 || d.comp[i].step != 1 || d.comp[i].shift != 0) return false;
  }
  return true;
}

class WorkFrameMaker {
 public:
  WorkFrameMaker(int width, int height) : width_(width), height_(height) {}

  // Downscales `frame` into `out` (already allocated at the working size).
  Status Make(const AVFrame& frame, WorkFrame& out) {
    const auto format = static_cast<AVPixelFormat>(frame.format);
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    if (desc == nullptr) return Fail(ErrorCode::kUnsupported, "unknown pixel format");
    out.bt709 = frame.colorspace == AVCOL_SPC_BT709 ||
                (frame.colorspace == AVCOL_SPC_UNSPECIFIED && frame.height >= 720);
    if (IsPlanar8(*desc)) {
      out.full_range = frame.color_range == AVCOL_RANGE_JPEG || format == AV_PIX_FMT_YUVJ420P ||
                       format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P ||
                       desc->nb_components == 1;
      FromPlanes(frame, *desc, out);
      return Ok();
    }
    // Anything else (10-bit, NV12, RGB...) goes through libswscale to 8-bit 4:2:0 at the
    // working size first; that costs more, but these streams are the exception.
    sws_.reset(sws_getCachedContext(sws_.release(), frame.width, frame.height, format, width_,
                                    height_, AV_PIX_FMT_YUV420P, SWS_AREA, nullptr, nullptr,
                                    nullptr));
    if (sws_ == nullptr) return Fail(ErrorCode::kUnsupported, "cannot convert the frame format");
    if (scratch_ == nullptr) {
      scratch_.reset(av_frame_alloc());
      if (scratch_ == nullptr) return Fail(ErrorCode::kInternal, "out of memory");
      scratch_->format = AV_PIX_FMT_YUV420P;
      scratch_->width = width_;
      scratch_->height = height_;
      const int rc = av_frame_get_buffer(scratch_.get(), 0);
      if (rc < 0) return Fail(AvError(rc, "allocate a frame"));
    }
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, scratch_->data,
              scratch_->linesize);
    out.full_range = false;
    FromPlanes(*scratch_, *av_pix_fmt_desc_get(AV_PIX_FMT_YUV420P), out);
    return Ok();
  }

 private:
  static void FromPlanes(const AVFrame& frame, const AVPixFmtDescriptor& desc, WorkFrame& out) {
    const int cw = (out.width + 1) / 2, ch = (out.height + 1) / 2;
    scene::BoxDownscale({frame.data[0], frame.linesize[0], frame.width, frame.height}, out.width,
                        out.height, scene::kLumaBoxRows, out.y.data());
    if (desc.nb_components == 1) {
      std::fill(out.u.begin(), out.u.end(), std::uint8_t{128});
      std::fill(out.v.begin(), out.v.end(), std::uint8_t{128});
      return;
    }
    const int sw = AV_CEIL_RSHIFT(frame.width, static_cast<int>(desc.log2_chroma_w));
    const int sh = AV_CEIL_RSHIFT(frame.height, static_cast<int>(desc.log2_chroma_h));
    const int pu = desc.comp[1].plane, pv = desc.comp[2].plane;
    scene::BoxDownscale({frame.data[pu], frame.linesize[pu], sw, sh}, cw, ch, scene::kChromaBoxRows,
                        out.u.data());
    scene::BoxDownscale({frame.data[pv], frame.linesize[pv], sw, sh}, cw, ch, scene::kChromaBoxRows,
                        out.v.data());
  }

  int width_, height_;
  SwsContextPtr sws_;
  AvFramePtr scratch_;
};

Status CheckFrameSize(const AVCodecParameters& par, std::int64_t max_pixels) {
  if (par.width <= 0 || par.height <= 0) return Ok();
  return CheckPixelLimit(par.width, par.height, max_pixels, "video frame");
}

}  // namespace

std::string_view ShotBoundaryName(ShotBoundary boundary) {
  switch (boundary) {
    case ShotBoundary::kStart:
      return "start";
    case ShotBoundary::kCut:
      return "cut";
    case ShotBoundary::kFade:
      return "fade";
  }
  return "start";
}

std::string_view CameraMotionName(CameraMotion motion) {
  switch (motion) {
    case CameraMotion::kStatic:
      return "static";
    case CameraMotion::kPan:
      return "pan";
    case CameraMotion::kTilt:
      return "tilt";
    case CameraMotion::kZoom:
      return "zoom";
    case CameraMotion::kShake:
      return "shake";
  }
  return "static";
}

Result<SceneAnalysis> DetectScenes(const std::filesystem::path& path, const SceneOptions& options) {
  PV_RETURN_IF_ERROR(Validate(options));
  EnsureLibavInitialised();
  const AvLogCapture capture;  // FFmpeg's own explanation goes into error messages
  PV_ASSIGN_OR_RETURN(const AvFormatContextPtr context, OpenAvInput(path, AvInputLimits{}));
  for (unsigned i = 0; i < context->nb_streams; ++i) {
    if (context->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    PV_RETURN_IF_ERROR(CheckFrameSize(*context->streams[i]->codecpar, options.max_pixels));
  }
  PV_RETURN_IF_ERROR(FindAvStreamInfo(*context));
  const AVStream* stream = FindAvStream(*context, AVMEDIA_TYPE_VIDEO);
  if (stream == nullptr) return Fail(ErrorCode::kCorrupt, "no video stream");
  PV_RETURN_IF_ERROR(CheckFrameSize(*stream->codecpar, options.max_pixels));
  PV_ASSIGN_OR_RETURN(AvStreamDecoder decoder,
                      AvStreamDecoder::Open(
                          *context, *stream,
                          AvDecoderSettings{.threads = options.threads, .skip_loop_filter = true}));

  SceneAnalysis out;
  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) out.fps = av_q2d(rate);
  const double frame_sec = out.fps > 0 ? 1 / out.fps : 1.0 / 25;
  const int min_shot_len =
      options.min_shot_len > 0
          ? options.min_shot_len
          : std::max(1, static_cast<int>(std::lround(kDefaultMinShotSec / frame_sec)));
  scene::Segmenter segmenter(options, min_shot_len);

  std::unique_ptr<WorkFrameMaker> maker;
  // The working frames of the current frame and the two before it: each frame reuses the
  // buffers of the oldest, so work[0] is the current one, work[1] the previous one.
  std::array<WorkFrame, kMotionGap + 1> work;
  std::array<double, kMotionGap + 1> times{};
  std::int64_t index = 0;
  double last_time = 0;
  for (;; ++index) {
    auto next = decoder.Next();
    if (!next) {
      if (index == 0) return Fail(std::move(next).error());
      out.truncated = true;  // keep what was decoded
      break;
    }
    const AVFrame* frame = *next;
    if (frame == nullptr) break;
    PV_RETURN_IF_ERROR(
        CheckPixelLimit(frame->width, frame->height, options.max_pixels, "video frame"));
    if (maker == nullptr) {
      out.width = frame->width;
      out.height = frame->height;
      const int w = std::min(options.working_width, frame->width);
      const int h = std::max(
          1, static_cast<int>(std::lround(static_cast<double>(frame->height) * w / frame->width)));
      for (WorkFrame& f : work) scene::AllocateWorkFrame(w, h, f);
      maker = std::make_unique<WorkFrameMaker>(w, h);
    }
    std::rotate(work.rbegin(), work.rbegin() + 1, work.rend());
    std::rotate(times.rbegin(), times.rbegin() + 1, times.rend());
    WorkFrame& current = work[0];
    PV_RETURN_IF_ERROR(maker->Make(*frame, current));
    const bool stamped =
        frame->best_effort_timestamp != AV_NOPTS_VALUE || frame->pts != AV_NOPTS_VALUE;
    double time = stamped ? decoder.TimeOf(*frame) : static_cast<double>(index) * frame_sec;
    if (index > 0 && time <= last_time) time = last_time + frame_sec;  // keep times rising
    times[0] = time;
    last_time = time;

    FrameFacts facts;
    facts.index = index;
    facts.time = time;
    facts.luma = scene::MeanLuma(current);
    facts.dark = facts.luma < options.fade_threshold && scene::MeanChroma(current) < kDarkMaxChroma;
    if (index > 0) facts.score = scene::ContentScore(work[1], current);
    if (index >= kMotionGap && index % kMotionGap == 0) {
      const MotionSample m = scene::EstimateMotion(work[kMotionGap], current);
      const double dt = times[0] - times[kMotionGap];
      if (m.valid && dt > 0) {
        const double per_sec = 1 / (dt * current.width);
        facts.motion_from = index - kMotionGap;
        facts.dx = m.dx * per_sec;
        facts.dy = m.dy * per_sec;
        facts.zoom = m.zoom / dt;
      }
    }
    scene::AddColours(current, facts.colours);
    segmenter.Push(std::move(facts));
  }
  if (index == 0) return Fail(ErrorCode::kCorrupt, "no decodable video frame");
  out.frame_count = index;
  out.damaged_frames = decoder.damaged_frames();
  out.decode_errors = decoder.decode_errors();
  // A file cut short at a packet boundary reads as a shorter video; the container's frame
  // count (when the index states one) tells.
  if (stream->nb_frames > 0 && index + 1 < stream->nb_frames) out.truncated = true;
  out.shots = segmenter.Finish(last_time + frame_sec);
  return out;
}

}  // namespace pixvault::media
