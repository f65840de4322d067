// BlobStore: content-addressed storage of immutable byte strings, named by the lowercase hex
// SHA-256 of their content. Identical bytes are stored once.
//
// Writing is split in three steps so the caller can make the blob visible inside its own
// database transaction: BeginWrite + Append (stream to a temp file while hashing),
// Finish (make the temp durable, learn the hash), Publish (atomically move it into place).
// A crash at any step leaves either no blob or a complete one; leftovers are temp files,
// which CleanTemp removes.
//
// Ownership: writers and readers are owned by the caller; a writer must not outlive its
// store, a reader may. Thread-safety: BlobStore implementations are safe for concurrent use,
// also by several processes sharing one root; a single writer or reader is not (except
// BlobReader::ReadAt and size). Errors: kInvalidArgument (malformed sha256, size limit
// exceeded, misuse of a writer), kNotFound (no such blob), kCorrupt (content does not match
// its name), plus the Env's I/O errors (kUnavailable, kPermissionDenied, kInternal).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "blob/env.h"
#include "core/clock.h"
#include "core/error.h"

namespace pixvault::blob {

// Streams are read and written in chunks of this size, so memory does not grow with blobs.
inline constexpr std::size_t kChunkSize = std::size_t{1} << 20;

struct WriteOptions {
  // Appending more than this many bytes fails with kInvalidArgument ("too large").
  std::optional<std::int64_t> max_size;
};

// One blob being written. An I/O error or an exceeded size limit ends the write: the temp
// file is removed (best effort) and every later call fails. Calls out of order (Publish
// before Finish, Append after it) fail with kInvalidArgument and change nothing.
// Destroying a writer that was not published aborts it.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends `data` to the temp file and to the running hash.
  virtual Status Append(std::span<const std::byte> data) = 0;
  // The temp file holding the bytes appended so far, so the caller can probe the content
  // (type sniffing, metadata) before committing to it. Valid until Publish or Abort.
  virtual const std::filesystem::path& temp_path() const = 0;
  // Bytes appended so far.
  virtual std::int64_t size() const = 0;
  // Makes the temp file durable and returns the sha256 of its content. No more Appends.
  virtual Result<std::string> Finish() = 0;
  // Moves the finished temp file to its content address, durably. If the blob already
  // exists, the identical new copy replaces it atomically. If Publish fails after the rename,
  // the blob is complete in place (its name matches its content) but maybe not yet durable.
  virtual Status Publish() = 0;
  // Removes the temp file unless published; idempotent.
  virtual void Abort() = 0;
};

// A stored blob open for reading. Holds the file open, so it stays readable even if the
// blob is removed meanwhile.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Size in bytes, as of opening.
  virtual std::int64_t size() const = 0;
  // Reads from the current position; the count is less than data.size() only at the end.
  virtual Result<std::size_t> Read(std::span<std::byte> data) = 0;
  // Reads at `offset` without moving the position. Safe to call concurrently.
  virtual Result<std::size_t> ReadAt(std::int64_t offset, std::span<std::byte> data) const = 0;
};

// Called for each stored blob; a failed Status stops the walk and is returned by ForEach.
using BlobVisitor = std::function<Status(std::string_view sha256, std::int64_t size)>;
// Called for each entry under the blob tree that is not a correctly placed blob.
using StrayVisitor = std::function<void(const std::filesystem::path& path)>;

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  virtual Result<std::unique_ptr<BlobWriter>> BeginWrite(const WriteOptions& options) = 0;
  // kNotFound if the blob is not stored.
  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) = 0;
  virtual Result<bool> Exists(std::string_view sha256) = 0;
  // kNotFound if the blob is not stored.
  virtual Result<std::int64_t> Size(std::string_view sha256) = 0;
  // Removing a blob that is not stored succeeds.
  virtual Status Remove(std::string_view sha256) = 0;
  // Where the blob lives (whether or not it exists); empty if `sha256` is malformed.
  virtual std::filesystem::path PathFor(std::string_view sha256) const = 0;
  // Visits every stored blob, in no particular order. Entries that are not blobs (bad names,
  // misplaced files, directories at file level) go to `on_stray` if set, for fsck. Blobs
  // published or removed during the walk may or may not be visited.
  virtual Status ForEach(const BlobVisitor& visit, const StrayVisitor& on_stray) = 0;
  // Removes temp files last modified before `modified_before` (left by crashed or abandoned
  // writes), except those of this store's live writers. Writers in other processes are not
  // known, so pass a cutoff well in the past (e.g. now - 1 day) while others may be writing.
  virtual Status CleanTemp(Timestamp modified_before) = 0;
  // Re-hashes a stored blob; returns its sha256, kCorrupt if the content does not match.
  virtual Result<std::string> Verify(std::string_view sha256) = 0;
};

// BlobStore in a directory tree: `<root>/blobs/ab/cd/<sha256>` for blobs (ab and cd being the
// first four hex digits of the hash) and `<root>/tmp/` for writes in progress.
// Borrows `env`, which must outlive the store; the store must outlive its writers.
class FsBlobStore final : public BlobStore {
 public:
  // Opens the store at `root`, creating `<root>/blobs` and `<root>/tmp` if missing.
  static Result<std::unique_ptr<FsBlobStore>> Create(Env& env, std::filesystem::path root);

  Result<std::unique_ptr<BlobWriter>> BeginWrite(const WriteOptions& options) override;
  Result<std::unique_ptr<BlobReader>> Open(std::string_view sha256) override;
  Result<bool> Exists(std::string_view sha256) override;
  Result<std::int64_t> Size(std::string_view sha256) override;
  Status Remove(std::string_view sha256) override;
  std::filesystem::path PathFor(std::string_view sha256) const override;
  Status ForEach(const BlobVisitor& visit, const StrayVisitor& on_stray) override;
  Status CleanTemp(Timestamp modified_before) override;
  Result<std::string> Verify(std::string_view sha256) override;

  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& temp_dir() const { return tmp_; }

 private:
  class Writer;

  FsBlobStore(Env& env, std::filesystem::path root, std::string temp_prefix);

  // Creates a blob's parent directory (and its parent) if missing, durably.
  Status EnsureBlobDir(const std::filesystem::path& dir);
  // Live temp names are skipped by CleanTemp.
  void AddLiveTemp(const std::string& name);
  void RemoveLiveTemp(const std::string& name);

  Env& env_;
  const std::filesystem::path root_;
  const std::filesystem::path blobs_;
  const std::filesystem::path tmp_;
  const std::string temp_prefix_;
  std::atomic<std::uint64_t> next_temp_{0};
  std::mutex mu_;
  std::unordered_set<std::string> live_temps_;  // guarded by mu_
};

}  // namespace pixvault::blob
