// Internal to src/media: the poster frame of a video, chosen to be sharp and away from cuts
// and fades, as 8-bit sRGB pixels ready for libvips.
//
// The rule: `candidates` times are spread evenly between 10% and 90% of the duration. At each
// one the decoder seeks (to the keyframe at or before it, or decodes on when the time is at
// most 2 s ahead) and decodes up to the first frame at or after the time (at most 250 frames
// past the seek point). That frame is scored on a grey copy at most 256 pixels wide:
//   score = sharpness * (1 - change)^2 * (0.05 if nearly black or flat, else 1)
// where sharpness is the variance of the 4-neighbour Laplacian, change is the distance (half
// the L1 distance, 0..1) between its 32-bin luma histogram and that of the frame 0.4 s later
// (or the last frame before the end), high across a cut or during a fade, and "nearly black
// or flat" is mean luma below 20 or standard deviation below 10 (of 255). The highest score
// wins; on a tie, the earlier frame. Videos too short for distinct candidates (a single frame,
// under a second) give their first decodable frame.
//
// HDR frames (PQ smpte2084 or HLG arib-std-b67 transfer) are tone-mapped to SDR BT.709 with
// libavfilter: linear light at 100 nits nominal peak, BT.709 primaries, the Hable curve
// without desaturation, BT.709 transfer. The result is converted to RGB with the frame's own
// matrix and range (BT.601 below 720 lines and BT.709 from 720 when unspecified), its pixel
// aspect ratio applied, and scaled (never enlarged) to fit `max_edge` x `max_edge`.
//
// Thread-safety: safe from any thread; nothing is shared between calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "media/raster.h"

namespace pixvault::media {

struct PosterOptions {
  std::int64_t max_pixels = 268'402'689;
  int max_edge = 1280;
  int candidates = 10;
};

struct PosterFrame {
  Raster rgb;                 // 3 bands, not yet rotated
  std::int64_t rotation = 0;  // clockwise degrees to apply for display
  double time_sec = 0;        // of the chosen frame, from the start of the stream
};

// Errors: kCorrupt for an unreadable file, "no video stream", or no decodable frame;
// kInvalidArgument when the frame size exceeds max_pixels; kUnsupported for containers or
// codecs FFmpeg (or pixvault's allowlist) does not open; kNotFound when the file is missing.
[[nodiscard]] Result<PosterFrame> DecodePosterFrame(const std::filesystem::path& path,
                                                    const PosterOptions& options);

// The frames shown at `times` (seconds from the start of the stream; any order): for each, the
// first frame at or after the time, or the last frame when the time is past the end,
// converted like the poster frame (tone-mapped, aspect applied, fitting max_edge). Used for
// the keyframe pictures of shots. Errors as DecodePosterFrame, and kInvalidArgument for a
// negative or non-finite time.
[[nodiscard]] Result<std::vector<PosterFrame>> DecodeFramesAt(const std::filesystem::path& path,
                                                              const std::vector<double>& times,
                                                              const PosterOptions& options);

}  // namespace pixvault::media
