// Internal to src/media: the per-frame measurements of scene detection (scenes.h) on small
// "working" YUV frames: box-average downscaling, the content score, mean luma, block-matching
// motion and the colour histogram. No FFmpeg here: frames arrive as 8-bit planes.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "media/scenes.h"

namespace pixvault::media::scene {

// One 8-bit plane, borrowed.
struct PlaneView {
  const std::uint8_t* data = nullptr;
  int stride = 0;
  int width = 0;
  int height = 0;
};

// A downscaled frame: luma width x height, chroma (width + 1) / 2 x (height + 1) / 2.
struct WorkFrame {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> y, u, v;
  bool full_range = false;  // JPEG range (0..255) rather than limited (16..235)
  bool bt709 = false;       // the YUV matrix for colours; BT.601 otherwise
};

// Resizes `frame`'s planes for a working size; the contents are left to BoxDownscale.
void AllocateWorkFrame(int width, int height, WorkFrame& frame);

// Source rows sampled per box row by BoxDownscale. Reading the decoder's frame (cold in this
// core's cache) is the main cost of the analysis. Luma carries the cuts: two rows were tried
// and lost one in the benchmark suite. Chroma is a quarter of the content score per plane and
// smooth in natural video: two rows keep every cut and fade of the suite and read a sixth
// less of each frame.
inline constexpr int kLumaBoxRows = 4;
inline constexpr int kChromaBoxRows = 2;

// Averages `src` into `dst_width` x `dst_height` boxes and writes them to `dst` (rows
// packed): each output pixel is the mean of the source pixels of its box in at most
// `max_rows` (1..257) rows spread over the box's height (a sampled box filter: cheaper on
// large frames). An output larger than the source repeats source pixels.
void BoxDownscale(const PlaneView& src, int dst_width, int dst_height, int max_rows,
                  std::uint8_t* dst);

// (2 * mean|dY| + mean|dU| + mean|dV|) / 4 between two frames of the same working size.
double ContentScore(const WorkFrame& a, const WorkFrame& b);

// Mean luma, 0..255 on the full-range scale (limited range is stretched).
double MeanLuma(const WorkFrame& frame);

// Mean of |U - 128| + |V - 128| (8-bit units): 0 for grey, black or white pictures.
double MeanChroma(const WorkFrame& frame);

// Motion of the content from `previous` to `current` in working pixels over the frame gap
// between them. `valid` is false when too few blocks have texture to be matched.
struct MotionSample {
  bool valid = false;
  double dx = 0, dy = 0;  // median block translation
  double zoom = 0;        // relative scale change (median radial residual / radius)
};
MotionSample EstimateMotion(const WorkFrame& previous, const WorkFrame& current);

// A 4x4x4 RGB histogram with the colour sums of every bin, summed over frames.
struct ColourHistogram {
  struct Bin {
    double count = 0, r = 0, g = 0, b = 0;
  };
  std::array<Bin, 64> bins{};

  void AddScaled(const ColourHistogram& other, double factor);
};

// Adds the frame's pixels at chroma resolution (luma averaged over each chroma sample).
void AddColours(const WorkFrame& frame, ColourHistogram& histogram);

// The largest bins (at least `min_weight` of the total, at most `max_colours`), largest first.
std::vector<DominantColor> DominantColours(const ColourHistogram& histogram, int max_colours,
                                           double min_weight);

}  // namespace pixvault::media::scene
