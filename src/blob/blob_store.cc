#include "blob/blob_store.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "core/sha256.h"

namespace pixvault::blob {
namespace {

namespace fs = std::filesystem;

Status CheckSha(std::string_view sha256) {
  if (IsSha256Hex(sha256)) return Ok();
  // The input is not echoed: it is untrusted and may be arbitrarily long or binary.
  return Fail(ErrorCode::kInvalidArgument, "malformed sha256 (want 64 lowercase hex characters)");
}

bool IsHexPair(std::string_view name) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return name.size() == 2 && hex(name[0]) && hex(name[1]);
}

bool IsNotFound(const Error& error) { return error.code == ErrorCode::kNotFound; }

class FsBlobReader final : public BlobReader {
 public:
  FsBlobReader(std::unique_ptr<ReadableFile> file, std::int64_t size)
      : file_(std::move(file)), size_(size) {}

  std::int64_t size() const override { return size_; }
  Result<std::size_t> Read(std::span<std::byte> data) override { return file_->Read(data); }
  Result<std::size_t> ReadAt(std::int64_t offset, std::span<std::byte> data) const override {
    return file_->ReadAt(offset, data);
  }

 private:
  std::unique_ptr<ReadableFile> file_;
  std::int64_t size_;
};

}  // namespace

class FsBlobStore::Writer final : public BlobWriter {
 public:
  Writer(FsBlobStore& store, std::unique_ptr<WritableFile> file, std::string temp_name,
         WriteOptions options)
      : store_(store),
        file_(std::move(file)),
        temp_name_(std::move(temp_name)),
        temp_path_(store.tmp_ / temp_name_),
        options_(options) {}
  ~Writer() override { Abort(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Status Append(std::span<const std::byte> data) override {
    if (state_ != State::kWriting) return Misuse("Append");
    const auto n = static_cast<std::int64_t>(data.size());
    if (options_.max_size && size_ + n > *options_.max_size) {
      return Failed(
          Error{ErrorCode::kInvalidArgument,
                "blob too large: more than " + std::to_string(*options_.max_size) + " bytes"});
    }
    if (auto s = file_->Append(data); !s) return Failed(std::move(s).error());
    hasher_.Update(data);
    size_ += n;
    return Ok();
  }

  const fs::path& temp_path() const override { return temp_path_; }
  std::int64_t size() const override { return size_; }

  Result<std::string> Finish() override {
    if (state_ != State::kWriting) return Misuse("Finish");
    // The data must be durable before the rename makes it visible under its content address.
    if (auto s = file_->Sync(); !s) return Failed(std::move(s).error());
    if (auto s = file_->Close(); !s) return Failed(std::move(s).error());
    file_.reset();
    sha256_ = hasher_.FinishHex();
    state_ = State::kFinished;
    return sha256_;
  }

  Status Publish() override {
    if (state_ != State::kFinished) return Misuse("Publish");
    const fs::path final_path = store_.PathFor(sha256_);
    const fs::path dir = final_path.parent_path();
    if (auto s = store_.EnsureBlobDir(dir); !s) return Failed(std::move(s).error());
    // rename(2) replaces an existing blob atomically; readers see the old or the new copy,
    // and both have the same bytes.
    if (auto s = store_.env_.RenameFile(temp_path_, final_path); !s) {
      return Failed(std::move(s).error());
    }
    state_ = State::kPublished;
    store_.RemoveLiveTemp(temp_name_);
    // The blob is in place and its content is durable; only its directory entry may not be.
    return store_.env_.SyncDir(dir);
  }

  void Abort() override {
    if (state_ == State::kPublished || state_ == State::kAborted) return;
    state_ = State::kAborted;
    file_.reset();
    // Best effort: if this fails the temp file is an orphan that CleanTemp removes later.
    (void)store_.env_.RemoveFile(temp_path_);
    store_.RemoveLiveTemp(temp_name_);
  }

 private:
  enum class State { kWriting, kFinished, kPublished, kAborted };

  // Ends the write after an error.
  tl::unexpected<Error> Failed(Error error) {
    Abort();
    return Fail(WithContext(std::move(error), "blob write"));
  }
  tl::unexpected<Error> Misuse(std::string_view call) const {
    static constexpr std::string_view kStateNames[] = {"writing", "finished", "published",
                                                       "aborted or failed"};
    return Fail(ErrorCode::kInvalidArgument,
                std::string(call) + " on a blob writer that is " +
                    std::string(kStateNames[static_cast<int>(state_)]));
  }

  FsBlobStore& store_;
  std::unique_ptr<WritableFile> file_;
  const std::string temp_name_;
  const fs::path temp_path_;
  const WriteOptions options_;
  Sha256 hasher_;
  std::int64_t size_ = 0;
  std::string sha256_;
  State state_ = State::kWriting;
};

FsBlobStore::FsBlobStore(Env& env, fs::path root, std::string temp_prefix)
    : env_(env),
      root_(std::move(root)),
      blobs_(root_ / "blobs"),
      tmp_(root_ / "tmp"),
      temp_prefix_(std::move(temp_prefix)) {}

Result<std::unique_ptr<FsBlobStore>> FsBlobStore::Create(Env& env, fs::path root) {
  // Temp names must not collide with those of other processes sharing the root (possibly on
  // other hosts); a random prefix per store makes that practically impossible, and
  // NewWritableFile's exclusive create turns the impossible into an error, not a clobber.
  std::random_device random;
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "%08x%08x-", random(), random());
  std::unique_ptr<FsBlobStore> store(new FsBlobStore(env, std::move(root), prefix));
  PV_RETURN_IF_ERROR(env.CreateDirs(store->blobs_));
  PV_RETURN_IF_ERROR(env.CreateDirs(store->tmp_));
  return store;
}

void FsBlobStore::AddLiveTemp(const std::string& name) {
  std::lock_guard lock(mu_);
  live_temps_.insert(name);
}

void FsBlobStore::RemoveLiveTemp(const std::string& name) {
  std::lock_guard lock(mu_);
  live_temps_.erase(name);
}

Result<std::unique_ptr<BlobWriter>> FsBlobStore::BeginWrite(const WriteOptions& options) {
  if (options.max_size && *options.max_size < 0) {
    return Fail(ErrorCode::kInvalidArgument, "negative blob size limit");
  }
  std::string name = temp_prefix_ + std::to_string(next_temp_.fetch_add(1)) + ".tmp";
  // Registered before the file exists, so a concurrent CleanTemp never sees it unregistered.
  AddLiveTemp(name);
  auto file = env_.NewWritableFile(tmp_ / name);
  if (!file) {
    RemoveLiveTemp(name);
    return Fail(WithContext(std::move(file).error(), "blob write"));
  }
  return std::make_unique<Writer>(*this, std::move(*file), std::move(name), options);
}

Status FsBlobStore::EnsureBlobDir(const fs::path& dir) {
  PV_ASSIGN_OR_RETURN(bool exists, env_.FileExists(dir));
  if (exists) return Ok();
  PV_RETURN_IF_ERROR(env_.CreateDirs(dir));
  // A new directory survives a crash only once the directory containing it is synced.
  PV_RETURN_IF_ERROR(env_.SyncDir(dir.parent_path()));
  return env_.SyncDir(dir.parent_path().parent_path());
}

Result<std::unique_ptr<BlobReader>> FsBlobStore::Open(std::string_view sha256) {
  PV_RETURN_IF_ERROR(CheckSha(sha256));
  PV_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, env_.NewReadableFile(PathFor(sha256)));
  PV_ASSIGN_OR_RETURN(std::int64_t size, file->Size());
  return std::make_unique<FsBlobReader>(std::move(file), size);
}

Result<bool> FsBlobStore::Exists(std::string_view sha256) {
  PV_RETURN_IF_ERROR(CheckSha(sha256));
  auto info = env_.Stat(PathFor(sha256));
  if (!info) {
    if (IsNotFound(info.error())) return false;
    return Fail(std::move(info).error());
  }
  return info->type == FileType::kRegular;
}

Result<std::int64_t> FsBlobStore::Size(std::string_view sha256) {
  PV_RETURN_IF_ERROR(CheckSha(sha256));
  const fs::path path = PathFor(sha256);
  PV_ASSIGN_OR_RETURN(FileInfo info, env_.Stat(path));
  if (info.type != FileType::kRegular) {
    return Fail(ErrorCode::kNotFound, "not a blob file: " + path.string());
  }
  return info.size;
}

Status FsBlobStore::Remove(std::string_view sha256) {
  PV_RETURN_IF_ERROR(CheckSha(sha256));
  // Empty directories are kept: a concurrent Publish may be about to rename into them. The
  // directory is not synced: a removal undone by a crash leaves an orphan that fsck finds.
  auto status = env_.RemoveFile(PathFor(sha256));
  if (!status && !IsNotFound(status.error())) return status;
  return Ok();
}

fs::path FsBlobStore::PathFor(std::string_view sha256) const {
  if (!IsSha256Hex(sha256)) return {};
  return blobs_ / sha256.substr(0, 2) / sha256.substr(2, 2) / sha256;
}

Status FsBlobStore::ForEach(const BlobVisitor& visit, const StrayVisitor& on_stray) {
  auto stray = [&](const fs::path& path) {
    if (on_stray) on_stray(path);
  };
  // Children of `dir` that are directories named by a hex pair; anything else is a stray.
  auto hex_dirs = [&](const fs::path& dir) -> Result<std::vector<std::string>> {
    PV_ASSIGN_OR_RETURN(std::vector<std::string> names, env_.GetChildren(dir));
    std::sort(names.begin(), names.end());
    std::vector<std::string> dirs;
    for (std::string& name : names) {
      auto info = env_.Stat(dir / name);
      if (!info) {
        if (IsNotFound(info.error())) continue;
        return Fail(std::move(info).error());
      }
      if (IsHexPair(name) && info->type == FileType::kDirectory) {
        dirs.push_back(std::move(name));
      } else {
        stray(dir / name);
      }
    }
    return dirs;
  };

  PV_ASSIGN_OR_RETURN(std::vector<std::string> level1, hex_dirs(blobs_));
  for (const std::string& a : level1) {
    PV_ASSIGN_OR_RETURN(std::vector<std::string> level2, hex_dirs(blobs_ / a));
    for (const std::string& b : level2) {
      const fs::path dir = blobs_ / a / b;
      PV_ASSIGN_OR_RETURN(std::vector<std::string> names, env_.GetChildren(dir));
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) {
        auto info = env_.Stat(dir / name);
        if (!info) {
          if (IsNotFound(info.error())) continue;  // removed during the walk
          return Fail(std::move(info).error());
        }
        // A blob is only found where PathFor looks for it, so a misplaced one is a stray.
        if (info->type != FileType::kRegular || PathFor(name) != dir / name) {
          stray(dir / name);
          continue;
        }
        PV_RETURN_IF_ERROR(visit(name, info->size));
      }
    }
  }
  return Ok();
}

Status FsBlobStore::CleanTemp(Timestamp modified_before) {
  PV_ASSIGN_OR_RETURN(std::vector<std::string> names, env_.GetChildren(tmp_));
  for (const std::string& name : names) {
    {
      std::lock_guard lock(mu_);
      if (live_temps_.contains(name)) continue;
    }
    const fs::path path = tmp_ / name;
    auto info = env_.Stat(path);
    if (!info) {
      if (IsNotFound(info.error())) continue;
      return Fail(std::move(info).error());
    }
    if (info->type != FileType::kRegular || info->modified >= modified_before) continue;
    auto status = env_.RemoveFile(path);
    if (!status && !IsNotFound(status.error())) return status;
  }
  return Ok();
}

Result<std::string> FsBlobStore::Verify(std::string_view sha256) {
  PV_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, Open(sha256));
  Sha256 hasher;
  std::vector<std::byte> buffer(kChunkSize);
  for (;;) {
    PV_ASSIGN_OR_RETURN(std::size_t n, reader->Read(buffer));
    hasher.Update(std::span<const std::byte>(buffer.data(), n));
    if (n < buffer.size()) break;
  }
  std::string actual = hasher.FinishHex();
  if (actual != sha256) {
    return Fail(ErrorCode::kCorrupt,
                "blob " + std::string(sha256) + " has content hashing to " + actual);
  }
  return actual;
}

}  // namespace pixvault::blob
