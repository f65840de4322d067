// Internal to src/media: the decision half of scene detection (scenes.h). Frames arrive as
// a few numbers each (FrameFacts, measured by scenes.cc with scene_frame.h); the segmenter
// applies the adaptive cut rule `window` frames late, the dark-stretch fade rule, and sums
// each shot's brightness, colours and motion into a Shot. No FFmpeg here.
//
// Memory: the facts of the last 2 * window + 1 frames, the sums of the open shot and of an
// open dark stretch, and the finished shots. Thread-safety: one segmenter per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "media/scene_frame.h"
#include "media/scenes.h"

namespace pixvault::media::scene {

// What the segmenter keeps of one frame.
struct FrameFacts {
  std::int64_t index = 0;
  double time = 0;
  double score = 0;  // content score against the previous frame
  double luma = 0;   // 0..255
  bool dark = false;
  // A motion sample against frame `motion_from` (-1 for none): only counted when both frames
  // are in the same shot.
  std::int64_t motion_from = -1;
  double dx = 0, dy = 0, zoom = 0;  // per second, in frame widths
  ColourHistogram colours;
};

// Sums over the frames of a shot (or of a dark stretch); scalable, so a dark stretch can be
// shared between the shots on either side of a fade.
struct ShotSums {
  double frames = 0, luma = 0;
  ColourHistogram colours;
  double motion_samples = 0, dx = 0, dy = 0, speed = 0, zoom = 0;

  void Add(const FrameFacts& f, bool with_motion);
  void AddScaled(const ShotSums& o, double k);
};

class Segmenter {
 public:
  // `options` must outlive the segmenter; `min_shot_len` is in frames, at least 1.
  Segmenter(const SceneOptions& options, std::int64_t min_shot_len)
      : options_(options), min_shot_len_(min_shot_len) {}

  // Takes the next frame (indexes count up from 0 by 1).
  void Push(FrameFacts facts);

  // Decides the last frames with the neighbours they have and closes the last shot, which
  // ends at `end_time`. Empty when no frame was pushed.
  std::vector<Shot> Finish(double end_time);

 private:
  const FrameFacts& At(std::int64_t index) const;
  void Decide();
  void Fold(const FrameFacts& f, bool cut);
  void Open(std::int64_t frame, double time, ShotBoundary boundary);
  void Close(std::int64_t end, double end_time);
  const SceneOptions& options_;
  const std::int64_t min_shot_len_;
  std::deque<FrameFacts> pending_;  // frames next_ - window .. newest
  std::int64_t next_ = 0;           // the next frame to decide
  bool previous_dark_ = false;
  // The open shot.
  std::int64_t start_frame_ = 0;
  double start_time_ = 0;
  ShotBoundary boundary_ = ShotBoundary::kStart;
  ShotSums current_;
  // The open dark stretch, not yet given to a shot.
  bool in_dark_ = false;
  std::int64_t dark_start_ = 0;
  double dark_start_time_ = 0;
  ShotSums dark_;
  std::vector<Shot> shots_;
};

// The camera-motion label of a shot's measurements (thresholds in scenes.h).
CameraMotion Classify(const MotionEstimate& m);

}  // namespace pixvault::media::scene
