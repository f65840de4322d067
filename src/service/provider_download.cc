#include "service/provider_download.h"

#include <algorithm>

namespace pixvault::service {

Result<DownloadedBlob> DownloadToBlob(blob::BlobStore& blobs, providers::Provider& provider,
                                      const providers::AccountAccess& account,
                                      const providers::ProviderRef& ref,
                                      const DownloadOptions& options) {
  blob::WriteOptions write_options;
  write_options.max_size = options.max_bytes;
  PV_ASSIGN_OR_RETURN(std::unique_ptr<blob::BlobWriter> writer, blobs.BeginWrite(write_options));
  DownloadedBlob out;
  int transient = 0;
  int not_found = 0;
  Timestamp delay = options.initial_backoff;
  for (;;) {
    ++out.requests;
    std::optional<std::int64_t> total;
    providers::DownloadSink sink;
    sink.on_start = [&](std::optional<std::int64_t> size) -> Status {
      total = size;
      if (size && options.max_bytes && *size > *options.max_bytes) {
        return Fail(ErrorCode::kInvalidArgument, "the file is " + std::to_string(*size) +
                                                     " bytes, more than the limit of " +
                                                     std::to_string(*options.max_bytes));
      }
      return Ok();
    };
    sink.on_data = [&](std::span<const std::byte> data) { return writer->Append(data); };
    const std::int64_t offset = writer->size();
    Status got = provider.Download(account, ref, offset, sink);
    if (got && total && writer->size() != *total) {
      got = Fail(ErrorCode::kUnavailable, "the download ended after " +
                                              std::to_string(writer->size()) + " of " +
                                              std::to_string(*total) + " bytes");
    }
    if (got) break;
    const ErrorCode code = got.error().code;
    const bool retry =
        (code == ErrorCode::kUnavailable && ++transient < options.max_attempts) ||
        (code == ErrorCode::kNotFound && offset == 0 && ++not_found <= options.not_found_retries);
    if (!retry) {
      writer->Abort();
      return Fail(
          WithContext(got.error(), "download of '" + ref.ref + "' from '" + provider.id() + "'"));
    }
    if (options.sleep) options.sleep(delay);
    delay = std::min(delay * 2, options.max_backoff);
  }
  PV_ASSIGN_OR_RETURN(out.sha256, writer->Finish());
  out.size = writer->size();
  if (options.expected_sha256 && *options.expected_sha256 != out.sha256) {
    writer->Abort();
    return Fail(ErrorCode::kCorrupt, "the file '" + ref.ref + "' from '" + provider.id() +
                                         "' does not have the expected content (sha256 " +
                                         out.sha256 + ", expected " + *options.expected_sha256 +
                                         ")");
  }
  PV_RETURN_IF_ERROR(writer->Publish());
  return out;
}

}  // namespace pixvault::service
