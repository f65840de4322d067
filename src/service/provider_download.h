// Downloading a provider's file into the blob store: retries with backoff on transient
// errors, each retry resuming where the last one stopped (Range), the content hashed on the
// way and published only when complete (and, when the hash is known, only when it matches).
// Shared by resolution (re-fetching evicted bytes) and generation jobs (their outputs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/error.h"
#include "providers/provider.h"

namespace pixvault::service {

struct DownloadOptions {
  std::optional<std::string> expected_sha256;
  std::optional<std::int64_t> max_bytes;
  int max_attempts = 4;  // transient errors (kUnavailable)
  // kNotFound answers tolerated before giving up: a freshly generated file may take a while
  // to reach the provider's CDN. Each waits like a transient error.
  int not_found_retries = 0;
  Timestamp initial_backoff = 200 * 1000;
  Timestamp max_backoff = 5 * kMicrosPerSecond;
  std::function<void(Timestamp)> sleep;  // required when retries may happen
  // When set, DownloadToBlob sets it to whether its failure was this machine's (storing the
  // bytes: a full disk, say) rather than the provider's.
  bool* local_failure = nullptr;
};

struct DownloadedBlob {
  std::string sha256;
  std::int64_t size = 0;
  int requests = 0;  // download calls made (1 + retries)
};

// Errors: kCorrupt (content does not match expected_sha256; nothing is published),
// kInvalidArgument (over max_bytes), kNotFound (unknown ref, after not_found_retries), the
// provider's other errors after max_attempts, the blob store's I/O errors.
[[nodiscard]] Result<DownloadedBlob> DownloadToBlob(blob::BlobStore& blobs,
                                                    providers::Provider& provider,
                                                    const providers::AccountAccess& account,
                                                    const providers::ProviderRef& ref,
                                                    const DownloadOptions& options);

// Downloads into the file at `path`, appending: a file left by an interrupted earlier call
// (even in another process) is resumed from its size. Returns the file's final size. The
// file is the caller's to ingest and remove. Errors as DownloadToBlob (no hash check).
[[nodiscard]] Result<std::int64_t> DownloadToFile(providers::Provider& provider,
                                                  const providers::AccountAccess& account,
                                                  const providers::ProviderRef& ref,
                                                  const std::filesystem::path& path,
                                                  const DownloadOptions& options);

}  // namespace pixvault::service
