// DerivedFiles: files computed from a blob's bytes (thumbnails, previews), kept beside the blob
// store as a cache: `<root>/derived/ab/cd/<sha256>.<name>`. Anything here can be rebuilt from
// the blob, so nothing is fsynced; a write goes to a temp file in the same folder and is
// renamed into place, so a reader sees a complete file or none.
//
// Derived files follow the bytes, not the asset: two assets with the same bytes share them.
//
// Thread-safety: all methods may be called concurrently; concurrent writes of the same file
// leave one of them complete.
// Errors: kInvalidArgument for a sha256 that is not 64 lowercase hex digits or a name outside
// [a-z0-9.-] (1..64 characters, not starting with '.'), kNotFound for a missing file,
// kUnavailable for I/O errors (the message names the operation and the OS error).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace pixvault::blob {

class DerivedFiles {
 public:
  // `root`: the data folder; files live under `<root>/derived`, created on first write.
  explicit DerivedFiles(std::filesystem::path root) : root_(std::move(root) / "derived") {}

  [[nodiscard]] Result<std::filesystem::path> PathFor(std::string_view sha256,
                                                      std::string_view name) const;
  // Replaces the file atomically with `bytes`.
  [[nodiscard]] Status Write(std::string_view sha256, std::string_view name,
                             std::string_view bytes) const;
  // The whole file.
  [[nodiscard]] Result<std::string> Read(std::string_view sha256, std::string_view name) const;
  // Removes every derived file of the blob (none is not an error).
  [[nodiscard]] Status RemoveAll(std::string_view sha256) const;
  // Removes the blob's derived files whose name starts with `prefix` (a valid name start).
  [[nodiscard]] Status RemoveWithPrefix(std::string_view sha256, std::string_view prefix) const;

  // Walks every file under the root (none yet is not an error): `file(sha256, path, temp)` for
  // one named after a blob in its blob's folder (`temp`: a write's temp file, which a crash
  // can leave), `stray(path)` for anything else. Stops at the first error `file` returns.
  using FileVisitor =
      std::function<Status(std::string_view sha256, const std::filesystem::path& path, bool temp)>;
  [[nodiscard]] Status ForEach(
      const FileVisitor& file,
      const std::function<void(const std::filesystem::path&)>& stray) const;

 private:
  std::filesystem::path root_;
};

}  // namespace pixvault::blob
