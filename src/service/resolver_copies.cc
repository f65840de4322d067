// Resolver: the copies of an asset's bytes held elsewhere: fetching evicted bytes back from
// one (the origin first, then recorded uploads), asking a provider whether it still has one,
// and forgetting those it no longer has.
#include "service/resolver.h"

#include "service/provider_download.h"
#include "service/resolver_internal.h"

namespace pixvault::service {

using resolver_internal::kSystem;
using resolver_internal::NewAttempt;

Result<bool> Resolver::EnsureLocal(const Asset& asset, UserId requester,
                                   std::vector<ProviderAttempt>& attempts,
                                   std::optional<std::pair<std::string, std::int64_t>> exclude) {
  PV_ASSIGN_OR_RETURN(const bool present, blobs_.Exists(*asset.sha256));
  if (present) return false;
  // The bytes were evicted from the local cache: fetch them back from a provider that has
  // them (the asset's origin first, then any recorded upload), verifying their hash.
  struct Source {
    std::string provider;
    std::int64_t account = 0;
    providers::ProviderRef ref;
    bool origin = false;
  };
  std::vector<Source> sources;
  if (asset.provider_asset_id && asset.provider_account_id && !asset.origin_lost_at) {
    sources.push_back({asset.provider_id, *asset.provider_account_id,
                       providers::ProviderRef{*asset.provider_asset_id, "", std::nullopt}, true});
  }
  PV_ASSIGN_OR_RETURN(std::vector<ProviderUpload> rows,
                      store_.ListProviderUploads(kSystem, asset.id));
  for (const ProviderUpload& r : rows) {
    if (r.status == UploadStatus::kUploaded && r.provider_ref &&
        (!exclude || r.provider_id != exclude->first || r.account_id != exclude->second)) {
      sources.push_back(
          {r.provider_id, r.account_id,
           providers::ProviderRef{*r.provider_ref, r.provider_url.value_or(""), r.expires_at}});
    }
  }
  Error last{ErrorCode::kUnavailable, "asset " + std::to_string(asset.id) +
                                          " has no local copy and no provider holds its bytes"};
  for (const Source& s : sources) {
    std::shared_ptr<providers::Provider> from = registry_.Find(s.provider);
    if (from == nullptr) continue;
    // Only the accounts of the asset's owner or of the caller, enabled: another user's
    // account (its quota, its bill) is never spent on someone else's behalf.
    auto account = store_.GetProviderAccount(kSystem, s.account);
    if (!account || !account->enabled ||
        (account->user_id != asset.user_id && account->user_id != requester)) {
      continue;
    }
    auto access = Access(*account);
    if (!access) continue;
    // A provider account failing in a row is not asked (its breaker, shared with uploads);
    // after the cooldown this download may be its one try.
    const BreakerKey breaker{s.provider, s.account};
    if (Status allowed = BreakerAllows(breaker, /*take_try=*/true); !allowed) {
      last = allowed.error();
      continue;
    }
    BreakerOutcome outcome{*this, breaker};
    bool local_failure = false;
    DownloadOptions opts;
    opts.local_failure = &local_failure;
    opts.expected_sha256 = *asset.sha256;
    opts.max_bytes = asset.file_size_bytes;
    opts.max_attempts = options_.max_attempts;
    opts.initial_backoff = options_.initial_backoff;
    opts.max_backoff = options_.max_backoff;
    opts.sleep = [this](Timestamp t) { Sleep(t); };
    ProviderAttempt record =
        NewAttempt(asset, s.provider, s.account, "download", options_.worker, clock_.Now());
    Result<DownloadedBlob> got = DownloadToBlob(blobs_, *from, *access, s.ref, opts);
    // Only the provider's failures count: a full disk here is not the provider's.
    outcome.Count(!got && got.error().code == ErrorCode::kUnavailable && !local_failure);
    record.finished_at = clock_.Now();
    record.succeeded = got.has_value();
    if (got) {
      record.bytes = got->size;
      attempts.push_back(std::move(record));
      if (s.origin && asset.origin_missing_since) {
        (void)store_.ReportOriginFound(asset.id, s.ref.ref);  // best effort
      }
      return true;
    }
    record.error_code = std::string(ErrorCodeName(got.error().code));
    record.error = got.error().message;
    attempts.push_back(std::move(record));
    last = got.error();
    // The origin provider says it no longer has the file: once it has said so twice, far
    // enough apart, the origin is no longer asked (best effort: a record that cannot be
    // updated is updated next time). An uploaded row stays as it is: with no local bytes to
    // upload again, forgetting the copy would only make its loss permanent if the answer was
    // wrong.
    if (s.origin && got.error().code == ErrorCode::kNotFound && !local_failure) {
      (void)store_.ReportOriginMissing(asset.id, s.ref.ref, options_.origin_confirm_after);
    }
  }
  // A provider that lost the file leaves the asset's bytes unavailable, not the asset unknown.
  if (last.code == ErrorCode::kNotFound) last.code = ErrorCode::kUnavailable;
  return Fail(WithContext(last, "local copy of asset " + std::to_string(asset.id)));
}

Status Resolver::EnsureLocalCopy(const Asset& asset) {
  if (!asset.sha256) {
    return Fail(ErrorCode::kUnavailable,
                "asset " + std::to_string(asset.id) + " has no bytes yet (it is still remote)");
  }
  std::vector<ProviderAttempt> attempts;
  Result<bool> fetched = EnsureLocal(asset, 0, attempts, std::nullopt);
  auto recorded = store_.RecordProviderAttempts(attempts);
  if (!fetched) return Fail(fetched.error());
  return recorded;
}

Status Resolver::CheckCopy(const storage::CacheCopy& copy) {
  const std::shared_ptr<providers::Provider> provider = registry_.Find(copy.provider_id);
  if (provider == nullptr) {
    return Fail(ErrorCode::kNotFound, "provider '" + copy.provider_id + "' is not configured");
  }
  PV_RETURN_IF_ERROR(BreakerAllows({copy.provider_id, copy.account.id}, /*take_try=*/false));
  PV_ASSIGN_OR_RETURN(const providers::AccountAccess access, Access(copy.account));
  const Status known =
      provider->Check(access, providers::ProviderRef{copy.ref, copy.url, copy.expires_at});
  const bool origin = !copy.upload_id.has_value();
  if (known) {
    // An earlier answer that it had not is forgotten (best effort: else the next check).
    if (origin && copy.missing_since) (void)store_.ReportOriginFound(copy.asset_id, copy.ref);
    return known;
  }
  if (known.error().code != ErrorCode::kNotFound) return known;
  // An uploaded row is expired at once (the bytes are local: the next resolve uploads them
  // again); an origin ref is lost once its provider said so twice, far enough apart.
  Status recorded =
      origin
          ? store_.ReportOriginMissing(copy.asset_id, copy.ref, options_.origin_confirm_after)
                .map([](bool) {})
          : store_.ExpireProviderUpload(copy.asset_id, copy.provider_id, copy.account.id, copy.ref);
  if (!recorded && recorded.error().code != ErrorCode::kNotFound) {
    // Still the provider's answer (a database error is not the provider's failure); the
    // record is updated by the next check, fetch-back or resolve.
    Error e = known.error();
    e.message += " (the record could not be updated: " + recorded.error().message + ")";
    return Fail(std::move(e));
  }
  return known;
}

Status Resolver::Invalidate(AssetId asset, std::string_view provider, std::int64_t account) {
  return store_.ExpireProviderUpload(asset, provider, account);
}

}  // namespace pixvault::service
