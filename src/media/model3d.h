// Measured facts of a 3D model file (the fields of Asset3dMetadata): triangle and vertex
// counts, materials, textures, animation, rigging, world-space bounding box.
//
// Two parsers: tinygltf for glTF 2.0 (.gltf, .glb), assimp for everything else (OBJ, FBX, PLY,
// STL, DAE, 3DS, ...) and for glTF that tinygltf refuses (glTF 1.0, Draco-compressed meshes,
// schema errors). Both run in a forked child process with memory, CPU and wall-clock limits
// (media/child_process.h, which documents the fork-in-a-threaded-process caveat), so a parser
// that crashes, exhausts memory or hangs yields an Error and leaves the caller untouched.
//
// Definitions, the same for both parsers:
//  * polygon_count: triangles of every mesh as instanced in the scene graph (a mesh referenced
//    by three nodes counts three times), after triangulation: a triangle list of n indices is
//    n/3, a strip or fan of n is n-2, a polygon of k corners is k-2; points and lines add none.
//  * vertex_count: vertices of those same mesh instances (including point and line meshes) as a
//    renderer would upload them: a vertex is one unique combination of position and
//    attributes. tinygltf: the POSITION accessor count of each primitive. assimp: mNumVertices
//    after aiProcess_JoinIdenticalVertices, which re-indexes formats that store faces by corner
//    (OBJ, STL, PLY without indices); a glTF whose own buffers repeat identical vertices
//    therefore reports fewer vertices through assimp than through tinygltf.
//  * A file without a scene (glTF "scenes" absent) counts each mesh once, untransformed.
//  * bounding_box_size: [x, y, z] extents of the axis-aligned box around every vertex of those
//    instances after the node transforms (world space), in the file's units; absent when there
//    are no vertices.
//  * material_count: materials the file defines (assimp's implicit "DefaultMaterial" excluded);
//    has_materials = material_count > 0.
//  * has_textures: an image or texture is referenced (even when the image file is missing);
//    texture_resolution: "WxH" of the largest (by area) texture whose header could be read.
//  * has_rigging: skins (glTF) or bones (assimp); has_animations: animations of any kind.
//
// External files (glTF buffers and images, OBJ material libraries, textures) are read only from
// the model's own directory or below it: absolute paths, "..", and symlinks leading out are
// refused. A missing or refused image is a warning; a missing or refused buffer is an error.
//
// Ownership: nothing is retained between calls; ModelFacts is a plain value.
// Thread-safety: safe to call from any number of threads at once (each call forks its own
// child).
//
// Errors: kNotFound / kPermissionDenied / kUnavailable when the file cannot be read;
// kInvalidArgument for an empty file, a file over `max_file_bytes`, or a glTF that declares a
// buffer larger than the data it has or than `max_buffer_bytes` (checked before any buffer is
// read or allocated), or refers to a file outside its directory; kCorrupt when neither parser
// makes sense of the content, or the child crashed, ran out of memory, CPU or time ("the model
// could not be parsed (timed out)"); kUnsupported for a format neither parser opens; kInternal
// when the child process cannot be started. Messages never contain the path.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace pixvault::media {

enum class ModelParser { kTinyGltf, kAssimp };

// "tinygltf", "assimp".
std::string_view ModelParserName(ModelParser parser);

struct ModelOptions {
  // Limits of the parsing child process (see ChildLimits).
  std::int64_t max_memory_bytes = std::int64_t{1} << 30;
  std::int64_t max_cpu_seconds = 30;
  std::chrono::milliseconds wall_timeout{60'000};
  // Largest model file accepted (checked before parsing).
  std::int64_t max_file_bytes = std::int64_t{2} << 30;
  // Largest glTF buffer (declared byteLength, embedded data URI, external .bin) accepted.
  std::int64_t max_buffer_bytes = std::int64_t{1} << 30;
  // Use only this parser, with no fallback (benchmarks compare the two). Unset: tinygltf for
  // glTF with assimp as fallback, assimp for the rest.
  std::optional<ModelParser> parser;
  // Test hook: runs in the child process before the parser (to make the child hang, crash or
  // allocate without bound). Never set in production.
  std::function<void()> child_hook_for_testing;
};

struct ModelFacts {
  std::int64_t polygon_count = 0;
  std::int64_t vertex_count = 0;
  // Lower-case short name: "gltf", "glb", "obj", "fbx", "ply", "stl", "dae", "3ds", ...
  std::string file_format;
  bool has_textures = false;
  bool has_animations = false;
  bool has_rigging = false;
  bool has_materials = false;
  std::int64_t material_count = 0;
  std::optional<std::string> texture_resolution;  // "2048x1024"
  std::optional<std::array<double, 3>> bounding_box_size;
  ModelParser parser = ModelParser::kTinyGltf;
  // Things the parser skipped or could not resolve ("image 0: file not found"), and the
  // reason a glTF went to the fallback parser. Never contain the model's path.
  std::vector<std::string> warnings;
};

// Analyses the model at `path`. `format_hint` is the format SniffType found ("glb", "obj");
// when empty, the file extension decides.
[[nodiscard]] Result<ModelFacts> AnalyzeModel(const std::filesystem::path& path,
                                              std::string_view format_hint,
                                              const ModelOptions& options = {});

}  // namespace pixvault::media
