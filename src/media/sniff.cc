#include "media/sniff.h"

#include <fcntl.h>
#include <magic.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <vector>

namespace pixvault::media {
namespace {

struct MimeEntry {
  std::string_view magic_mime;  // as libmagic reports it
  MediaType type;
  std::string_view mime;  // canonical, as served back to clients
  std::string_view format;
};

// Everything not listed here is refused, whatever the filename says. The list is limited to
// what libavformat (under the probe's demuxer whitelist) and libvips (under its loader
// whitelist) open.
constexpr auto kMimeTable = std::to_array<MimeEntry>({
    {"video/mp4", MediaType::kVideo, "video/mp4", "mp4"},
    {"video/quicktime", MediaType::kVideo, "video/quicktime", "mov"},
    {"video/webm", MediaType::kVideo, "video/webm", "webm"},
    {"video/x-matroska", MediaType::kVideo, "video/x-matroska", "mkv"},
    {"video/x-msvideo", MediaType::kVideo, "video/x-msvideo", "avi"},
    {"video/x-flv", MediaType::kVideo, "video/x-flv", "flv"},
    {"video/mp2t", MediaType::kVideo, "video/mp2t", "ts"},
    {"video/mpeg", MediaType::kVideo, "video/mpeg", "mpg"},
    {"video/3gpp", MediaType::kVideo, "video/3gpp", "3gp"},
    {"video/3gpp2", MediaType::kVideo, "video/3gpp2", "3g2"},
    {"video/x-m4v", MediaType::kVideo, "video/x-m4v", "m4v"},
    {"video/ogg", MediaType::kVideo, "video/ogg", "ogv"},
    {"audio/x-wav", MediaType::kAudio, "audio/wav", "wav"},
    {"audio/wav", MediaType::kAudio, "audio/wav", "wav"},
    {"audio/mpeg", MediaType::kAudio, "audio/mpeg", "mp3"},
    {"audio/flac", MediaType::kAudio, "audio/flac", "flac"},
    {"audio/x-flac", MediaType::kAudio, "audio/flac", "flac"},
    {"audio/ogg", MediaType::kAudio, "audio/ogg", "ogg"},
    {"audio/x-m4a", MediaType::kAudio, "audio/mp4", "m4a"},
    {"audio/mp4", MediaType::kAudio, "audio/mp4", "m4a"},
    {"audio/aac", MediaType::kAudio, "audio/aac", "aac"},
    {"audio/x-hx-aac-adts", MediaType::kAudio, "audio/aac", "aac"},
    {"audio/x-aiff", MediaType::kAudio, "audio/aiff", "aiff"},
    {"audio/webm", MediaType::kAudio, "audio/webm", "webm"},
    {"image/png", MediaType::kImage, "image/png", "png"},
    {"image/jpeg", MediaType::kImage, "image/jpeg", "jpeg"},
    {"image/gif", MediaType::kImage, "image/gif", "gif"},
    {"image/webp", MediaType::kImage, "image/webp", "webp"},
    {"image/tiff", MediaType::kImage, "image/tiff", "tiff"},
    {"image/avif", MediaType::kImage, "image/avif", "avif"},
    {"image/heic", MediaType::kImage, "image/heic", "heic"},
    {"image/heif", MediaType::kImage, "image/heif", "heif"},
    {"image/jxl", MediaType::kImage, "image/jxl", "jxl"},
    {"model/gltf-binary", MediaType::kModel3d, "model/gltf-binary", "glb"},
});

struct MagicCloser {
  void operator()(magic_t cookie) const { magic_close(cookie); }
};
using MagicHandle = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser>;

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string_view AsText(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string_view SkipBomAndSpace(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty() &&
         (text[0] == ' ' || text[0] == '\t' || text[0] == '\r' || text[0] == '\n')) {
    text.remove_prefix(1);
  }
  return text;
}

std::uint32_t ReadLe32(std::string_view text, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(text[offset + i])) << (8 * i);
  }
  return value;
}

// GLB: "glTF", then a little-endian container version (1 or 2).
bool IsGlb(std::string_view text) {
  if (text.size() < 12 || !text.starts_with("glTF")) return false;
  const std::uint32_t version = ReadLe32(text, 4);
  return version == 1 || version == 2;
}

// glTF JSON: an object with a top-level "asset" member, found by a cheap scan of the head
// that tracks strings and nesting but does not otherwise validate the JSON.
bool IsGltfJson(std::string_view text) {
  text = SkipBomAndSpace(text);
  if (text.empty() || text[0] != '{') return false;
  int depth = 0;
  bool expect_key = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      std::size_t end = i + 1;
      while (end < text.size() && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
      if (end >= text.size()) return false;
      if (depth == 1 && expect_key) {
        if (text.substr(i + 1, end - i - 1) == "asset") {
          const std::string_view rest = SkipBomAndSpace(text.substr(end + 1));
          return !rest.empty() && rest[0] == ':';
        }
        expect_key = false;
      }
      i = end;
    } else if (c == '{' || c == '[') {
      ++depth;
      expect_key = depth == 1;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return false;
    } else if (c == ',' && depth == 1) {
      expect_key = true;
    }
  }
  return false;
}

bool IsFbx(std::string_view text) {
  static constexpr std::string_view kBinaryMagic("Kaydara FBX Binary  \0", 21);
  return text.starts_with(kBinaryMagic) || SkipBomAndSpace(text).starts_with("; FBX");
}

// Wavefront OBJ is plain text: every complete line must be blank or start with an OBJ
// statement, and there must be at least one vertex.
bool LooksLikeObj(std::string_view text) {
  static constexpr auto kKeywords = std::to_array<std::string_view>(
      {"v",          "vt",        "vn",     "vp",     "f",        "l",        "p",     "o",
       "g",          "s",         "mtllib", "usemtl", "cstype",   "deg",      "curv",  "curv2",
       "surf",       "parm",      "trim",   "hole",   "scrv",     "sp",       "end",   "mg",
       "lod",        "usemap",    "maplib", "bevel",  "c_interp", "d_interp", "ctech", "stech",
       "shadow_obj", "trace_obj", "call",   "csh"});
  const bool ends_cut = !text.empty() && text.back() != '\n';
  if (ends_cut) {
    // The head may stop mid-line; judge only complete lines (or the whole, if it is one).
    const std::size_t last_newline = text.rfind('\n');
    if (last_newline != std::string_view::npos) text = text.substr(0, last_newline + 1);
  }
  bool has_vertex = false;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(std::min(eol + 1, text.size()));
    for (const char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 && c != '\t' && c != '\r') return false;
      if (u == 0x7F) return false;
    }
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) continue;
    line.remove_prefix(start);
    if (line[0] == '#') continue;
    const std::string_view keyword = line.substr(0, line.find_first_of(" \t\r"));
    if (std::find(kKeywords.begin(), kKeywords.end(), keyword) == kKeywords.end()) return false;
    has_vertex = has_vertex || keyword == "v";
  }
  return has_vertex;
}

bool HintHasExtension(std::string_view filename_hint, std::string_view extension) {
  if (filename_hint.size() <= extension.size()) return false;
  const std::string_view tail = filename_hint.substr(filename_hint.size() - extension.size());
  return std::equal(tail.begin(), tail.end(), extension.begin(), extension.end(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; });
}

Result<std::string> MagicMimeType(std::span<const std::byte> head) {
  MagicHandle cookie(magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS));
  if (!cookie) return Fail(ErrorCode::kInternal, "libmagic: magic_open failed");
  if (magic_load(cookie.get(), nullptr) != 0) {
    const char* why = magic_error(cookie.get());
    return Fail(ErrorCode::kInternal,
                std::string("libmagic: cannot load database: ") + (why ? why : "unknown error"));
  }
  const char* mime = magic_buffer(cookie.get(), head.data(), head.size());
  if (mime == nullptr) {
    const char* why = magic_error(cookie.get());
    return Fail(ErrorCode::kInternal, std::string("libmagic: ") + (why ? why : "unknown error"));
  }
  return std::string(mime);
}

}  // namespace

Result<Sniffed> SniffType(std::span<const std::byte> head, std::string_view filename_hint) {
  if (head.empty()) return Fail(ErrorCode::kInvalidArgument, "empty file");
  head = head.first(std::min(head.size(), kSniffHeadBytes));
  const std::string_view text = AsText(head);

  // libmagic knows none of these (or, for JSON, only that it is JSON), so they go first.
  if (IsGlb(text)) return Sniffed{MediaType::kModel3d, "model/gltf-binary", "glb"};
  if (IsFbx(text)) return Sniffed{MediaType::kModel3d, "model/vnd.fbx", "fbx"};
  if (IsGltfJson(text)) return Sniffed{MediaType::kModel3d, "model/gltf+json", "gltf"};
  if (HintHasExtension(filename_hint, ".obj") && LooksLikeObj(text)) {
    return Sniffed{MediaType::kModel3d, "model/obj", "obj"};
  }

  PV_ASSIGN_OR_RETURN(const std::string mime, MagicMimeType(head));
  for (const MimeEntry& entry : kMimeTable) {
    if (entry.magic_mime == mime) {
      return Sniffed{entry.type, std::string(entry.mime), std::string(entry.format)};
    }
  }
  return Fail(ErrorCode::kUnsupported, "file content is " + mime + ", not a supported media type");
}

Result<Sniffed> SniffFile(const std::filesystem::path& path, std::string_view filename_hint) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const ErrorCode code = err == ENOENT   ? ErrorCode::kNotFound
                           : err == EACCES ? ErrorCode::kPermissionDenied
                                           : ErrorCode::kUnavailable;
    return Fail(code, "cannot open file: " + ErrnoText(err));
  }
  const FdCloser closer{fd};
  std::vector<std::byte> head(kSniffHeadBytes);
  std::size_t filled = 0;
  while (filled < head.size()) {
    const ssize_t n = ::read(fd, head.data() + filled, head.size() - filled);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kUnavailable, "cannot read file: " + ErrnoText(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  head.resize(filled);
  const std::string name = path.filename().string();
  return SniffType(head, filename_hint.empty() ? std::string_view(name) : filename_hint);
}

}  // namespace pixvault::media
