#include "blob/derived_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/sha256.h"

namespace pixvault::blob {
namespace {

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Error OsError(const std::string& what, int err) {
  return Error{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
               what + ": " + std::strerror(err)};
}

}  // namespace

Result<std::filesystem::path> DerivedFiles::PathFor(std::string_view sha256,
                                                    std::string_view name) const {
  if (!IsSha256Hex(sha256)) return Fail(ErrorCode::kInvalidArgument, "not a sha256");
  if (!IsValidName(name)) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid derived file name '" + std::string(name) + "'");
  }
  return root_ / std::string(sha256.substr(0, 2)) / std::string(sha256.substr(2, 2)) /
         (std::string(sha256) + "." + std::string(name));
}

Status DerivedFiles::Write(std::string_view sha256, std::string_view name,
                           std::string_view bytes) const {
  PV_ASSIGN_OR_RETURN(std::filesystem::path path, PathFor(sha256, name));
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return Fail(ErrorCode::kUnavailable,
                "create " + path.parent_path().string() + ": " + ec.message());
  // A name unique among concurrent writers of this process and of others.
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path temp =
      path.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(OsError("create " + temp.string(), errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Fail(OsError("write " + temp.string(), err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Fail(OsError("close " + temp.string(), err));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Fail(OsError("rename " + temp.string(), err));
  }
  return Ok();
}

Result<std::string> DerivedFiles::Read(std::string_view sha256, std::string_view name) const {
  PV_ASSIGN_OR_RETURN(std::filesystem::path path, PathFor(sha256, name));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(OsError("open " + path.string(), errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Fail(OsError("read " + path.string(), err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Status DerivedFiles::ForEach(const FileVisitor& file,
                             const std::function<void(const std::filesystem::path&)>& stray) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, ec);
  if (ec) {
    return ec == std::errc::no_such_file_or_directory
               ? Ok()
               : Fail(ErrorCode::kUnavailable, "list " + root_.string() + ": " + ec.message());
  }
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Fail(ErrorCode::kUnavailable, "list " + root_.string() + ": " + ec.message());
    const fs::directory_entry& entry = *it;
    if (entry.is_directory(ec)) continue;
    const fs::path& path = entry.path();
    const std::string name = path.filename().string();
    const std::string_view sha = std::string_view(name).substr(0, 64);
    // <root>/ab/cd/<sha256>.<name>, and a temp file <sha256>.<name>.tmp-<pid>-<n> beside it.
    const bool placed =
        it.depth() == 2 && name.size() > 65 && name[64] == '.' && IsSha256Hex(sha) &&
        path.parent_path().filename() == std::string(sha.substr(2, 2)) &&
        path.parent_path().parent_path().filename() == std::string(sha.substr(0, 2));
    if (!placed) {
      stray(path);
      continue;
    }
    const std::string_view rest = std::string_view(name).substr(65);
    const std::size_t tmp = rest.find(".tmp-");
    if (tmp == std::string_view::npos) {
      if (!IsValidName(rest)) {
        stray(path);
        continue;
      }
      PV_RETURN_IF_ERROR(file(sha, path, false));
    } else {
      PV_RETURN_IF_ERROR(file(sha, path, true));
    }
  }
  return Ok();
}

Status DerivedFiles::RemoveAll(std::string_view sha256) const {
  return RemoveWithPrefix(sha256, "");
}

Status DerivedFiles::RemoveWithPrefix(std::string_view sha256, std::string_view prefix) const {
  if (!IsSha256Hex(sha256)) return Fail(ErrorCode::kInvalidArgument, "not a sha256");
  if (!prefix.empty() && !IsValidName(prefix)) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid derived file name prefix '" + std::string(prefix) + "'");
  }
  const std::filesystem::path dir =
      root_ / std::string(sha256.substr(0, 2)) / std::string(sha256.substr(2, 2));
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec)
    return ec == std::errc::no_such_file_or_directory
               ? Ok()
               : Fail(ErrorCode::kUnavailable, "list " + dir.string() + ": " + ec.message());
  const std::string full_prefix = std::string(sha256) + "." + std::string(prefix);
  for (const auto& entry : it) {
    if (entry.path().filename().string().starts_with(full_prefix)) {
      std::filesystem::remove(entry.path(), ec);
      if (ec)
        return Fail(ErrorCode::kUnavailable,
                    "remove " + entry.path().string() + ": " + ec.message());
    }
  }
  return Ok();
}

}  // namespace pixvault::blob
