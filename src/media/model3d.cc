#include "media/model3d.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>

#include "media/child_process.h"
#include "media/model3d_parsers.h"

namespace pixvault::media {

namespace model3d_internal {

namespace fs = std::filesystem;

bool IsInside(const fs::path& directory, const fs::path& file) {
  std::error_code ec;
  const fs::path dir = fs::canonical(directory, ec);
  if (ec) return false;
  const fs::path target = fs::canonical(file, ec);
  if (ec || !fs::is_regular_file(target, ec)) return false;
  const auto [dir_end, target_it] =
      std::mismatch(dir.begin(), dir.end(), target.begin(), target.end());
  return dir_end == dir.end() && target_it != target.end();
}

std::optional<fs::path> ResolveInside(const fs::path& directory, const std::string& relative) {
  if (relative.empty()) return std::nullopt;
  const fs::path r(relative);
  if (r.is_absolute() || r.has_root_name() || r.has_root_directory()) return std::nullopt;
  const fs::path candidate = directory / r;
  if (!IsInside(directory, candidate)) return std::nullopt;
  return candidate;
}

std::optional<ImageSize> ReadImageSize(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<unsigned char> head(64 * 1024);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return ImageSizeFromHeader(head);
}

void Bounds::Add(double x, double y, double z) {
  const std::array<double, 3> p = {x, y, z};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!std::isfinite(p[i])) return;  // one infinite vertex would make the box meaningless
  }
  for (std::size_t i = 0; i < 3; ++i) {
    min_[i] = empty_ ? p[i] : std::min(min_[i], p[i]);
    max_[i] = empty_ ? p[i] : std::max(max_[i], p[i]);
  }
  empty_ = false;
}

std::optional<std::array<double, 3>> Bounds::Size() const {
  if (empty_) return std::nullopt;
  return std::array<double, 3>{max_[0] - min_[0], max_[1] - min_[1], max_[2] - min_[2]};
}

void KeepLargest(std::optional<ImageSize>& largest, const ImageSize& candidate) {
  const auto area = [](const ImageSize& s) {
    return static_cast<std::int64_t>(s.width) * s.height;
  };
  if (!largest || area(candidate) > area(*largest)) largest = candidate;
}

std::optional<std::string> ResolutionText(const std::optional<ImageSize>& size) {
  if (!size) return std::nullopt;
  return std::to_string(size->width) + "x" + std::to_string(size->height);
}

std::string WithoutPath(std::string text, const fs::path& directory) {
  std::error_code ec;
  for (const std::string& needle : {fs::absolute(directory, ec).string(), directory.string()}) {
    if (needle.empty() || needle == ".") continue;
    for (std::size_t at; (at = text.find(needle)) != std::string::npos;)
      text.erase(at, needle.size());
  }
  return text;
}

}  // namespace model3d_internal

namespace {

namespace fs = std::filesystem;
using model3d_internal::ParseLimits;
using nlohmann::json;

std::string Lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Library messages may quote bytes of the file ("last read: '\xff'"): keep printable ASCII only,
// so that messages are valid UTF-8 wherever they end up.
std::string Printable(std::string text) {
  for (char& c : text) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return text;
}

bool IsGltf(std::string_view format) { return format == "gltf" || format == "glb"; }

// ---- Runs in the child ----

Result<ModelFacts> Parse(const fs::path& path, const std::string& format,
                         const ModelOptions& options) {
  const ParseLimits limits{options.max_buffer_bytes};
  if (!IsGltf(format)) {
    if (options.parser == ModelParser::kTinyGltf) {
      return Fail(ErrorCode::kUnsupported, "tinygltf reads only glTF and GLB");
    }
    return model3d_internal::ParseWithAssimp(path, limits);
  }
  PV_RETURN_IF_ERROR(model3d_internal::PreflightGltf(path, limits));
  if (options.parser == ModelParser::kAssimp)
    return model3d_internal::ParseWithAssimp(path, limits);
  Result<ModelFacts> gltf = model3d_internal::ParseWithTinyGltf(path, limits);
  if (gltf || options.parser == ModelParser::kTinyGltf) return gltf;
  // glTF 1.0, schema errors, and whatever else tinygltf refuses: assimp may still read it.
  Result<ModelFacts> fallback = model3d_internal::ParseWithAssimp(path, limits);
  if (!fallback) {
    return Fail(ErrorCode::kCorrupt, gltf.error().message + "; " + fallback.error().message);
  }
  fallback->warnings.insert(fallback->warnings.begin(),
                            "read by assimp after " + gltf.error().message);
  return fallback;
}

std::string Serialize(const ModelFacts& facts) {
  json j = {{"polygons", facts.polygon_count},
            {"vertices", facts.vertex_count},
            {"format", facts.file_format},
            {"textures", facts.has_textures},
            {"animations", facts.has_animations},
            {"rigging", facts.has_rigging},
            {"materials", facts.has_materials},
            {"material_count", facts.material_count},
            {"parser", static_cast<int>(facts.parser)},
            {"warnings", facts.warnings}};
  if (facts.texture_resolution) j["resolution"] = *facts.texture_resolution;
  if (facts.bounding_box_size) j["bbox"] = *facts.bounding_box_size;
  // Replace, not throw, on invalid UTF-8 in names taken from the file.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- Back in the parent ----

Result<ModelFacts> Deserialize(const std::string& text) {
  try {
    const json j = json::parse(text);
    ModelFacts facts;
    facts.polygon_count = j.at("polygons").get<std::int64_t>();
    facts.vertex_count = j.at("vertices").get<std::int64_t>();
    facts.file_format = j.at("format").get<std::string>();
    facts.has_textures = j.at("textures").get<bool>();
    facts.has_animations = j.at("animations").get<bool>();
    facts.has_rigging = j.at("rigging").get<bool>();
    facts.has_materials = j.at("materials").get<bool>();
    facts.material_count = j.at("material_count").get<std::int64_t>();
    facts.parser = j.at("parser").get<int>() == 1 ? ModelParser::kAssimp : ModelParser::kTinyGltf;
    facts.warnings = j.at("warnings").get<std::vector<std::string>>();
    if (j.contains("resolution")) facts.texture_resolution = j["resolution"].get<std::string>();
    if (j.contains("bbox")) facts.bounding_box_size = j["bbox"].get<std::array<double, 3>>();
    return facts;
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal,
                std::string("malformed answer from the parser process: ") + e.what());
  }
}

Status CheckReadable(const fs::path& path, const ModelOptions& options) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Fail(ErrorCode::kNotFound, "file not found");
  if (!fs::is_regular_file(status)) return Fail(ErrorCode::kInvalidArgument, "not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(errno == EACCES ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable,
                "cannot open file");
  }
  ::close(fd);
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, "cannot read file size");
  if (size == 0) return Fail(ErrorCode::kInvalidArgument, "empty file");
  if (size > static_cast<std::uintmax_t>(options.max_file_bytes)) {
    return Fail(ErrorCode::kInvalidArgument, "model file is " + std::to_string(size) +
                                                 " bytes, more than the limit of " +
                                                 std::to_string(options.max_file_bytes));
  }
  return Ok();
}

}  // namespace

std::string_view ModelParserName(ModelParser parser) {
  return parser == ModelParser::kAssimp ? "assimp" : "tinygltf";
}

Result<ModelFacts> AnalyzeModel(const fs::path& path, std::string_view format_hint,
                                const ModelOptions& options) {
  PV_RETURN_IF_ERROR(CheckReadable(path, options));
  std::string format = Lowercase(format_hint);
  if (format.empty() && path.has_extension())
    format = Lowercase(path.extension().string().substr(1));

  const ChildLimits limits{options.max_memory_bytes, options.max_cpu_seconds, options.wall_timeout};
  PV_ASSIGN_OR_RETURN(const std::string answer, RunInChild(limits, [&]() -> Result<std::string> {
                        if (options.child_hook_for_testing) options.child_hook_for_testing();
                        Result<ModelFacts> facts = Parse(path, format, options);
                        if (!facts) {
                          return Fail(facts.error().code, Printable(facts.error().message));
                        }
                        for (std::string& warning : facts->warnings) {
                          warning = Printable(std::move(warning));
                        }
                        return Serialize(*facts);
                      }));
  PV_ASSIGN_OR_RETURN(ModelFacts facts, Deserialize(answer));
  if (!format.empty() && facts.parser == ModelParser::kAssimp) facts.file_format = format;
  return facts;
}

}  // namespace pixvault::media
