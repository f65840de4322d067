// Resolver: cross-provider resolution (DESIGN.md section 6). `Resolve` answers "under which
// ref does provider P know asset A for account C?", uploading A to P at most once:
//
//   1. an `uploaded` row whose ref does not expire within `freshness_margin` is returned as
//      it is (one read; with `verify`, after asking the provider that it still knows it);
//   2. otherwise one caller does the work and every other caller waits for its result:
//      within a process, concurrent calls for one (asset, provider, account) share one flight;
//      across processes, the flight's leader holds a lease on the provider_uploads row and
//      the other processes poll the row until the lease is released or expires;
//   3. the leader ensures the bytes are local (re-downloading an evicted blob from a ref the
//      asset has elsewhere, with retries, Range resume and sha256 verification), fits them to
//      the provider's limits (an image over its pixel limit is downscaled when the account's
//      settings say `"allow_downscale": true`; anything else over a limit is refused), uploads
//      with retries and exponential backoff on transient errors, and records the ref and every
//      attempt.
//
// A permanent refusal (moderation, a limit) is stored on the row and returned to later
// callers without contacting the provider again, until a forced re-upload. A provider that no
// longer knows a ref (kNotFound from `verify`, or reported by a caller through Invalidate)
// expires the row, and the next Resolve uploads again.
//
// Thread-safety: one Resolver serves every thread of a process; Resolve blocks the calling
// thread until the resolution ends (bounded by the adapters' timeouts and `wait_timeout`).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <variant>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "providers/provider.h"
#include "service/credentials.h"
#include "storage/store.h"

namespace pixvault::service {

struct ResolverOptions {
  std::string worker;  // names this process in leases and attempts; empty: "<host>:<pid>"
  Timestamp lease_duration = 15 * 60 * kMicrosPerSecond;
  Timestamp freshness_margin = 60 * kMicrosPerSecond;
  int max_attempts = 4;  // per step (download, upload), transient errors only
  Timestamp initial_backoff = 200 * 1000;
  Timestamp max_backoff = 5 * kMicrosPerSecond;
  // How long a caller waits for another process's lease before giving up (kUnavailable).
  Timestamp wait_timeout = 10 * 60 * kMicrosPerSecond;
  Timestamp poll_interval = 50 * 1000;
  // Where downscaled copies are written while they are uploaded.
  std::filesystem::path temp_dir;
  // Pixels an image may have to be decoded for downscaling.
  std::int64_t decode_pixel_limit = 268'402'689;  // 16383 x 16383
  // Sleeps for backoff and polling; injectable so tests need not wait.
  std::function<void(Timestamp)> sleep;
  // A provider account whose transfers (uploads, and downloads of evicted bytes: one per
  // download after its retries) failed this many times in a row with kUnavailable (any asset
  // or caller of this process) is not asked again for `breaker_cooldown`: resolves and
  // fetch-backs through it fail at once (kUnavailable) instead of each spending its retries
  // and a thread on it, and eviction does not ask it about copies.
  // After the cooldown a single try is let through (others still fail at once): a success
  // closes the breaker, a failure opens it again. Accounts are apart, so one account's rate
  // limit or failing files never hold back another's.
  int breaker_threshold = 8;
  Timestamp breaker_cooldown = 30 * kMicrosPerSecond;
  // An origin ref counts as lost once its provider has said it does not have it twice, this
  // far apart (a provider misconfigured or unmounted for a while says so of everything):
  // storage::Store::ReportOriginMissing.
  Timestamp origin_confirm_after = 3600 * kMicrosPerSecond;
};

struct ResolveRequest {
  AssetId asset_id = 0;
  std::string provider_id;
  // The caller's account for the provider; unset: the caller's only enabled account of it.
  std::optional<std::int64_t> account_id;
  bool verify = false;  // ask the provider whether a cached ref is still known
  bool force = false;   // upload again even if a ref is cached or a refusal recorded
};

struct Resolution {
  ProviderUpload upload;      // status `uploaded`: provider_ref, provider_url, expires_at
  bool uploaded_now = false;  // this call (or the flight it joined) made the upload
  bool downscaled = false;
};

class Resolver {
 public:
  Resolver(storage::Store& store, blob::BlobStore& blobs,
           const providers::ProviderRegistry& registry, const CredentialCipher& cipher,
           const Clock& clock, ResolverOptions options = {});
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Errors: kNotFound (asset not visible, unknown provider, account not the caller's),
  // kInvalidArgument (no account or several for the provider, a disabled account, an asset the
  // provider cannot take: its media type or a limit, with the numbers), kPermissionDenied
  // (the provider refused the content or the credentials), kUnsupported (the provider takes
  // no uploads), kUnavailable (the provider kept failing or its breaker is open, another
  // process's lease did not end
  // within wait_timeout, or the bytes are not local and cannot be fetched), kCorrupt
  // (credentials that cannot be opened, or bytes that do not match their hash).
  Result<Resolution> Resolve(const Viewer& viewer, const ResolveRequest& request);

  // The reads every resolution starts with (the asset, the provider, the caller's account and
  // the recorded row), made by TryCached and handed back to Resolve.
  struct Subject {
    Asset asset;
    std::shared_ptr<providers::Provider> provider;
    ProviderAccount account;
    std::optional<ProviderUpload> row;  // unset: none recorded, or a forced re-upload
  };

  // What Resolve answers from the database alone, without waiting for anything: a cached ref
  // (neither `verify` nor `force` asked), a recorded refusal, an error about the request
  // (unknown asset, provider or account; a database error), or the open breaker of the
  // provider account when an upload is needed. Otherwise the answer needs the
  // provider, the bytes or another caller's flight, and what was read is returned: pass it to
  // Resolve (which may block), which then does not read it again. Meant for an I/O thread: it
  // makes a few indexed reads and never sleeps.
  std::variant<Result<Resolution>, Subject> TryCached(const Viewer& viewer,
                                                      const ResolveRequest& request);

  // Resolve, continuing from what TryCached read for the same viewer and request.
  Result<Resolution> Resolve(const Viewer& viewer, const ResolveRequest& request, Subject subject);

  // The caller learned that the provider no longer knows the asset's ref for the account:
  // the row becomes `expired`, so the next Resolve uploads again.
  Status Invalidate(AssetId asset, std::string_view provider, std::int64_t account);

  // Makes sure the asset's bytes are in the blob store: when they were evicted, fetches them
  // back from a provider that has them (the asset's origin first, then its recorded uploads),
  // verifying their sha256, and records the attempts. An origin provider answering that it no
  // longer has the file is reported (storage::Store::ReportOriginMissing; once confirmed, the
  // origin is not asked again). kUnavailable when no provider can give them back; kCorrupt when
  // what came back is not the asset's content.
  Status EnsureLocalCopy(const Asset& asset);

  // Asks the provider of `copy` (a copy the local cache counts on before evicting bytes)
  // whether it still has it, under the copy's account. A provider that no longer knows the
  // ref of an uploaded row makes the row `expired` (so nothing counts on it again and the next
  // Resolve uploads again); of an origin ref, reports it missing (lost once confirmed:
  // ResolverOptions::origin_confirm_after), and a later confirmation clears that. Errors: kNotFound
  // (the provider is not configured here, or forgot the ref), kUnavailable (the account's breaker
  // is open, or the provider's), kCorrupt (credentials that cannot be opened), the provider's other
  // errors.
  Status CheckCopy(const storage::CacheCopy& copy);

  // The provider account the caller means (see ResolveRequest::account_id) and its opened
  // credentials; shared with generation jobs.
  Result<std::pair<ProviderAccount, providers::AccountAccess>> OpenAccount(
      const Viewer& viewer, std::string_view provider, std::optional<std::int64_t> account_id);

  // The same without opening the credentials.
  Result<ProviderAccount> FindAccount(const Viewer& viewer, std::string_view provider,
                                      std::optional<std::int64_t> account_id);

  const std::string& worker() const { return options_.worker; }

 private:
  Result<providers::AccountAccess> Access(const ProviderAccount& account) const;
  struct Flight;
  Result<Subject> Read(const Viewer& viewer, const ResolveRequest& request);
  // The answer of a recorded row without asking anyone: a fresh ref (unless `verify`), a
  // recorded refusal; nullopt otherwise.
  std::optional<Result<Resolution>> Recorded(const Subject& subject, bool verify) const;
  // An uploaded ref that stays valid for at least the freshness margin.
  bool IsFresh(const ProviderUpload& row) const;
  using Key = std::tuple<AssetId, std::string, std::int64_t, bool>;  // ..., force

  Result<Resolution> Lead(const Viewer& viewer, const Asset& asset, providers::Provider& provider,
                          const ProviderAccount& account, const providers::AccountAccess& access,
                          bool force);
  Result<Resolution> Work(const Viewer& viewer, const Asset& asset, providers::Provider& provider,
                          const providers::AccountAccess& access, ProviderUpload row,
                          std::vector<ProviderAttempt>& attempts,
                          const std::function<Status()>& renew);
  // `exclude`: the (provider, account) being resolved for, whose ref is not a source.
  // `requester`: a user whose enabled accounts may be used besides the owner's (0: none).
  // True when the bytes had to be fetched (false: they were there).
  Result<bool> EnsureLocal(const Asset& asset, UserId requester,
                           std::vector<ProviderAttempt>& attempts,
                           std::optional<std::pair<std::string, std::int64_t>> exclude);
  void Sleep(Timestamp micros) const;
  Timestamp Backoff(int attempt) const;
  // The breaker of a provider account (ResolverOptions::breaker_threshold): an error while it
  // is open, or while its one try after the cooldown is under way. With `take_try`, a caller
  // let through after the cooldown becomes that try (and must call BreakerRecord); without,
  // the state is only read.
  using BreakerKey = std::pair<std::string, std::int64_t>;  // provider, account
  Status BreakerAllows(const BreakerKey& key, bool take_try);
  // Counts a transfer's outcome: a kUnavailable failure or anything else (the provider answered).
  void BreakerRecord(const BreakerKey& key, bool unavailable);
  // Counts the outcome of a transfer let through by BreakerAllows(key, true) whatever happens,
  // an exception included: a try taken and never counted would keep the breaker's "one try
  // under way" for good (not counted: a failure).
  struct BreakerOutcome {
    Resolver& resolver;
    const BreakerKey& key;
    bool counted = false;
    void Count(bool unavailable) {
      resolver.BreakerRecord(key, unavailable);
      counted = true;
    }
    ~BreakerOutcome() {
      if (!counted) resolver.BreakerRecord(key, true);
    }
  };

  storage::Store& store_;
  blob::BlobStore& blobs_;
  const providers::ProviderRegistry& registry_;
  const CredentialCipher& cipher_;
  const Clock& clock_;
  ResolverOptions options_;

  std::mutex mu_;
  std::map<Key, std::shared_ptr<Flight>> flights_;
  struct Breaker {
    int failures = 0;          // kUnavailable upload failures in a row
    Timestamp open_until = 0;  // no upload is tried before this
    bool trying = false;       // the one try after a cooldown is under way
  };
  std::mutex breaker_mu_;
  std::map<BreakerKey, Breaker> breakers_;
};

}  // namespace pixvault::service
