#include "blob/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace pixvault::blob {
namespace {

namespace fs = std::filesystem;

// Owns a file descriptor; closes it (ignoring errors) unless released first.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.Release();
    }
    return *this;
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_;
};

Result<UniqueFd> OpenFd(const fs::path& path, int flags, mode_t mode = 0) {
  for (;;) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EINTR) return Fail(PosixError("open", path, errno));
  }
}

Status FsyncFd(int fd, const fs::path& path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return Fail(PosixError("fsync", path, errno));
  }
  return Ok();
}

Timestamp ToTimestamp(const struct timespec& ts) {
  return static_cast<Timestamp>(ts.tv_sec) * kMicrosPerSecond +
         static_cast<Timestamp>(ts.tv_nsec / 1000);
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(UniqueFd fd, fs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Status Append(std::span<const std::byte> data) override {
    if (!fd_.valid()) return Fail(ErrorCode::kInvalidArgument, "append after close");
    while (!data.empty()) {
      ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(PosixError("write", path_, errno));
      }
      data = data.subspan(static_cast<std::size_t>(n));
    }
    return Ok();
  }

  Status Sync() override {
    if (!fd_.valid()) return Fail(ErrorCode::kInvalidArgument, "sync after close");
    return FsyncFd(fd_.get(), path_);
  }

  Status Close() override {
    if (!fd_.valid()) return Fail(ErrorCode::kInvalidArgument, "close after close");
    // On Linux the descriptor is released even when close() reports EINTR, so never retry.
    if (::close(fd_.Release()) != 0 && errno != EINTR) {
      return Fail(PosixError("close", path_, errno));
    }
    return Ok();
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(UniqueFd fd, fs::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Result<std::size_t> Read(std::span<std::byte> data) override {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::read(fd_.get(), data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(PosixError("read", path_, errno));
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  Result<std::size_t> ReadAt(std::int64_t offset, std::span<std::byte> data) const override {
    if (offset < 0) return Fail(ErrorCode::kInvalidArgument, "negative read offset");
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pread(fd_.get(), data.data() + done, data.size() - done,
                          static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(PosixError("pread", path_, errno));
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  Result<std::int64_t> Size() const override {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return Fail(PosixError("fstat", path_, errno));
    return static_cast<std::int64_t>(st.st_size);
  }

 private:
  UniqueFd fd_;
  fs::path path_;
};

}  // namespace

Error PosixError(std::string_view operation, const fs::path& path, int err) {
  ErrorCode code = ErrorCode::kInternal;
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      code = ErrorCode::kNotFound;
      break;
    case EEXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = ErrorCode::kPermissionDenied;
      break;
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EMFILE:
    case ENFILE:
      code = ErrorCode::kUnavailable;
      break;
    default:
      break;
  }
  std::string message(operation);
  message += ' ';
  message += path.string();
  message += ": ";
  message += std::generic_category().message(err);  // thread-safe, unlike strerror()
  return Error{code, std::move(message)};
}

Result<std::unique_ptr<WritableFile>> PosixEnv::NewWritableFile(const fs::path& path) {
  PV_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
  return std::make_unique<PosixWritableFile>(std::move(fd), path);
}

Result<std::unique_ptr<ReadableFile>> PosixEnv::NewReadableFile(const fs::path& path) {
  PV_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(path, O_RDONLY));
  return std::make_unique<PosixReadableFile>(std::move(fd), path);
}

Status PosixEnv::RenameFile(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Fail(PosixError("rename to " + to.string() + " from", from, errno));
  }
  return Ok();
}

Status PosixEnv::RemoveFile(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) return Fail(PosixError("unlink", path, errno));
  return Ok();
}

Status PosixEnv::CreateDirs(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Ok();
  // Create each level in turn; another process may create the same level concurrently, so
  // EEXIST is success as long as a directory is there.
  fs::path current;
  for (const fs::path& part : path) {
    current /= part;
    if (part.empty()) continue;
    if (::mkdir(current.c_str(), 0755) == 0) continue;
    int err = errno;
    if (err != EEXIST) return Fail(PosixError("mkdir", current, err));
    if (::stat(current.c_str(), &st) != 0) return Fail(PosixError("stat", current, errno));
    if (!S_ISDIR(st.st_mode)) return Fail(PosixError("mkdir", current, ENOTDIR));
  }
  return Ok();
}

Status PosixEnv::SyncDir(const fs::path& dir) {
  PV_ASSIGN_OR_RETURN(UniqueFd fd, OpenFd(dir, O_RDONLY | O_DIRECTORY));
  return FsyncFd(fd.get(), dir);
}

Result<bool> PosixEnv::FileExists(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return Fail(PosixError("lstat", path, errno));
}

Result<FileInfo> PosixEnv::Stat(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Fail(PosixError("lstat", path, errno));
  FileInfo info;
  info.type = S_ISREG(st.st_mode)   ? FileType::kRegular
              : S_ISDIR(st.st_mode) ? FileType::kDirectory
                                    : FileType::kOther;
  info.size = static_cast<std::int64_t>(st.st_size);
  info.modified = ToTimestamp(st.st_mtim);
  return info;
}

Result<std::vector<std::string>> PosixEnv::GetChildren(const fs::path& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> handle(::opendir(dir.c_str()), &::closedir);
  if (handle == nullptr) return Fail(PosixError("opendir", dir, errno));
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(handle.get());
    if (entry == nullptr) {
      if (errno != 0) return Fail(PosixError("readdir", dir, errno));
      break;
    }
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  return names;
}

}  // namespace pixvault::blob
