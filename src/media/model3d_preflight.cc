// Declared-size checks on a glTF before a parser trusts them: tinygltf and assimp both size
// their buffers from `byteLength`, so a 60-byte file declaring 100 GB must be refused here.
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <iterator>

#include "media/model3d_parsers.h"

namespace pixvault::media::model3d_internal {
namespace {

namespace fs = std::filesystem;

std::uint32_t Le32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 4; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(const std::string& uri) {
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && HexDigit(uri[i + 1]) >= 0 &&
        HexDigit(uri[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(uri[i + 1]) * 16 + HexDigit(uri[i + 2]));
      i += 2;
    } else {
      out += uri[i];
    }
  }
  return out;
}

bool Escapes(const fs::path& relative) {
  if (relative.is_absolute() || relative.has_root_name() || relative.has_root_directory()) {
    return true;
  }
  for (const fs::path& part : relative) {
    if (part == "..") return true;
  }
  return false;
}

Error TooLarge(std::size_t index, double declared, std::string_view what, double available) {
  return Error{ErrorCode::kInvalidArgument, "glTF buffer " + std::to_string(index) + " declares " +
                                                std::to_string(static_cast<long long>(declared)) +
                                                " bytes, more than " + std::string(what) + " (" +
                                                std::to_string(static_cast<long long>(available)) +
                                                " bytes)"};
}

}  // namespace

Status PreflightGltf(const fs::path& path, const ParseLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fs::path directory = path.parent_path().empty() ? fs::path(".") : path.parent_path();

  bool binary = false;
  std::string_view json_text = data;
  double bin_size = 0;
  if (data.size() >= 4 && std::memcmp(data.data(), "glTF", 4) == 0) {
    binary = true;
    if (data.size() < 20 || Le32(data, 4) != 2) return Ok();  // the parsers explain
    const std::size_t json_length = Le32(data, 12);
    if (Le32(data, 16) != 0x4E4F534Au || json_length > data.size() - 20) return Ok();
    json_text = std::string_view(data).substr(20, json_length);
    const std::size_t bin_at = 20 + json_length;
    if (bin_at + 8 <= data.size() && Le32(data, bin_at + 4) == 0x004E4942u) {
      bin_size =
          static_cast<double>(std::min<std::size_t>(Le32(data, bin_at), data.size() - bin_at - 8));
    }
  }
  const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Ok();
  const auto buffers = json.find("buffers");
  if (buffers == json.end() || !buffers->is_array()) return Ok();

  const auto limit = static_cast<double>(limits.max_buffer_bytes);
  for (std::size_t i = 0; i < buffers->size(); ++i) {
    const nlohmann::json& buffer = (*buffers)[i];
    if (!buffer.is_object()) continue;
    const auto length_it = buffer.find("byteLength");
    if (length_it == buffer.end() || !length_it->is_number()) continue;
    const double declared = length_it->get<double>();
    if (declared > limit) return Fail(TooLarge(i, declared, "the buffer limit", limit));
    const auto uri_it = buffer.find("uri");
    if (uri_it == buffer.end() || !uri_it->is_string()) {
      if (binary && declared > bin_size) {
        return Fail(TooLarge(i, declared, "the GLB binary chunk holds", bin_size));
      }
      continue;
    }
    const std::string& uri = uri_it->get_ref<const std::string&>();
    if (uri.rfind("data:", 0) == 0) {
      const std::size_t comma = uri.find(',');
      const double payload =
          comma == std::string::npos ? 0 : static_cast<double>(uri.size() - comma - 1) * 3.0 / 4.0;
      if (declared > payload) return Fail(TooLarge(i, declared, "its data URI holds", payload));
      continue;
    }
    const fs::path relative(PercentDecode(uri));
    if (Escapes(relative)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "glTF buffer " + std::to_string(i) + " refers to a file outside its directory");
    }
    const std::optional<fs::path> file = ResolveInside(directory, relative.string());
    if (!file) continue;  // missing (or a symlink out): the parser reports it as not found
    std::error_code ec;
    const auto size = static_cast<double>(fs::file_size(*file, ec));
    if (ec) continue;
    if (size > limit) {
      return Fail(ErrorCode::kInvalidArgument,
                  "glTF buffer " + std::to_string(i) + " is a file over the buffer limit");
    }
    if (declared > size) return Fail(TooLarge(i, declared, "its file holds", size));
  }
  return Ok();
}

}  // namespace pixvault::media::model3d_internal
