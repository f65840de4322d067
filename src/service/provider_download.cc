#include "service/provider_download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pixvault::service {
namespace {

// The retry loop shared by both destinations: `size` is what the destination already holds
// (the offset of the next request), `append` adds bytes to it.
Status DownloadLoop(providers::Provider& provider, const providers::AccountAccess& account,
                    const providers::ProviderRef& ref, const DownloadOptions& options,
                    const std::function<std::int64_t()>& size,
                    const std::function<Status(std::span<const std::byte>)>& append, int& requests,
                    const bool& local_failure) {
  int transient = 0;
  int not_found = 0;
  Timestamp delay = options.initial_backoff;
  for (;;) {
    ++requests;
    std::optional<std::int64_t> total;
    providers::DownloadSink sink;
    sink.on_start = [&](std::optional<std::int64_t> file_size) -> Status {
      total = file_size;
      if (file_size && options.max_bytes && *file_size > *options.max_bytes) {
        return Fail(ErrorCode::kInvalidArgument, "the file is " + std::to_string(*file_size) +
                                                     " bytes, more than the limit of " +
                                                     std::to_string(*options.max_bytes));
      }
      return Ok();
    };
    sink.on_data = append;
    const std::int64_t offset = size();
    Status got = provider.Download(account, ref, offset, sink);
    if (got && total && size() != *total) {
      got = Fail(ErrorCode::kUnavailable, "the download ended after " + std::to_string(size()) +
                                              " of " + std::to_string(*total) + " bytes");
    }
    if (got) return Ok();
    const ErrorCode code = got.error().code;
    const bool retry =
        (code == ErrorCode::kUnavailable && ++transient < options.max_attempts) ||
        (code == ErrorCode::kNotFound && offset == 0 && ++not_found <= options.not_found_retries);
    // A failure to store the bytes here is not retried: the destination is what failed.
    if (!retry || local_failure) {
      return Fail(
          WithContext(got.error(), "download of '" + ref.ref + "' from '" + provider.id() + "'"));
    }
    if (options.sleep) options.sleep(delay);
    delay = std::min(delay * 2, options.max_backoff);
  }
}

}  // namespace

Result<DownloadedBlob> DownloadToBlob(blob::BlobStore& blobs, providers::Provider& provider,
                                      const providers::AccountAccess& account,
                                      const providers::ProviderRef& ref,
                                      const DownloadOptions& options) {
  bool unreported = false;
  bool& local_failure = options.local_failure != nullptr ? *options.local_failure : unreported;
  local_failure = false;
  // A failure of the blob store is this machine's.
  const auto local = [&local_failure](Status st) {
    if (!st) local_failure = true;
    return st;
  };
  blob::WriteOptions write_options;
  write_options.max_size = options.max_bytes;
  auto begun = blobs.BeginWrite(write_options);
  if (!begun) {
    local_failure = true;
    return Fail(begun.error());
  }
  std::unique_ptr<blob::BlobWriter> writer = std::move(*begun);
  DownloadedBlob out;
  Status got = DownloadLoop(
      provider, account, ref, options, [&] { return writer->size(); },
      [&](std::span<const std::byte> data) {
        Status appended = writer->Append(data);
        // Over the size limit is the provider's file; anything else is the disk here.
        if (!appended && appended.error().code != ErrorCode::kInvalidArgument) local_failure = true;
        return appended;
      },
      out.requests, local_failure);
  if (!got) {
    writer->Abort();
    return Fail(got.error());
  }
  auto finished = writer->Finish();
  if (!finished) {
    local_failure = true;
    return Fail(finished.error());
  }
  out.sha256 = std::move(*finished);
  out.size = writer->size();
  if (options.expected_sha256 && *options.expected_sha256 != out.sha256) {
    writer->Abort();
    return Fail(ErrorCode::kCorrupt, "the file '" + ref.ref + "' from '" + provider.id() +
                                         "' does not have the expected content (sha256 " +
                                         out.sha256 + ", expected " + *options.expected_sha256 +
                                         ")");
  }
  PV_RETURN_IF_ERROR(local(writer->Publish()));
  return out;
}

Result<std::int64_t> DownloadToFile(providers::Provider& provider,
                                    const providers::AccountAccess& account,
                                    const providers::ProviderRef& ref,
                                    const std::filesystem::path& path,
                                    const DownloadOptions& options) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    // The download's file, not its folder: messages reach API clients and stored attempts.
    return Fail(ErrorCode::kUnavailable,
                "cannot open the download file: " + std::string(std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Fail(ErrorCode::kUnavailable, "cannot stat the download file");
  }
  std::int64_t size = st.st_size;
  if (options.max_bytes && size > *options.max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "partial download over the size limit");
  }
  int requests = 0;
  PV_RETURN_IF_ERROR(DownloadLoop(
      provider, account, ref, options, [&] { return size; },
      [&](std::span<const std::byte> data) -> Status {
        if (options.max_bytes &&
            size + static_cast<std::int64_t>(data.size()) > *options.max_bytes) {
          return Fail(ErrorCode::kInvalidArgument,
                      "the file is larger than the limit of " + std::to_string(*options.max_bytes));
        }
        std::size_t done = 0;
        while (done < data.size()) {
          const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            return Fail(ErrorCode::kUnavailable,
                        "cannot write the download file: " + std::string(std::strerror(errno)));
          }
          done += static_cast<std::size_t>(n);
          size += n;
        }
        return Ok();
      },
      requests, /*local_failure=*/false));
  if (::fsync(fd) != 0) {
    return Fail(ErrorCode::kUnavailable, "cannot sync the download file");
  }
  return size;
}

}  // namespace pixvault::service
