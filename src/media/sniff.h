// Media type detection from a file's leading bytes.
//
// `SniffType` decides what a file is from its content (libmagic, plus explicit checks for the
// 3D formats libmagic does not know). The filename is only a hint and is never trusted on its
// own: it is consulted for OBJ alone, which is plain text and cannot be told apart from other
// text otherwise. A text file named `clip.mp4` is rejected.
//
// Ownership: the functions borrow their arguments and return values; no state is kept between
// calls. Thread-safety: safe to call from any number of threads at once (each call opens its
// own libmagic handle, which costs about 3 ms).
//
// Errors: kInvalidArgument for an empty file; kUnsupported when the content is not a media
// type pixvault accepts (the message names the detected MIME type); kInternal when libmagic
// or its database cannot be loaded. `SniffFile` adds kNotFound, kPermissionDenied and
// kUnavailable for files that cannot be read. Messages never contain the path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/enums.h"
#include "core/error.h"

namespace pixvault::media {

// How many leading bytes of a file `SniffType` expects to see (more are ignored).
inline constexpr std::size_t kSniffHeadBytes = 64 * 1024;

struct Sniffed {
  MediaType type = MediaType::kVideo;
  // "video/mp4", "image/png", "model/gltf-binary", ...
  std::string mime_type;
  // Canonical short name without a dot, usable as a file extension: "mp4", "webm", "mov",
  // "mkv", "png", "jpeg", "gif", "webp", "wav", "mp3", "flac", "ogg", "glb", "gltf", "obj",
  // "fbx", ...
  std::string format;
};

// Decides the media type of a file from its first bytes (`head`, normally the first
// kSniffHeadBytes of the file) and the name it was uploaded under (`filename_hint`, may be
// empty). Audio-only MP4/WebM files without an audio-specific brand sniff as video; the probe
// tells them apart.
[[nodiscard]] Result<Sniffed> SniffType(std::span<const std::byte> head,
                                        std::string_view filename_hint);

// Reads the first kSniffHeadBytes of `path` and sniffs them. `filename_hint` defaults to
// `path`'s own filename (blob files are named by hash, so callers pass the upload's name).
[[nodiscard]] Result<Sniffed> SniffFile(const std::filesystem::path& path,
                                        std::string_view filename_hint = {});

}  // namespace pixvault::media
