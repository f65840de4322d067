// Ingest: turns bytes (a local file or a stream) into an asset.
//
// The bytes are streamed into the blob store while hashing (memory stays flat in the file
// size), the type is sniffed from the bytes, the temp file is probed, and only then are the
// blob published and the asset row created, in one transaction. A failure at any step leaves
// no blob and no row behind. Bytes the same user already uploaded yield the existing asset
// with `duplicate = true`.
//
// Thread-safe: one Ingestor may serve many concurrent ingests. It borrows the store, blob
// store and clock, which must outlive it.
// Errors: kInvalidArgument (empty file, over the size limit, bad metadata), kUnsupported (not
// a media type pixvault accepts), kCorrupt (media that cannot be probed), kNotFound /
// kPermissionDenied / kUnavailable (unreadable source), plus store errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

struct IngestOptions {
  std::int64_t max_bytes = std::int64_t{64} << 30;  // 64 GiB
  std::int64_t max_pixels = 268'402'689;
  // New assets of these types get an "analyze" job (service/analysis.h), queued once per asset.
  std::vector<MediaType> analyze_on_ingest = {MediaType::kVideo, MediaType::kImage,
                                              MediaType::kAudio, MediaType::kModel3d};
};

// What the caller knows about the asset besides its bytes.
struct IngestRequest {
  std::string filename;  // original name, a hint for the type of text formats (OBJ)
  UploadMethod upload_method = UploadMethod::kCli;
  std::string provider_id = "user_upload";
  // For media made on a provider: its ref there and the account it belongs to.
  std::optional<std::string> provider_asset_id;
  std::optional<std::int64_t> provider_account_id;
  std::optional<std::string> original_source_url;
  std::optional<std::string> description;
  std::vector<std::string> tags;
  std::vector<std::string> style_tags;
  std::optional<ContentDomain> content_domain;
  std::optional<std::string> content_category;
  std::optional<ContentRating> content_rating;
  std::optional<bool> age_restricted;
  // Verified against the bytes when given.
  std::optional<std::string> expected_sha256;
};

struct IngestResult {
  Asset asset;
  bool duplicate = false;
  bool analysis_queued = false;  // an analyze job was queued for the new asset
};

// Reads up to `buffer.size()` bytes; returns 0 at the end of the stream.
using ByteSource = std::function<Result<std::size_t>(std::span<std::byte> buffer)>;

// One ingest in progress: bytes are pushed in with Append, then Commit sniffs, probes and
// records them. Destroying a session that was not committed removes its temp file. Not
// thread-safe (one producer).
class IngestSession {
 public:
  IngestSession(std::unique_ptr<blob::BlobWriter> writer, class Ingestor& ingestor)
      : writer_(std::move(writer)), ingestor_(ingestor) {}
  // kInvalidArgument once the size limit is exceeded.
  Status Append(std::span<const std::byte> chunk);
  std::int64_t size() const { return writer_->size(); }
  Result<IngestResult> Commit(const User& owner, const IngestRequest& request);

 private:
  std::unique_ptr<blob::BlobWriter> writer_;
  class Ingestor& ingestor_;
  std::vector<std::byte> head_;
};

class Ingestor {
 public:
  Ingestor(storage::Store& store, blob::BlobStore& blobs, const Clock& clock,
           IngestOptions options = {})
      : store_(store), blobs_(blobs), clock_(clock), options_(options) {}

  // Ingests a regular file (symlinks are followed; directories and devices are refused).
  Result<IngestResult> IngestFile(const User& owner, const std::filesystem::path& path,
                                  IngestRequest request);
  Result<IngestResult> IngestStream(const User& owner, const ByteSource& source,
                                    const IngestRequest& request);
  // Starts a push-style ingest (used by the HTTP upload routes).
  Result<std::unique_ptr<IngestSession>> Begin();

 private:
  friend class IngestSession;
  storage::Store& store_;
  blob::BlobStore& blobs_;
  const Clock& clock_;
  IngestOptions options_;
};

}  // namespace pixvault::service
