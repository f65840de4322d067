#include "media/scene_segmenter.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace pixvault::media::scene {
namespace {

// Camera-motion thresholds, in frame widths (or relative scale) per second: heuristics.
constexpr double kPanSpeed = 0.03;   // mean motion vector, for pan / tilt
constexpr double kShakeSpeed = 0.1;  // mean vector length, for shake
constexpr double kZoomRate = 0.03;
constexpr double kMinConsistency = 0.5;
constexpr int kMaxColours = 5;
constexpr double kMinColourWeight = 0.02;

}  // namespace

void ShotSums::Add(const FrameFacts& f, bool with_motion) {
  frames += 1;
  luma += f.luma;
  colours.AddScaled(f.colours, 1);
  if (!with_motion) return;
  motion_samples += 1;
  dx += f.dx;
  dy += f.dy;
  speed += std::hypot(f.dx, f.dy);
  zoom += f.zoom;
}

void ShotSums::AddScaled(const ShotSums& o, double k) {
  frames += o.frames * k;
  luma += o.luma * k;
  colours.AddScaled(o.colours, k);
  motion_samples += o.motion_samples * k;
  dx += o.dx * k;
  dy += o.dy * k;
  speed += o.speed * k;
  zoom += o.zoom * k;
}

CameraMotion Classify(const MotionEstimate& m) {
  const double pan = std::hypot(m.dx_per_sec, m.dy_per_sec);
  if (std::abs(m.zoom_per_sec) >= kZoomRate && std::abs(m.zoom_per_sec) * 0.5 > pan) {
    return CameraMotion::kZoom;
  }
  if (m.samples > 0 && pan >= kPanSpeed && pan >= kMinConsistency * m.speed_per_sec) {
    return std::abs(m.dx_per_sec) >= std::abs(m.dy_per_sec) ? CameraMotion::kPan
                                                            : CameraMotion::kTilt;
  }
  if (m.samples > 0 && m.speed_per_sec >= kShakeSpeed) return CameraMotion::kShake;
  return CameraMotion::kStatic;
}

void Segmenter::Push(FrameFacts facts) {
  pending_.push_back(std::move(facts));
  while (next_ + options_.window <= pending_.back().index) Decide();
}

std::vector<Shot> Segmenter::Finish(double end_time) {
  if (pending_.empty()) return std::move(shots_);
  const std::int64_t end = pending_.back().index + 1;
  while (next_ < end) Decide();
  if (in_dark_) current_.AddScaled(dark_, 1);
  in_dark_ = false;
  Close(end, end_time);
  return std::move(shots_);
}

const FrameFacts& Segmenter::At(std::int64_t index) const {
  return pending_[static_cast<std::size_t>(index - pending_.front().index)];
}

void Segmenter::Decide() {
  const std::int64_t j = next_;
  const FrameFacts& f = At(j);
  double sum = 0;
  int n = 0;
  for (std::int64_t k = std::max<std::int64_t>(1, j - options_.window);
       k <= std::min(pending_.back().index, j + options_.window); ++k) {
    if (k == j) continue;
    sum += At(k).score;
    ++n;
  }
  const double mean = n > 0 ? sum / n : 0;
  const double ratio = mean > 1e-6 ? f.score / mean : (f.score > 0 ? 1e9 : 0);
  // Cuts into the dark, or out of a dark stretch that will be a fade boundary, are left to
  // the fade rule; a cut out of the darkness the shot opened with is a cut.
  const bool opening_dark = in_dark_ && dark_start_ == start_frame_;
  const bool near_fade = f.dark || (previous_dark_ && !opening_dark);
  const bool cut = j > 0 && f.score >= options_.min_content_val &&
                   ratio >= options_.adaptive_threshold && !near_fade &&
                   j - start_frame_ >= min_shot_len_;
  Fold(f, cut);
  ++next_;
  while (!pending_.empty() && pending_.front().index < next_ - options_.window) {
    pending_.pop_front();
  }
}

void Segmenter::Fold(const FrameFacts& f, bool cut) {
  previous_dark_ = f.dark;
  if (f.dark) {
    if (!in_dark_) {
      in_dark_ = true;
      dark_start_ = f.index;
      dark_start_time_ = f.time;
      dark_ = ShotSums{};
    }
    dark_.Add(f, false);  // no motion is measurable in the dark
    return;
  }
  if (in_dark_) {
    in_dark_ = false;
    const std::int64_t middle = (dark_start_ + f.index) / 2;
    // Dark frames at the very start of the shot (the video opens dark) are no boundary.
    if (dark_start_ > start_frame_ && middle - start_frame_ >= min_shot_len_) {
      const double share =
          static_cast<double>(middle - dark_start_) / static_cast<double>(f.index - dark_start_);
      const double middle_time = dark_start_time_ + (f.time - dark_start_time_) * share;
      current_.AddScaled(dark_, share);
      Close(middle, middle_time);
      Open(middle, middle_time, ShotBoundary::kFade);
      current_.AddScaled(dark_, 1 - share);
    } else {
      current_.AddScaled(dark_, 1);
    }
  }
  if (cut) {
    Close(f.index, f.time);
    Open(f.index, f.time, ShotBoundary::kCut);
  }
  current_.Add(f, f.motion_from >= start_frame_);
}

void Segmenter::Open(std::int64_t frame, double time, ShotBoundary boundary) {
  start_frame_ = frame;
  start_time_ = time;
  boundary_ = boundary;
  current_ = ShotSums{};
}

void Segmenter::Close(std::int64_t end, double end_time) {
  Shot shot;
  shot.start_frame = start_frame_;
  shot.end_frame = end;
  shot.start_sec = start_time_;
  shot.end_sec = std::max(end_time, start_time_);
  shot.boundary = boundary_;
  const std::int64_t length = end - start_frame_;
  shot.keyframe = start_frame_ + length / 2;
  shot.keyframe_time_sec = length > 0 ? shot.start_sec + (shot.end_sec - shot.start_sec) *
                                                             static_cast<double>(length / 2) /
                                                             static_cast<double>(length)
                                      : shot.start_sec;
  const ShotSums& s = current_;
  if (s.frames > 0) shot.brightness = std::clamp(s.luma / s.frames / 255, 0.0, 1.0);
  shot.dominant_colors = DominantColours(s.colours, kMaxColours, kMinColourWeight);
  if (s.motion_samples >= 1) {
    shot.motion.samples = static_cast<std::int64_t>(std::lround(s.motion_samples));
    shot.motion.dx_per_sec = s.dx / s.motion_samples;
    shot.motion.dy_per_sec = s.dy / s.motion_samples;
    shot.motion.speed_per_sec = s.speed / s.motion_samples;
    shot.motion.zoom_per_sec = s.zoom / s.motion_samples;
  }
  shot.camera_motion = Classify(shot.motion);
  shots_.push_back(std::move(shot));
}

}  // namespace pixvault::media::scene
