#include "providers/folder_provider.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <vector>

namespace pixvault::providers {
namespace {

namespace fs = std::filesystem;

// `<64 hex>` optionally followed by `.` and 1..10 alphanumerics: what Upload makes.
bool IsFolderRef(std::string_view ref) {
  if (ref.size() < 64) return false;
  for (std::size_t i = 0; i < 64; ++i) {
    const char c = ref[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  if (ref.size() == 64) return true;
  if (ref[64] != '.' || ref.size() == 65 || ref.size() > 75) return false;
  for (std::size_t i = 65; i < ref.size(); ++i) {
    const char c = ref[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

// The extension of `filename`, lowercased (so "a.MP4" and "b.mp4" of the same bytes share one
// ref), or "" when it is not 1..10 ASCII alphanumerics.
std::string ExtensionOf(const std::string& filename) {
  std::string ext = fs::path(filename).extension().string();
  if (ext.size() < 2 || ext.size() > 11) return "";
  for (std::size_t i = 1; i < ext.size(); ++i) {
    char& c = ext[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return "";
  }
  return ext;
}

// Names the file, not the folder: the message reaches API clients.
Error IoError(std::string_view what, const fs::path& path, int err) {
  return Error{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
               std::string(what) + " " + path.filename().string() + ": " + std::strerror(err)};
}

Status Unsupported(std::string_view id, std::string_view what) {
  return Fail(ErrorCode::kUnsupported, "provider '" + std::string(id) + "' " + std::string(what));
}

}  // namespace

Result<std::shared_ptr<FolderProvider>> FolderProvider::Open(FolderProviderOptions options) {
  if (options.root.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "folder provider '" + options.id + "': no root");
  }
  std::error_code ec;
  fs::create_directories(options.root, ec);
  if (ec || !fs::is_directory(options.root)) {
    return Fail(ErrorCode::kInvalidArgument, "folder provider '" + options.id + "': root " +
                                                 options.root.string() + " is not a directory");
  }
  if (::access(options.root.c_str(), W_OK) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "folder provider '" + options.id + "': root " +
                                                 options.root.string() + " is not writable");
  }
  options.root = fs::absolute(options.root);
  // URLs are base_url + ref: without the slash, "https://cdn/game" would give
  // "https://cdn/game<ref>".
  if (!options.base_url.empty() && options.base_url.back() != '/') options.base_url += '/';
  options.capabilities.operations.clear();
  return std::shared_ptr<FolderProvider>(new FolderProvider(std::move(options)));
}

Result<fs::path> FolderProvider::PathOf(const ProviderRef& ref) const {
  if (!IsFolderRef(ref.ref)) {
    return Fail(ErrorCode::kNotFound,
                "provider '" + options_.id + "' has no file '" + ref.ref.substr(0, 80) + "'");
  }
  return options_.root / ref.ref;
}

Result<ProviderRef> FolderProvider::Upload(const AccountAccess& /*account*/,
                                           const UploadFile& file) {
  if (file.sha256.size() != 64 || !IsFolderRef(file.sha256)) {
    return Fail(ErrorCode::kInvalidArgument, "upload to '" + options_.id + "': bad sha256");
  }
  ProviderRef ref;
  ref.ref = file.sha256 + ExtensionOf(file.filename);
  const fs::path target = options_.root / ref.ref;
  ref.url = options_.base_url.empty() ? "file://" + target.string() : options_.base_url + ref.ref;

  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && st.st_size == file.size) return ref;  // same bytes

  static std::atomic<std::uint64_t> counter{0};
  const fs::path temp = options_.root / (".upload-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter.fetch_add(1)) + ".tmp");
  const int in = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    // Not kNotFound: that would tell the caller the provider forgot a ref.
    return Fail(ErrorCode::kInternal, "upload to '" + options_.id + "': cannot open " +
                                          file.path.filename().string() + ": " +
                                          std::strerror(errno));
  }
  const int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return Fail(IoError("create", temp, err));
  }
  std::vector<char> buffer(std::size_t{1} << 20);
  Status status = Ok();
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Fail(IoError("read", file.path, errno));
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = Fail(IoError("write", temp, errno));
        break;
      }
      done += w;
    }
    if (!status) break;
  }
  ::close(in);
  if (status && ::fsync(out) != 0) status = Fail(IoError("sync", temp, errno));
  if (::close(out) != 0 && status) status = Fail(IoError("close", temp, errno));
  if (status && ::rename(temp.c_str(), target.c_str()) != 0) {
    status = Fail(IoError("rename", target, errno));
  }
  if (status) {
    // The rename itself is durable only once the directory is synced.
    const int dir = ::open(options_.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  if (!status) {
    ::unlink(temp.c_str());
    return Fail(status.error());
  }
  return ref;
}

Status FolderProvider::Download(const AccountAccess& /*account*/, const ProviderRef& ref,
                                std::int64_t offset, const DownloadSink& sink) {
  PV_ASSIGN_OR_RETURN(const fs::path path, PathOf(ref));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(IoError("open", path, errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Fail(IoError("stat", path, errno));
  if (offset < 0 || offset > st.st_size) {
    return Fail(ErrorCode::kInvalidArgument,
                "download from '" + options_.id + "': offset past the end of " + ref.ref);
  }
  if (sink.on_start) PV_RETURN_IF_ERROR(sink.on_start(static_cast<std::int64_t>(st.st_size)));
  std::vector<std::byte> buffer(std::size_t{1} << 20);
  for (off_t pos = offset;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), pos);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(IoError("read", path, errno));
    if (n == 0) break;
    PV_RETURN_IF_ERROR(sink.on_data(std::span<const std::byte>(buffer.data(), n)));
    pos += n;
  }
  return Ok();
}

Status FolderProvider::Check(const AccountAccess& /*account*/, const ProviderRef& ref) {
  PV_ASSIGN_OR_RETURN(const fs::path path, PathOf(ref));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Fail(IoError("stat", path, errno));
  return Ok();
}

Status FolderProvider::Delete(const AccountAccess& /*account*/, const ProviderRef& ref) {
  PV_ASSIGN_OR_RETURN(const fs::path path, PathOf(ref));
  if (::unlink(path.c_str()) != 0) return Fail(IoError("delete", path, errno));
  return Ok();
}

Result<std::string> FolderProvider::Submit(const AccountAccess& /*account*/,
                                           std::string_view /*operation*/,
                                           const boost::json::object& /*params*/,
                                           std::string_view /*idempotency_key*/) {
  return Fail(Unsupported(options_.id, "is a folder and generates nothing").error());
}

Result<GenerationStatus> FolderProvider::Poll(const AccountAccess& /*account*/,
                                              std::string_view /*job_id*/) {
  return Fail(Unsupported(options_.id, "is a folder and has no generation jobs").error());
}

Status FolderProvider::Cancel(const AccountAccess& /*account*/, std::string_view /*job_id*/) {
  return Unsupported(options_.id, "is a folder and has no generation jobs");
}

namespace {

class UserUploadProvider final : public Provider {
 public:
  UserUploadProvider() { capabilities_.uploads = false; }
  const std::string& id() const override { return id_; }
  const Capabilities& capabilities() const override { return capabilities_; }
  Result<ProviderRef> Upload(const AccountAccess&, const UploadFile&) override {
    return Fail(Refuse().error());
  }
  Status Download(const AccountAccess&, const ProviderRef&, std::int64_t,
                  const DownloadSink&) override {
    return Refuse();
  }
  Status Check(const AccountAccess&, const ProviderRef&) override { return Refuse(); }
  Status Delete(const AccountAccess&, const ProviderRef&) override { return Refuse(); }
  Result<std::string> Submit(const AccountAccess&, std::string_view, const boost::json::object&,
                             std::string_view) override {
    return Fail(Refuse().error());
  }
  Result<GenerationStatus> Poll(const AccountAccess&, std::string_view) override {
    return Fail(Refuse().error());
  }
  Status Cancel(const AccountAccess&, std::string_view) override { return Refuse(); }

 private:
  static Status Refuse() {
    return Fail(ErrorCode::kUnsupported,
                "user_upload is the provider of assets users uploaded themselves: it holds no "
                "files of its own and accepts none");
  }
  std::string id_{kUserUploadProvider};
  Capabilities capabilities_;
};

}  // namespace

std::shared_ptr<Provider> MakeUserUploadProvider() {
  return std::make_shared<UserUploadProvider>();
}

}  // namespace pixvault::providers
