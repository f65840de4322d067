// Internal to src/media: the two model parsers behind AnalyzeModel (media/model3d.h, which
// defines what every ModelFacts field means) and the helpers they share. They run inside the
// child process of AnalyzeModel and may allocate freely up to its limits.
//
// Thread-safety: each call is independent. Errors: as in model3d.h; messages never contain
// the model's path.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"
#include "media/image_header.h"
#include "media/model3d.h"

namespace pixvault::media::model3d_internal {

struct ParseLimits {
  std::int64_t max_buffer_bytes = 0;
};

// glTF 2.0 through tinygltf (`path` may be .gltf JSON or .glb binary; the magic decides).
[[nodiscard]] Result<ModelFacts> ParseWithTinyGltf(const std::filesystem::path& path,
                                                   const ParseLimits& limits);

// Checks a glTF file's declared buffer sizes and URIs before any parser reads them: every
// buffer's byteLength against `max_buffer_bytes` and against the data that backs it (data URI
// length, GLB BIN chunk, external file size), and every external buffer URI for escapes from
// the model's directory. kInvalidArgument on a violation; Ok when the file is not parseable
// JSON/GLB (the parsers report that).
[[nodiscard]] Status PreflightGltf(const std::filesystem::path& path, const ParseLimits& limits);

// Everything assimp opens (glTF included).
[[nodiscard]] Result<ModelFacts> ParseWithAssimp(const std::filesystem::path& path,
                                                 const ParseLimits& limits);

// `relative` (a URI path, already percent-decoded) resolved against `directory` when the
// result is an existing regular file inside `directory` (after resolving symlinks); nullopt
// for absolute paths, ".." escapes and missing files.
std::optional<std::filesystem::path> ResolveInside(const std::filesystem::path& directory,
                                                   const std::string& relative);

// Whether `file` exists and lies inside `directory` once both are made canonical.
bool IsInside(const std::filesystem::path& directory, const std::filesystem::path& file);

// Size of the image in `file` from its first bytes; nullopt when unreadable or unknown.
std::optional<ImageSize> ReadImageSize(const std::filesystem::path& file);

// Axis-aligned bounds accumulated over world-space points.
class Bounds {
 public:
  void Add(double x, double y, double z);
  std::optional<std::array<double, 3>> Size() const;

 private:
  bool empty_ = true;
  std::array<double, 3> min_{}, max_{};
};

// Keeps the largest (by area) texture size seen.
void KeepLargest(std::optional<ImageSize>& largest, const ImageSize& candidate);
std::optional<std::string> ResolutionText(const std::optional<ImageSize>& size);

// `text` with every occurrence of `directory`'s path removed (library messages name files).
std::string WithoutPath(std::string text, const std::filesystem::path& directory);

}  // namespace pixvault::media::model3d_internal
