#include "service/ingest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/sha256.h"
#include "core/utf8.h"
#include "media/probe.h"
#include "media/sniff.h"
#include "service/analysis.h"
#include "service/probe_json.h"

namespace pixvault::service {
namespace {

constexpr std::size_t kChunk = 1 << 20;

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error ErrnoError(const std::string& what, int err) {
  ErrorCode code = ErrorCode::kUnavailable;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM) code = ErrorCode::kPermissionDenied;
  if (err == ELOOP) code = ErrorCode::kInvalidArgument;
  return Error{code, what + ": " + std::strerror(err)};
}

std::string MediaMetadataJson(const media::Sniffed& sniffed, const media::ProbeResult& probe) {
  boost::json::object o = ProbeFactsJson(probe);
  o["format"] = sniffed.format;
  return boost::json::serialize(o);
}

}  // namespace

Result<IngestResult> Ingestor::IngestFile(const User& owner, const std::filesystem::path& path,
                                          IngestRequest request) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (f.fd < 0) return Fail(ErrnoError("open " + path.string(), errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return Fail(ErrnoError("stat " + path.string(), errno));
  if (S_ISDIR(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, path.string() + " is a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kInvalidArgument, path.string() + " is not a regular file");
  }
  ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (request.filename.empty()) request.filename = path.filename().string();
  int fd = f.fd;
  ByteSource source = [fd, &path](std::span<std::byte> buf) -> Result<std::size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      return Fail(ErrnoError("read " + path.string(), errno));
    }
  };
  return IngestStream(owner, source, request);
}

Result<std::unique_ptr<IngestSession>> Ingestor::Begin() {
  PV_ASSIGN_OR_RETURN(auto writer, blobs_.BeginWrite(blob::WriteOptions{options_.max_bytes}));
  return std::make_unique<IngestSession>(std::move(writer), *this);
}

Status IngestSession::Append(std::span<const std::byte> chunk) {
  if (head_.size() < media::kSniffHeadBytes) {
    std::size_t take = std::min(chunk.size(), media::kSniffHeadBytes - head_.size());
    head_.insert(head_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return writer_->Append(chunk);
}

Result<IngestResult> Ingestor::IngestStream(const User& owner, const ByteSource& source,
                                            const IngestRequest& request) {
  PV_ASSIGN_OR_RETURN(auto session, Begin());
  // The session's destructor removes the temp file on every early return below.
  std::vector<std::byte> buffer(kChunk);
  for (;;) {
    PV_ASSIGN_OR_RETURN(std::size_t n, source(buffer));
    if (n == 0) break;
    PV_RETURN_IF_ERROR(session->Append(std::span<const std::byte>(buffer.data(), n)));
  }
  return session->Commit(owner, request);
}

Result<IngestResult> IngestSession::Commit(const User& owner, const IngestRequest& request) {
  const IngestOptions& options = ingestor_.options_;
  const Clock& clock = ingestor_.clock_;
  storage::Store& store = ingestor_.store_;
  if (request.expected_sha256 && !IsSha256Hex(*request.expected_sha256)) {
    return Fail(ErrorCode::kInvalidArgument, "expected sha256 must be 64 lowercase hex digits");
  }
  PV_ASSIGN_OR_RETURN(media::Sniffed sniffed, media::SniffType(head_, request.filename));
  PV_ASSIGN_OR_RETURN(std::string sha, writer_->Finish());
  if (request.expected_sha256 && *request.expected_sha256 != sha) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "content sha256 " + sha + " does not match the announced " + *request.expected_sha256);
  }
  media::ProbeOptions probe_options;
  probe_options.max_pixels = options.max_pixels;
  probe_options.format_hint = sniffed.format;
  auto probed = media::ProbeFile(writer_->temp_path(), sniffed.type, probe_options);
  if (!probed && sniffed.type == MediaType::kVideo && probed.error().code == ErrorCode::kCorrupt) {
    // Audio-only MP4/WebM containers sniff as video; they probe fine as audio.
    auto as_audio = media::ProbeFile(writer_->temp_path(), MediaType::kAudio, probe_options);
    if (as_audio) {
      probed = std::move(as_audio);
      sniffed.type = MediaType::kAudio;
      if (sniffed.mime_type.starts_with("video/")) sniffed.mime_type.replace(0, 5, "audio");
    }
  }
  if (!probed) return Fail(probed.error());
  media::ProbeResult probe = std::move(*probed);

  Asset a;
  a.user_id = owner.id;
  a.media_type = sniffed.type;
  a.provider_id = request.provider_id;
  a.provider_asset_id = request.provider_asset_id;
  a.provider_account_id = request.provider_account_id;
  a.upload_method = request.upload_method;
  // File names are bytes; the catalogue stores text.
  if (!request.filename.empty()) a.original_filename = SanitizeUtf8(request.filename);
  a.original_source_url = request.original_source_url;
  a.sync_status = SyncStatus::kDownloaded;
  a.sha256 = sha;
  a.file_size_bytes = writer_->size();
  a.mime_type = sniffed.mime_type;
  if (probe.width) a.width = *probe.width;
  if (probe.height) a.height = *probe.height;
  // Rotated video displays with swapped dimensions.
  if (probe.rotation == 90 || probe.rotation == 270) std::swap(a.width, a.height);
  a.duration_sec = probe.duration_sec;
  a.fps = probe.fps;
  a.description = request.description;
  a.tags = request.tags;
  a.style_tags = request.style_tags;
  if (request.content_domain) a.content_domain = *request.content_domain;
  a.content_category = request.content_category;
  if (request.content_rating) a.content_rating = *request.content_rating;
  a.age_restricted = request.age_restricted.value_or(a.content_rating == ContentRating::kAdult ||
                                                     a.content_rating == ContentRating::kExplicit ||
                                                     a.content_domain == ContentDomain::kAdult);
  a.media_metadata = MediaMetadataJson(sniffed, probe);
  a.last_accessed_at = clock.Now();

  storage::BlobRef blob_ref{sha, writer_->size(), "local", [&] { return writer_->Publish(); }};
  // The analysis of a new asset of a type analysed on ingest is queued in the asset's own
  // transaction: a crash leaves both or neither.
  const auto& types = ingestor_.options_.analyze_on_ingest;
  const bool analyse = std::find(types.begin(), types.end(), a.media_type) != types.end();
  const UserId owner_id = owner.id;
  storage::AssetFollowUp follow_up;
  if (analyse) {
    follow_up = [owner_id](const Asset& stored) -> std::optional<Job> {
      auto job = AnalysisJob(AnalyzeRequest{stored.id, {}, false, owner_id, true});
      return job ? std::optional<Job>(std::move(*job)) : std::nullopt;  // no steps: cannot fail
    };
  }
  PV_ASSIGN_OR_RETURN(storage::CreatedAsset created, store.CreateAsset(a, blob_ref, follow_up));
  IngestResult out{std::move(created.asset), created.duplicate, created.job.has_value()};
  return out;
}

}  // namespace pixvault::service
