// Provider: a place media can be uploaded to, downloaded from and generated on (an AI
// provider's API, a game's CDN folder, ...), as DESIGN.md section 6 describes. Adapters
// implement this interface; the resolver (service/resolver.h) and generation jobs use it
// without knowing which adapter they talk to.
//
// Every call names the account it acts for (`AccountAccess`: the account's opened
// credentials and settings); a ref made under one account may be unknown to another.
//
// Errors every adapter maps its failures onto, so callers can decide without parsing text:
//   kNotFound         the provider does not know the ref or job (never existed, deleted,
//                     expired, another account's): the caller forgets its cached ref;
//   kPermissionDenied the provider refused the content (moderation) or the credentials
//                     (401/403): retrying does not help;
//   kInvalidArgument  the request was refused as malformed or over a limit: no retry;
//   kUnsupported      the adapter cannot do this (no generation, uploads not accepted);
//   kUnavailable      transient (connection, timeout, 429, 5xx): worth a retry with backoff.
// Messages never contain credentials.
//
// Thread-safety: a Provider is shared by every request of a process; all methods may be
// called concurrently. Calls block the calling thread until done (bounded by the adapter's
// timeouts).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/enums.h"
#include "core/error.h"

namespace pixvault::providers {

// What a provider accepts. A limit of 0 means "no limit".
struct Capabilities {
  std::vector<MediaType> media_types;  // empty: any
  std::int64_t max_bytes = 0;
  std::int64_t max_pixels = 0;          // width x height of an image or video frame
  double max_duration_s = 0;            // video and audio
  Timestamp ref_ttl = 0;                // how long an uploaded ref stays valid; 0: until deleted
  bool uploads = true;                  // false: refs cannot be made by uploading (user_upload)
  std::vector<std::string> operations;  // generation operations it runs (empty: none)
};

// The account a call acts for: its opened credentials ({"api_key": ...}) and settings.
struct AccountAccess {
  std::int64_t account_id = 0;
  std::string label;
  boost::json::object credentials;  // secret: never log or return
  boost::json::object settings;
};

// A file to upload: a complete local file.
struct UploadFile {
  std::filesystem::path path;
  std::int64_t size = 0;
  std::string sha256;        // lowercase hex of the content
  std::string content_type;  // e.g. "video/mp4"
  std::string filename;      // a name for the provider, e.g. "<sha256>.mp4"
  MediaType media_type = MediaType::kImage;
  // The same for every try of one upload, and another for the next upload of the same bytes
  // (as Submit's key): an adapter that can hand it to the provider does, so a retry after a
  // lost answer leaves no second copy. Empty: none.
  std::string idempotency_key;
};

// The name under which a provider knows a file.
struct ProviderRef {
  std::string ref;
  std::string url;                      // where it can be fetched, if the provider says
  std::optional<Timestamp> expires_at;  // when the provider forgets it, if known
};

// A download in progress: the response's size once known, then the bytes.
struct DownloadSink {
  // Called once before any data: the total size of the file when the provider says it
  // (for a ranged request, the size of the whole file, not of the range).
  std::function<Status(std::optional<std::int64_t> total_size)> on_start;
  std::function<Status(std::span<const std::byte>)> on_data;
};

enum class GenerationState { kQueued, kRunning, kSucceeded, kFailed, kCanceled };

struct GenerationStatus {
  std::string job_id;
  GenerationState state = GenerationState::kQueued;
  std::vector<ProviderRef> outputs;  // when succeeded
  std::string error;                 // when failed
};

class Provider {
 public:
  virtual ~Provider() = default;

  virtual const std::string& id() const = 0;
  virtual const Capabilities& capabilities() const = 0;

  // Uploads `file` under `account`.
  virtual Result<ProviderRef> Upload(const AccountAccess& account, const UploadFile& file) = 0;

  // Streams the file behind `ref` from byte `offset` on (0: all of it; a resumed download
  // passes the bytes it already has). kNotFound for an unknown ref, and also while a
  // freshly generated file has not reached the provider's CDN yet.
  virtual Status Download(const AccountAccess& account, const ProviderRef& ref, std::int64_t offset,
                          const DownloadSink& sink) = 0;

  // Whether `ref` is still known (a cheap metadata request): kNotFound when it is not.
  virtual Status Check(const AccountAccess& account, const ProviderRef& ref) = 0;

  virtual Status Delete(const AccountAccess& account, const ProviderRef& ref) = 0;

  // Generation: submits `operation` with `params` (input files already given as refs of
  // this provider and account) and returns the provider's job id. `idempotency_key` is the
  // same on every retry of one submission and differs between submissions: an adapter that
  // can hand it to the provider does, so a retry after a lost answer makes no second job.
  virtual Result<std::string> Submit(const AccountAccess& account, std::string_view operation,
                                     const boost::json::object& params,
                                     std::string_view idempotency_key) = 0;
  virtual Result<GenerationStatus> Poll(const AccountAccess& account, std::string_view job_id) = 0;
  virtual Status Cancel(const AccountAccess& account, std::string_view job_id) = 0;
};

// The providers a process knows, by id. Filled at start, read-only afterwards (so lookups
// need no lock).
class ProviderRegistry {
 public:
  // kAlreadyExists for a second provider of the same id.
  Status Add(std::shared_ptr<Provider> provider);
  // nullptr when unknown.
  std::shared_ptr<Provider> Find(std::string_view id) const;
  std::vector<std::string> Ids() const;

 private:
  std::map<std::string, std::shared_ptr<Provider>, std::less<>> providers_;
};

}  // namespace pixvault::providers
