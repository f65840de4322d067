#include "service/resolver.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <utility>

#include "core/sha256.h"
#include "media/downscale.h"
#include "service/resolver_internal.h"

namespace pixvault::service {

ProviderAttempt resolver_internal::NewAttempt(const Asset& asset, std::string_view provider,
                                              std::int64_t account, std::string_view operation,
                                              const std::string& worker, Timestamp now) {
  ProviderAttempt a;
  a.asset_id = asset.id;
  a.provider_id = std::string(provider);
  a.account_id = account;
  a.operation = std::string(operation);
  a.worker = worker;
  a.started_at = now;
  return a;
}

namespace {

using resolver_internal::kSystem;
using resolver_internal::NewAttempt;

// "<host>:<pid>:<random>": unique even for processes of one pid on hosts of one name
// (containers), since a lease is recognised by its owner's name.
std::string DefaultWorker() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  char tag[9];
  std::snprintf(tag, sizeof tag, "%08x", random());
  return std::string(host[0] != '\0' ? host : "host") + ":" + std::to_string(::getpid()) + ":" +
         tag;
}

// A refusal that asking again will not change (moderation, credentials, a limit, a provider
// that takes no uploads): recorded, and answered without asking until a forced re-upload.
// Everything else (the provider failing, local I/O, bytes that could not be fetched back) is
// worth another try by the next caller.
bool IsPermanent(ErrorCode code) {
  return code == ErrorCode::kPermissionDenied || code == ErrorCode::kInvalidArgument ||
         code == ErrorCode::kUnsupported;
}
bool IsTransient(ErrorCode code) { return !IsPermanent(code); }

bool IsTransient(const std::optional<std::string>& code_name) {
  if (!code_name) return true;
  for (ErrorCode c :
       {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument, ErrorCode::kUnsupported}) {
    if (*code_name == ErrorCodeName(c)) return false;
  }
  return true;
}

std::optional<ErrorCode> CodeFromName(std::string_view name) {
  for (ErrorCode c : {ErrorCode::kNotFound, ErrorCode::kAlreadyExists, ErrorCode::kInvalidArgument,
                      ErrorCode::kPermissionDenied, ErrorCode::kCorrupt, ErrorCode::kUnavailable,
                      ErrorCode::kUnsupported, ErrorCode::kInternal}) {
    if (ErrorCodeName(c) == name) return c;
  }
  return std::nullopt;
}

// "<sha256>.<ext>": the extension of the original name when it is a plain one, else the
// MIME subtype's.
std::string UploadFilename(const Asset& asset) {
  std::string ext;
  if (asset.original_filename) {
    ext = std::filesystem::path(*asset.original_filename).extension().string();
  }
  if (ext.empty() && asset.mime_type) {
    const auto slash = asset.mime_type->find('/');
    if (slash != std::string::npos) ext = "." + asset.mime_type->substr(slash + 1);
    if (ext.rfind(".x-", 0) == 0) ext = "." + ext.substr(3);
  }
  const bool plain =
      ext.size() >= 2 && ext.size() <= 11 && std::all_of(ext.begin() + 1, ext.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      });
  return *asset.sha256 + (plain ? ext : "");
}

}  // namespace

// One in-process resolution that concurrent callers for the same key join.
struct Resolver::Flight {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Result<Resolution> result = Fail(ErrorCode::kInternal, "resolution did not finish");
};

Resolver::Resolver(storage::Store& store, blob::BlobStore& blobs,
                   const providers::ProviderRegistry& registry, const CredentialCipher& cipher,
                   const Clock& clock, ResolverOptions options)
    : store_(store),
      blobs_(blobs),
      registry_(registry),
      cipher_(cipher),
      clock_(clock),
      options_(std::move(options)) {
  if (options_.worker.empty()) options_.worker = DefaultWorker();
  if (options_.temp_dir.empty()) options_.temp_dir = std::filesystem::temp_directory_path();
}

Resolver::~Resolver() = default;

void Resolver::Sleep(Timestamp micros) const {
  if (micros <= 0) return;
  if (options_.sleep) {
    options_.sleep(micros);
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
}

Timestamp Resolver::Backoff(int attempt) const {
  Timestamp delay = options_.initial_backoff;
  for (int i = 1; i < attempt && delay < options_.max_backoff; ++i) delay *= 2;
  return std::min(delay, options_.max_backoff);
}

Result<Resolver::Subject> Resolver::Read(const Viewer& viewer, const ResolveRequest& request) {
  Subject s;
  PV_ASSIGN_OR_RETURN(s.asset, store_.GetAsset(viewer, request.asset_id));
  s.provider = registry_.Find(request.provider_id);
  if (s.provider == nullptr) {
    return Fail(ErrorCode::kNotFound, "unknown provider '" + request.provider_id + "'");
  }
  if (!s.provider->capabilities().uploads) {
    return Fail(ErrorCode::kUnsupported, "provider '" + request.provider_id + "' takes no uploads");
  }
  // The credentials are opened only when the provider is to be asked.
  PV_ASSIGN_OR_RETURN(s.account, FindAccount(viewer, request.provider_id, request.account_id));
  if (!request.force) {
    auto row = store_.GetProviderUpload(s.asset.id, s.provider->id(), s.account.id);
    if (row) {
      s.row = std::move(*row);
    } else if (row.error().code != ErrorCode::kNotFound) {
      return Fail(row.error());
    }
  }
  return s;
}

bool Resolver::IsFresh(const ProviderUpload& row) const {
  return row.status == UploadStatus::kUploaded && row.provider_ref &&
         (!row.expires_at || *row.expires_at > clock_.Now() + options_.freshness_margin);
}

std::optional<Result<Resolution>> Resolver::Recorded(const Subject& s, bool verify) const {
  if (!s.row) return std::nullopt;
  const ProviderUpload& row = *s.row;
  if (IsFresh(row)) {
    if (verify) return std::nullopt;
    return Resolution{row, false, false};
  }
  if (row.status == UploadStatus::kFailed && !IsTransient(row.last_error_code) &&
      !row.lease_owner) {
    const ErrorCode code =
        CodeFromName(row.last_error_code.value_or("")).value_or(ErrorCode::kUnavailable);
    return Fail(code, row.last_error.value_or("the last upload failed") +
                          " (recorded; POST /api/v1/assets/" + std::to_string(s.asset.id) +
                          "/reupload to try again)");
  }
  return std::nullopt;
}

std::variant<Result<Resolution>, Resolver::Subject> Resolver::TryCached(
    const Viewer& viewer, const ResolveRequest& request) {
  Result<Subject> subject = Read(viewer, request);
  if (!subject) return Result<Resolution>(Fail(subject.error()));
  if (std::optional<Result<Resolution>> recorded = Recorded(*subject, request.verify)) {
    return std::move(*recorded);
  }
  // An upload is needed while the account's breaker is open: that is the answer, at once.
  if (!(subject->row && IsFresh(*subject->row))) {
    Status allowed = BreakerAllows({subject->provider->id(), subject->account.id}, false);
    if (!allowed) return Result<Resolution>(Fail(allowed.error()));
  }
  return std::move(*subject);
}

Result<Resolution> Resolver::Resolve(const Viewer& viewer, const ResolveRequest& request) {
  PV_ASSIGN_OR_RETURN(Subject subject, Read(viewer, request));
  return Resolve(viewer, request, std::move(subject));
}

Result<Resolution> Resolver::Resolve(const Viewer& viewer, const ResolveRequest& request,
                                     Subject subject) {
  const Asset& asset = subject.asset;
  const std::shared_ptr<providers::Provider>& provider = subject.provider;
  const ProviderAccount& account = subject.account;

  // Fast path: what is recorded.
  if (std::optional<Result<Resolution>> recorded = Recorded(subject, request.verify)) {
    return std::move(*recorded);
  }
  if (request.verify && subject.row && IsFresh(*subject.row)) {
    const ProviderUpload& row = *subject.row;
    PV_ASSIGN_OR_RETURN(const providers::AccountAccess access, Access(account));
    providers::ProviderRef ref{*row.provider_ref, row.provider_url.value_or(""), row.expires_at};
    const Status known = provider->Check(access, ref);
    if (known) return Resolution{row, false, false};
    if (known.error().code != ErrorCode::kNotFound) return Fail(known.error());
    // The provider forgot it: expire the row and upload again, once, below.
    auto expired =
        store_.ExpireProviderUpload(asset.id, provider->id(), account.id, *row.provider_ref);
    if (!expired && expired.error().code != ErrorCode::kNotFound) return Fail(expired.error());
  }

  // Slow path: join or lead this process's flight for the key.
  // A forced re-upload never joins an unforced flight (whose answer may be the old ref).
  const Key key{asset.id, provider->id(), account.id, request.force};
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(mu_);
    auto& slot = flights_[key];
    if (slot == nullptr) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    std::unique_lock lock(flight->mu);
    const bool ended = flight->cv.wait_for(
        lock, std::chrono::microseconds(options_.wait_timeout + options_.lease_duration),
        [&] { return flight->done; });
    if (!ended) {
      return Fail(ErrorCode::kUnavailable, "asset " + std::to_string(asset.id) +
                                               " is still being uploaded to '" + provider->id() +
                                               "'; try again later");
    }
    return flight->result;
  }
  // The flight ends (and its slot goes) whatever happens, an exception included: a flight
  // left behind would hold every later caller of its key.
  Result<Resolution> result = Fail(ErrorCode::kInternal, "resolution did not finish");
  try {
    result = Access(account).and_then([&](const providers::AccountAccess& access) {
      return Lead(viewer, asset, *provider, account, access, request.force);
    });
  } catch (const std::exception& e) {
    result = Fail(ErrorCode::kInternal, std::string("resolution failed: ") + e.what());
  }
  {
    std::lock_guard lock(mu_);
    flights_.erase(key);
  }
  {
    std::lock_guard lock(flight->mu);
    flight->result = result;
    flight->done = true;
  }
  flight->cv.notify_all();
  return result;
}

Result<Resolution> Resolver::Lead(const Viewer& viewer, const Asset& asset,
                                  providers::Provider& provider, const ProviderAccount& account,
                                  const providers::AccountAccess& access, bool force) {
  if (force) {
    auto expired = store_.ExpireProviderUpload(asset.id, provider.id(), account.id);
    if (!expired && expired.error().code != ErrorCode::kNotFound) return Fail(expired.error());
  }
  const Timestamp deadline = clock_.Now() + options_.wait_timeout;
  Timestamp poll = options_.poll_interval;
  bool retry_failed = true;
  // While another worker holds a live lease, its row is only read (no write per poll).
  bool watching = false;
  for (;;) {
    if (watching) {
      PV_ASSIGN_OR_RETURN(ProviderUpload seen,
                          store_.GetProviderUpload(asset.id, provider.id(), account.id));
      if (seen.lease_owner && *seen.lease_owner != options_.worker && seen.lease_expires_at &&
          *seen.lease_expires_at > clock_.Now()) {
        if (clock_.Now() >= deadline) {
          return Fail(ErrorCode::kUnavailable,
                      "asset " + std::to_string(asset.id) + " is being uploaded to '" +
                          provider.id() + "' by " + *seen.lease_owner + "; try again later");
        }
        Sleep(poll);
        poll = std::min<Timestamp>(poll * 2, 500 * 1000);
        continue;
      }
      watching = false;  // released or expired: claim it (or take its result)
    }
    storage::Store::UploadClaimRequest claim;
    claim.asset_id = asset.id;
    claim.provider_id = provider.id();
    claim.account_id = account.id;
    claim.owner = options_.worker;
    claim.lease_until = clock_.Now() + options_.lease_duration;
    claim.fresh_until = clock_.Now() + options_.freshness_margin;
    claim.retry_failed = retry_failed;
    PV_ASSIGN_OR_RETURN(storage::Store::UploadClaim claimed, store_.ClaimProviderUpload(claim));
    const ProviderUpload& row = claimed.upload;
    if (claimed.leased) {
      std::vector<ProviderAttempt> attempts;
      // Extends the lease between steps, so a long download and upload keep it.
      auto renew = [&]() -> Status {
        claim.lease_until = clock_.Now() + options_.lease_duration;
        PV_ASSIGN_OR_RETURN(storage::Store::UploadClaim again, store_.ClaimProviderUpload(claim));
        if (!again.leased) {
          return Fail(ErrorCode::kUnavailable, "lease lost: another worker took over the upload");
        }
        return Ok();
      };
      Result<Resolution> done = Work(viewer, asset, provider, access, row, attempts, renew);
      const auto uploads = std::count_if(attempts.begin(), attempts.end(),
                                         [](const auto& a) { return a.operation == "upload"; });
      ProviderUpload finish = done ? done->upload : row;
      finish.attempts = row.attempts + static_cast<std::int64_t>(uploads);
      if (!done) {
        // The error is recorded either way; a row whose ref was good stays usable after a
        // transient failure (a forced re-upload expired it first).
        if (!(row.status == UploadStatus::kUploaded && IsTransient(done.error().code))) {
          finish.status = UploadStatus::kFailed;
        }
        finish.last_error = done.error().message;
        finish.last_error_code = std::string(ErrorCodeName(done.error().code));
      }
      PV_ASSIGN_OR_RETURN(ProviderUpload stored,
                          store_.FinishProviderUpload(finish, options_.worker, attempts));
      if (!done) return Fail(done.error());
      done->upload = std::move(stored);
      return done;
    }
    // Not leased: someone's fresh ref, a recorded refusal, or another process at work.
    if (row.status == UploadStatus::kUploaded && row.provider_ref && !row.lease_owner) {
      return Resolution{row, false, false};
    }
    if (row.status == UploadStatus::kFailed && !row.lease_owner) {
      if (!IsTransient(row.last_error_code) || !retry_failed) {
        const ErrorCode code =
            CodeFromName(row.last_error_code.value_or("")).value_or(ErrorCode::kUnavailable);
        return Fail(code, row.last_error.value_or("the last upload failed"));
      }
    }
    if (clock_.Now() >= deadline) {
      return Fail(ErrorCode::kUnavailable,
                  "asset " + std::to_string(asset.id) + " is being uploaded to '" + provider.id() +
                      "' by " + row.lease_owner.value_or("another worker") + "; try again later");
    }
    // The other worker's result decides: a failure it records is not retried by us.
    if (row.lease_owner) {
      retry_failed = false;
      watching = true;
    }
    Sleep(poll);
    poll = std::min<Timestamp>(poll * 2, 500 * 1000);
  }
}

Result<Resolution> Resolver::Work(const Viewer& viewer, const Asset& asset,
                                  providers::Provider& provider,
                                  const providers::AccountAccess& access, ProviderUpload row,
                                  std::vector<ProviderAttempt>& attempts,
                                  const std::function<Status()>& renew) {
  const providers::Capabilities& caps = provider.capabilities();
  const std::string& pid = provider.id();
  if (!caps.media_types.empty() && std::find(caps.media_types.begin(), caps.media_types.end(),
                                             asset.media_type) == caps.media_types.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                "provider '" + pid + "' does not take " + std::string(ToString(asset.media_type)));
  }
  if (!asset.sha256) {
    return Fail(ErrorCode::kUnavailable,
                "asset " + std::to_string(asset.id) + " has no bytes yet (it is still remote)");
  }
  if (caps.max_duration_s > 0 && asset.duration_sec && *asset.duration_sec > caps.max_duration_s) {
    return Fail(ErrorCode::kInvalidArgument, "asset " + std::to_string(asset.id) + " lasts " +
                                                 std::to_string(*asset.duration_sec) +
                                                 " s; provider '" + pid + "' takes at most " +
                                                 std::to_string(caps.max_duration_s) + " s");
  }
  // An open breaker answers before anything is downloaded or downscaled for the upload.
  const BreakerKey breaker{pid, access.account_id};
  PV_RETURN_IF_ERROR(BreakerAllows(breaker, /*take_try=*/false));
  PV_ASSIGN_OR_RETURN(const bool fetched, EnsureLocal(asset, viewer.user_id, attempts,
                                                      std::make_pair(pid, access.account_id)));
  // A download may have taken long: the lease is extended before the upload.
  if (fetched) PV_RETURN_IF_ERROR(renew());

  providers::UploadFile file;
  file.path = blobs_.PathFor(*asset.sha256);
  file.sha256 = *asset.sha256;
  file.content_type = asset.mime_type.value_or("application/octet-stream");
  file.filename = UploadFilename(asset);
  file.media_type = asset.media_type;
  PV_ASSIGN_OR_RETURN(file.size, blobs_.Size(*asset.sha256));

  bool downscaled = false;
  std::filesystem::path temp;
  struct TempRemover {
    std::filesystem::path* path;
    ~TempRemover() {
      std::error_code ignored;
      if (!path->empty()) std::filesystem::remove(*path, ignored);
    }
  } remover{&temp};
  const std::int64_t pixels = asset.width && asset.height ? *asset.width * *asset.height : 0;
  if (caps.max_pixels > 0 && pixels > caps.max_pixels) {
    const auto allow = access.settings.if_contains("allow_downscale");
    const bool may = allow != nullptr && allow->is_bool() && allow->as_bool();
    if (asset.media_type != MediaType::kImage || !may) {
      return Fail(ErrorCode::kInvalidArgument,
                  "asset " + std::to_string(asset.id) + " has " + std::to_string(*asset.width) +
                      "x" + std::to_string(*asset.height) + " pixels; provider '" + pid +
                      "' takes at most " + std::to_string(caps.max_pixels) +
                      (asset.media_type == MediaType::kImage
                           ? " (set \"allow_downscale\": true in the account's settings to "
                             "upload a downscaled copy)"
                           : ""));
    }
    static std::atomic<std::uint64_t> counter{0};
    const std::filesystem::path stem =
        options_.temp_dir / ("pixvault-downscale-" + std::to_string(::getpid()) + "-" +
                             std::to_string(counter.fetch_add(1)));
    PV_ASSIGN_OR_RETURN(media::DownscaledImage small,
                        media::DownscaleImageToPixels(file.path, caps.max_pixels,
                                                      options_.decode_pixel_limit, stem));
    temp = stem;
    temp += small.extension;
    file.path = temp;
    std::error_code ec;
    file.size = static_cast<std::int64_t>(std::filesystem::file_size(temp, ec));
    if (ec) return Fail(ErrorCode::kUnavailable, "cannot read the downscaled copy");
    file.content_type = small.mime_type;
    // The copy is other content: its own hash names it (a folder provider's ref, a provider
    // that checks what it is sent).
    std::ifstream in(temp, std::ios::binary);
    Sha256 hash;
    std::vector<char> buffer(std::size_t{1} << 16);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      hash.Update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
    }
    if (in.bad()) return Fail(ErrorCode::kUnavailable, "cannot read the downscaled copy");
    file.sha256 = hash.FinishHex();
    file.filename = file.sha256 + small.extension;
    downscaled = true;
  }
  if (caps.max_bytes > 0 && file.size > caps.max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "asset " + std::to_string(asset.id) + " is " +
                                                 std::to_string(file.size) + " bytes; provider '" +
                                                 pid + "' takes at most " +
                                                 std::to_string(caps.max_bytes));
  }

  // One key for every try of this upload until one succeeds: across the retries of this
  // resolve, across resolves that gave up (every answer lost: the provider may hold the file
  // already), and across a crash. The row's uploaded_at changes only when an upload succeeds,
  // so a later upload of the same bytes (a forced or expired one) is a new key. The bytes'
  // hash is part of it: one key never names two contents.
  file.idempotency_key =
      "pv-up-" +
      Sha256Hex(file.sha256 + "\n" + pid + "\n" + std::to_string(access.account_id) + "\n" +
                std::to_string(row.id) + "\n" + std::to_string(row.uploaded_at.value_or(0)))
          .substr(0, 32);
  std::optional<Error> last_error;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) PV_RETURN_IF_ERROR(renew());
    if (Status allowed = BreakerAllows(breaker, /*take_try=*/true); !allowed) {
      if (!last_error) return Fail(allowed.error());
      // The provider's own error stays the message; the breaker says why no more tries.
      Error e = std::move(*last_error);
      e.message += " (" + allowed.error().message + ")";
      return Fail(std::move(e));
    }
    ProviderAttempt record =
        NewAttempt(asset, pid, access.account_id, "upload", options_.worker, clock_.Now());
    BreakerOutcome outcome{*this, breaker};
    Result<providers::ProviderRef> ref = provider.Upload(access, file);
    record.finished_at = clock_.Now();
    outcome.Count(!ref && ref.error().code == ErrorCode::kUnavailable);
    if (ref) {
      record.succeeded = true;
      record.bytes = file.size;
      attempts.push_back(std::move(record));
      row.status = UploadStatus::kUploaded;
      row.provider_ref = ref->ref;
      row.provider_url = ref->url.empty() ? std::nullopt : std::optional<std::string>(ref->url);
      row.uploaded_at = clock_.Now();
      row.expires_at = ref->expires_at;
      if (!row.expires_at && caps.ref_ttl > 0) row.expires_at = *row.uploaded_at + caps.ref_ttl;
      row.last_error.reset();
      row.last_error_code.reset();
      return Resolution{row, true, downscaled};
    }
    record.error_code = std::string(ErrorCodeName(ref.error().code));
    record.error = ref.error().message;
    attempts.push_back(std::move(record));
    Error failure =
        WithContext(ref.error(), "upload of asset " + std::to_string(asset.id) + " to '" + pid +
                                     "' (attempt " + std::to_string(attempt) + ")");
    if (!IsTransient(ref.error().code) || attempt >= options_.max_attempts) {
      return Fail(std::move(failure));
    }
    last_error = std::move(failure);
    Sleep(Backoff(attempt));
  }
}

}  // namespace pixvault::service
