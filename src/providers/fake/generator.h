// Media generation for the fake provider's jobs: small clips and pictures made with the
// ffmpeg command line (lavfi test sources), optionally from input files.
//
// Stateless; safe to call from several threads at once (each call runs its own ffmpeg).
// Errors: kInvalidArgument for an unknown operation or bad parameters (from
// GenerationSpecFromParams), kInternal when ffmpeg cannot run or exits with an error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace pixvault::providers::fake {

struct GenerationSpec {
  std::string operation;  // text_to_video, image_to_video, video_extend, text_to_image
  int width = 64;
  int height = 64;
  double duration_s = 1.0;  // videos only
  int fps = 10;
  std::filesystem::path input;  // image_to_video: the image; video_extend: the video
};

// True for the operations the fake provider knows.
bool IsKnownOperation(const std::string& operation);
// Whether `operation` needs an input file, and the params key naming its ref ("image_ref",
// "video_ref"); "" when it needs none.
std::string InputRefKey(const std::string& operation);
// The output's file extension (".mp4", ".png") and content type.
std::string OutputExtension(const std::string& operation);
std::string OutputContentType(const std::string& operation);

// The arguments after `ffmpeg` that make `spec` into `out`.
std::vector<std::string> FfmpegArguments(const GenerationSpec& spec,
                                         const std::filesystem::path& out);

// Runs `ffmpeg` (a program name or path) with `args`, output discarded. kInternal when it
// cannot start or exits non-zero.
Status RunProgram(const std::string& ffmpeg, const std::vector<std::string>& args);

}  // namespace pixvault::providers::fake
