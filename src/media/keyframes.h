// Keyframes of a video, found from packet flags alone (nothing is decoded): where a branch
// point can cut or start playback without decoding from an earlier keyframe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/error.h"

namespace pixvault::media {

struct Keyframe {
  double time_sec = 0;  // presentation time from the start of the video stream
  // time_sec * the stream's average frame rate, rounded; nullopt when the container gives
  // no frame rate.
  std::optional<std::int64_t> frame;
};

// The keyframe of the first video stream nearest to `time_sec` (the earlier one on a tie).
// Seeks to the keyframe at or before the time and reads packets up to the next one, so the
// cost is about one group of pictures, not the file; a container that cannot seek is read
// from the start. Errors: kInvalidArgument for a negative or non-finite time or a file
// without a video stream; kCorrupt when the file is unreadable or has no keyframe;
// kUnsupported / kNotFound as OpenAvInput.
[[nodiscard]] Result<Keyframe> NearestKeyframe(const std::filesystem::path& path, double time_sec);

}  // namespace pixvault::media
