// Env: the filesystem operations the blob store needs, behind a small interface so tests can
// substitute a fault-injecting decorator (see fault_injection_env.h), as in leveldb.
//
// Ownership: files returned by an Env are owned by the caller and must not outlive the Env.
// Thread-safety: Env implementations are safe for concurrent use; a single WritableFile or
// ReadableFile is not, except ReadableFile::ReadAt and Size, which may be called concurrently.
// Errors: kNotFound (missing path), kAlreadyExists, kPermissionDenied, kUnavailable (disk
// full, I/O error) and kInternal (anything else); the message names the operation, the path
// and the OS error text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace pixvault::blob {

// A file being written sequentially. Close it explicitly to see its errors; the destructor
// closes silently if Close was not called.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data` or fails.
  virtual Status Append(std::span<const std::byte> data) = 0;
  // Makes the appended data durable (fsync).
  virtual Status Sync() = 0;
  // Releases the file; any later call fails with kInvalidArgument.
  virtual Status Close() = 0;
};

// A file open for reading.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads from the current position and advances it. Returns the byte count, which is less
  // than data.size() only at end of file.
  virtual Result<std::size_t> Read(std::span<std::byte> data) = 0;
  // Reads at `offset` without moving the position (pread). Same count rule as Read.
  virtual Result<std::size_t> ReadAt(std::int64_t offset, std::span<std::byte> data) const = 0;
  // Current size of the open file.
  virtual Result<std::int64_t> Size() const = 0;
};

enum class FileType { kRegular, kDirectory, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  std::int64_t size = 0;
  Timestamp modified = 0;  // last data modification (mtime)
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates `path`, which must not exist yet (kAlreadyExists otherwise), for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::filesystem::path& path) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> NewReadableFile(
      const std::filesystem::path& path) = 0;
  // Atomically moves `from` to `to`, replacing `to` if it is a file.
  virtual Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // Removes a file; kNotFound if it does not exist.
  virtual Status RemoveFile(const std::filesystem::path& path) = 0;
  // Creates `path` and any missing parents; succeeds if it already is a directory.
  virtual Status CreateDirs(const std::filesystem::path& path) = 0;
  // Makes the entries of directory `dir` (creations, renames) durable.
  virtual Status SyncDir(const std::filesystem::path& dir) = 0;

  // True if anything exists at `path`.
  virtual Result<bool> FileExists(const std::filesystem::path& path) = 0;
  // Type, size and mtime of `path` (not following a final symlink); kNotFound if missing.
  virtual Result<FileInfo> Stat(const std::filesystem::path& path) = 0;
  // Names of the entries of `dir`, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> GetChildren(const std::filesystem::path& dir) = 0;
};

// Env over the real filesystem with POSIX calls. Files are opened O_CLOEXEC, calls
// interrupted by signals are retried. Stateless, so any number may exist.
class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::filesystem::path& path) override;
  Result<std::unique_ptr<ReadableFile>> NewReadableFile(const std::filesystem::path& path) override;
  Status RenameFile(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status RemoveFile(const std::filesystem::path& path) override;
  Status CreateDirs(const std::filesystem::path& path) override;
  Status SyncDir(const std::filesystem::path& dir) override;
  Result<bool> FileExists(const std::filesystem::path& path) override;
  Result<FileInfo> Stat(const std::filesystem::path& path) override;
  Result<std::vector<std::string>> GetChildren(const std::filesystem::path& dir) override;
};

// Converts an errno value into an Error: "<operation> <path>: <strerror>".
Error PosixError(std::string_view operation, const std::filesystem::path& path, int err);

}  // namespace pixvault::blob
