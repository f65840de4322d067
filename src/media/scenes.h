// Shot (scene) segmentation of a video: where the shots of the first video stream start and
// end, and per shot a keyframe, its brightness, dominant colours and camera motion. A pure
// library: nothing is stored.
//
// The method (DESIGN.md section 8), in one streaming pass over the decoded frames:
//  - Each frame's Y, U and V planes are box-averaged to a small working size (`working_width`
//    wide, aspect kept; chroma at half that), each box from at most four of its rows (a sampled box
//    filter; reading the full frame would cost more than the rest of the analysis). No RGB
//    conversion except for the few pixels that feed the colour histogram. Pixel formats
//    other than 8-bit planar YUV are first converted by libswscale to 4:2:0 at that size.
//  - Hard cuts, PySceneDetect's AdaptiveDetector rule: a frame's content score is the
//    weighted mean absolute difference from the previous working frame,
//      score = (2 * |dY| + |dU| + |dV|) / 4        (0..255; luma counts double),
//    its adaptive ratio is the score over the mean score of the `window` frames before and
//    the `window` frames after it, and the frame starts a new shot when
//    ratio >= adaptive_threshold, score >= min_content_val and the current shot is at least
//    `min_shot_len` frames long. A steady pan or zoom raises the scores of all its frames
//    alike, so its ratio stays near 1. Decisions are made `window` frames late.
//  - Fades: frames whose mean luma (0..255, limited-range video rescaled to full range) is
//    below `fade_threshold` and whose mean chroma |U - 128| + |V - 128| is below 12 (so
//    nearly black, not deep blue) are dark. A dark stretch that follows bright frames of the shot
//    and is followed by bright frames (fade-out then fade-in, or a cut to black and back) is one
//    boundary of kind kFade, placed at the middle frame of the dark stretch. A content cut
//    into or out of a dark frame is left to this rule, so a stretch gives one boundary. Dark
//    stretches at the very start or end of the video are part of the first or last shot. A
//    shot that is dark throughout (a night scene under the threshold) cannot be split.
//  - Camera motion: every second frame, block matching (16x16 luma blocks of the working
//    frame, exhaustive search, sub-pixel by a parabola through the costs) against the frame
//    two back; the frame's translation is the median block vector and its zoom rate the
//    median radial component of the residual vectors over the distance to the centre.
//    Flat blocks are ignored. Per shot, with speeds as fractions of the frame width per
//    second (all thresholds heuristics, tuned on synthetic clips):
//      zoom   |mean zoom rate| >= 0.03/s and its edge speed (rate * 0.5) above the mean pan;
//      pan / tilt  mean vector >= 0.03 and at least half the mean vector length (the motion
//             is consistent), by the larger component of the mean vector;
//      shake  mean vector length >= 0.1 without a consistent direction;
//      static otherwise (also when no block in the whole shot has texture).
//    Objects moving in front of a still camera count only when they cover more than half of
//    the textured blocks; slower jitter than 0.1 widths per second reads as static.
//  - Dominant colours: a 4x4x4 RGB histogram over the working chroma grid of every frame
//    (YUV converted with BT.709 at 720 lines and above, BT.601 below, unless the stream says);
//    the largest bins (at least 2% of the pixels, at most 5) with their mean colours.
//
// Decoding uses two frame threads and skips H.264/HEVC's in-loop deblocking filter
// (AvDecoderSettings::skip_loop_filter), which makes decoding markedly faster at the price
// of blocking artefacts; the statistics above are coarse enough not to care.
//
// Memory: the working frames of the last few frames and one summary per finished shot; it
// does not grow with the length of the video otherwise.
//
// Thread-safety: safe from any thread; nothing is shared between calls.
//
// Errors: kInvalidArgument for options out of range or a frame larger than `max_pixels`
// (checked from the header before decoding, and again on decoded frames); kCorrupt for an
// unreadable file, a file without a video stream ("no video stream") or without a decodable
// frame; kUnsupported / kNotFound as OpenAvInput. A file whose reading fails part-way, or
// that yields fewer frames than its index states (a truncated file with the index first),
// gives the shots of the frames decoded until then, with `truncated` set. A truncated file
// with the index at the end cannot be opened (kCorrupt).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace pixvault::media {

struct SceneOptions {
  std::int64_t max_pixels = 268'402'689;  // largest width * height accepted (16383^2)
  double adaptive_threshold = 3.0;        // > 1
  double min_content_val = 15.0;          // 0..255
  int window = 2;                         // frames on each side of the adaptive mean, 1..30
  // Shortest shot, in frames, a cut or fade may end; 0 means round(0.6 s * fps), at least 1.
  int min_shot_len = 0;
  double fade_threshold = 18.0;  // mean luma (0..255, full range) under which a frame is dark
  int working_width = 128;       // 32..512; never more than the frame's own width
  int threads = 2;               // decoder threads, 1..16
};

enum class ShotBoundary { kStart, kCut, kFade };
enum class CameraMotion { kStatic, kPan, kTilt, kZoom, kShake };

// "start", "cut", "fade".
std::string_view ShotBoundaryName(ShotBoundary boundary);
// "static", "pan", "tilt", "zoom", "shake".
std::string_view CameraMotionName(CameraMotion motion);

struct DominantColor {
  std::string hex;    // "#rrggbb", sRGB
  double weight = 0;  // share of the shot's pixels, 0..1
};

// The motion measurements behind `camera_motion`, per second, in frame widths.
struct MotionEstimate {
  double dx_per_sec = 0;     // mean horizontal motion of the picture content (+ = rightwards)
  double dy_per_sec = 0;     // mean vertical motion (+ = downwards)
  double speed_per_sec = 0;  // mean length of the per-frame motion vectors
  double zoom_per_sec = 0;   // relative scale change (+ = zooming in)
  std::int64_t samples = 0;  // frame pairs with enough texture to measure
};

struct Shot {
  // Frames are counted in presentation order from 0; end_frame is one past the last frame.
  std::int64_t start_frame = 0;
  std::int64_t end_frame = 0;
  double start_sec = 0;  // presentation time of start_frame from the stream's start
  double end_sec = 0;    // start of the next shot, or the end of the last frame
  ShotBoundary boundary = ShotBoundary::kStart;  // what started the shot
  // The middle frame; its time is interpolated between start_sec and end_sec (exact for a
  // constant frame rate). Render it with the poster/thumbnail code by seeking to the time.
  std::int64_t keyframe = 0;
  double keyframe_time_sec = 0;
  double brightness = 0;                       // mean luma over the shot, 0 (black) .. 1 (white)
  std::vector<DominantColor> dominant_colors;  // largest first
  CameraMotion camera_motion = CameraMotion::kStatic;
  MotionEstimate motion;
};

struct SceneAnalysis {
  std::vector<Shot> shots;
  std::int64_t frame_count = 0;  // frames decoded
  double fps = 0;                // the stream's average frame rate (0 when unknown)
  int width = 0;                 // of the first decoded frame
  int height = 0;
  bool truncated = false;  // reading failed part-way; the shots cover the frames decoded
  // Frames the decoder flagged as damaged (errors concealed) and packets or frames it
  // refused: both 0 for an intact file.
  std::int64_t damaged_frames = 0;
  std::int64_t decode_errors = 0;
};

// Segments the first video stream of the file at `path` into shots (see above).
[[nodiscard]] Result<SceneAnalysis> DetectScenes(const std::filesystem::path& path,
                                                 const SceneOptions& options = {});

}  // namespace pixvault::media
