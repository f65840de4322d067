// SqlStore: provider accounts, provider uploads (their leases and attempts) and the origin
// refs providers lost.
#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

// --- Provider accounts -----------------------------------------------------------------

Result<ProviderAccount> SqlStore::CreateProviderAccount(const ProviderAccount& a) {
  if (a.provider_id.empty() || a.label.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "provider_id and label are required");
  }
  PV_RETURN_IF_ERROR(ValidateJson(a.settings, "settings"));
  ProviderAccount out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    auto rows = c.Query(std::string("INSERT INTO provider_accounts (user_id, provider_id, label, "
                                    "credentials_encrypted, settings, enabled, created_at) VALUES "
                                    "(?, ?, ?, ?, ?, ?, ?) RETURNING ") +
                            kAccountColumns,
                        {a.user_id, a.provider_id, a.label, sql::Bytes{a.credentials_encrypted},
                         a.settings, a.enabled, clock_.Now()});
    if (!rows && rows.error().code == ErrorCode::kAlreadyExists) {
      return Fail(ErrorCode::kAlreadyExists,
                  "account '" + a.label + "' already exists for provider " + a.provider_id);
    }
    if (!rows) return Fail(rows.error());
    out = ToAccount(RowView(*rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<ProviderAccount> SqlStore::GetProviderAccount(const Viewer& v, std::int64_t id) {
  ProviderAccount out;
  Status st = db_->Read([&](Connection& c) -> Status {
    std::string sql =
        std::string("SELECT ") + kAccountColumns + " FROM provider_accounts WHERE id = ?";
    std::vector<Value> params{id};
    if (!v.is_admin) sql += " AND user_id = ?", params.emplace_back(v.user_id);
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
    if (rows.empty()) {
      return Fail(ErrorCode::kNotFound, "provider account " + std::to_string(id) + " not found");
    }
    out = ToAccount(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<ProviderAccount>> SqlStore::ListProviderAccounts(const Viewer& v) {
  std::vector<ProviderAccount> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    std::string sql = std::string("SELECT ") + kAccountColumns + " FROM provider_accounts";
    std::vector<Value> params;
    if (!v.is_admin) sql += " WHERE user_id = ?", params.emplace_back(v.user_id);
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql + " ORDER BY id", params));
    out = MapRows(rows, ToAccount);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteProviderAccount(const Viewer& v, std::int64_t id) {
  return db_->Transaction([&](Connection& c) -> Status {
    std::string sql = "DELETE FROM provider_accounts WHERE id = ?";
    std::vector<Value> params{id};
    if (!v.is_admin) sql += " AND user_id = ?", params.emplace_back(v.user_id);
    PV_RETURN_IF_ERROR(c.Query(sql, params));
    if (c.Changes() == 0) return Fail(ErrorCode::kNotFound, "provider account not found");
    return Ok();
  });
}

// --- Provider uploads ------------------------------------------------------------------

Result<ProviderUpload> SqlStore::PutProviderUpload(const ProviderUpload& u) {
  ProviderUpload out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("INSERT INTO provider_uploads (asset_id, provider_id, account_id, "
                            "provider_ref, provider_url, status, uploaded_at, expires_at, "
                            "last_error, last_error_code, attempts, updated_at) VALUES (?, ?, ?, "
                            "?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id, provider_id, "
                            "account_id) DO UPDATE SET provider_ref = excluded.provider_ref, "
                            "provider_url = excluded.provider_url, status = excluded.status, "
                            "uploaded_at = excluded.uploaded_at, expires_at = "
                            "excluded.expires_at, last_error = excluded.last_error, "
                            "last_error_code = excluded.last_error_code, attempts = "
                            "excluded.attempts, updated_at = excluded.updated_at RETURNING ") +
                    kUploadColumns,
                {u.asset_id, u.provider_id, u.account_id, Opt(u.provider_ref), Opt(u.provider_url),
                 Str(ToString(u.status)), Opt(u.uploaded_at), Opt(u.expires_at), Opt(u.last_error),
                 Opt(u.last_error_code), u.attempts, clock_.Now()}));
    out = ToUpload(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<ProviderUpload> SqlStore::GetProviderUpload(AssetId asset, std::string_view provider,
                                                   std::int64_t account) {
  ProviderUpload out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kUploadColumns +
                                               " FROM provider_uploads WHERE asset_id = ? AND "
                                               "provider_id = ? AND account_id = ?",
                                           {asset, Str(provider), account}));
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, "no upload of this asset to " + std::string(provider));
    out = ToUpload(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<ProviderUpload>> SqlStore::ListProviderUploads(const Viewer& v, AssetId asset) {
  std::vector<ProviderUpload> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    std::string sql =
        std::string("SELECT ") + kUploadColumns + " FROM provider_uploads WHERE asset_id = ?";
    std::vector<Value> params{asset};
    if (!v.is_admin) {
      sql += " AND account_id IN (SELECT id FROM provider_accounts WHERE user_id = ?)";
      params.emplace_back(v.user_id);
    }
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql + " ORDER BY provider_id, account_id", params));
    out = MapRows(rows, ToUpload);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteProviderUpload(AssetId asset, std::string_view provider,
                                      std::int64_t account) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(
        c.Query("DELETE FROM provider_uploads WHERE asset_id = ? AND provider_id "
                "= ? AND account_id = ?",
                {asset, Str(provider), account}));
    if (c.Changes() == 0) return Fail(ErrorCode::kNotFound, "no such provider upload");
    return Ok();
  });
}

namespace {

Status InsertAttempts(Connection& c, const std::vector<ProviderAttempt>& attempts) {
  for (const ProviderAttempt& a : attempts) {
    PV_RETURN_IF_ERROR(c.Query(
        "INSERT INTO provider_upload_attempts (asset_id, provider_id, account_id, operation, "
        "outcome, error_code, error, bytes, worker, started_at, finished_at) VALUES (?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?)",
        {a.asset_id, a.provider_id, a.account_id, a.operation,
         Str(a.succeeded ? "succeeded" : "failed"), Opt(a.error_code), Opt(a.error), a.bytes,
         a.worker, a.started_at, a.finished_at}));
  }
  return Ok();
}

}  // namespace

Status SqlStore::RecordProviderAttempts(const std::vector<ProviderAttempt>& attempts) {
  if (attempts.empty()) return Ok();
  return db_->Transaction([&](Connection& c) -> Status { return InsertAttempts(c, attempts); });
}

Result<Store::UploadClaim> SqlStore::ClaimProviderUpload(const UploadClaimRequest& r) {
  if (r.owner.empty()) return Fail(ErrorCode::kInvalidArgument, "claim owner is required");
  UploadClaim out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    out = UploadClaim{};
    const Timestamp now = clock_.Now();
    // A new row is born leased: whoever inserts it does the work.
    PV_ASSIGN_OR_RETURN(
        Rows inserted,
        c.Query(std::string("INSERT INTO provider_uploads (asset_id, provider_id, account_id, "
                            "status, attempts, updated_at, lease_owner, lease_expires_at) VALUES "
                            "(?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (asset_id, provider_id, "
                            "account_id) DO NOTHING RETURNING ") +
                    kUploadColumns,
                {r.asset_id, r.provider_id, r.account_id, now, r.owner, r.lease_until}));
    if (!inserted.empty()) {
      out.upload = ToUpload(RowView(inserted, 0));
      out.leased = true;
      return Ok();
    }
    // The conditions are re-checked by the UPDATE itself, so of two concurrent claimers
    // (PostgreSQL re-evaluates the WHERE on the locked row) only one gets the lease.
    std::string sql =
        "UPDATE provider_uploads SET lease_owner = ?, lease_expires_at = ? WHERE asset_id = ? "
        "AND provider_id = ? AND account_id = ? AND (lease_owner IS NULL OR lease_owner = ? OR "
        "lease_expires_at <= ?) AND NOT (status = 'uploaded' AND (expires_at IS NULL OR "
        "expires_at > ?))";
    std::vector<Value> params{r.owner,      r.lease_until, r.asset_id, r.provider_id,
                              r.account_id, r.owner,       now,        r.fresh_until};
    if (!r.retry_failed) sql += " AND status <> 'failed'";
    PV_ASSIGN_OR_RETURN(Rows updated, c.Query(sql + " RETURNING " + kUploadColumns, params));
    if (!updated.empty()) {
      out.upload = ToUpload(RowView(updated, 0));
      out.leased = true;
      return Ok();
    }
    PV_ASSIGN_OR_RETURN(Rows current, c.Query(std::string("SELECT ") + kUploadColumns +
                                                  " FROM provider_uploads WHERE asset_id = ? "
                                                  "AND provider_id = ? AND account_id = ?",
                                              {r.asset_id, r.provider_id, r.account_id}));
    if (current.empty()) return Fail(ErrorCode::kNotFound, "provider upload vanished");
    out.upload = ToUpload(RowView(current, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<ProviderUpload> SqlStore::FinishProviderUpload(
    const ProviderUpload& u, std::string_view owner, const std::vector<ProviderAttempt>& attempts) {
  ProviderUpload out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    const Timestamp now = clock_.Now();
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("UPDATE provider_uploads SET provider_ref = ?, provider_url = ?, "
                            "status = ?, uploaded_at = ?, expires_at = ?, last_error = ?, "
                            "last_error_code = ?, attempts = ?, updated_at = ?, lease_owner = "
                            "NULL, lease_expires_at = NULL WHERE asset_id = ? AND provider_id = "
                            "? AND account_id = ? AND lease_owner = ? RETURNING ") +
                    kUploadColumns,
                {Opt(u.provider_ref), Opt(u.provider_url), Str(ToString(u.status)),
                 Opt(u.uploaded_at), Opt(u.expires_at), Opt(u.last_error), Opt(u.last_error_code),
                 u.attempts, now, u.asset_id, u.provider_id, u.account_id, Str(owner)}));
    if (rows.empty()) {
      return Fail(ErrorCode::kUnavailable,
                  "lease lost: another worker took over the upload of asset " +
                      std::to_string(u.asset_id) + " to " + u.provider_id);
    }
    out = ToUpload(RowView(rows, 0));
    return InsertAttempts(c, attempts);
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::ExpireProviderUpload(AssetId asset, std::string_view provider,
                                      std::int64_t account,
                                      std::optional<std::string_view> only_ref) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT status FROM provider_uploads WHERE asset_id "
                                           "= ? AND provider_id = ? AND account_id = ?",
                                           {asset, Str(provider), account}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such provider upload");
    std::string sql =
        "UPDATE provider_uploads SET status = 'expired', updated_at = ? WHERE asset_id = ? AND "
        "provider_id = ? AND account_id = ? AND status = 'uploaded' AND lease_owner IS NULL";
    std::vector<Value> params{clock_.Now(), asset, Str(provider), account};
    if (only_ref) {
      sql += " AND provider_ref = ?";
      params.push_back(Str(*only_ref));
    }
    PV_RETURN_IF_ERROR(c.Query(sql, params));
    return Ok();
  });
}

Result<bool> SqlStore::ReportOriginMissing(AssetId asset, std::string_view ref,
                                           Timestamp confirm_after) {
  bool lost = false;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    const Timestamp now = clock_.Now();
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT provider_asset_id, origin_missing_since, "
                                           "origin_lost_at FROM assets WHERE id = ?",
                                           {asset}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such asset");
    const RowView r(rows, 0);
    lost = r.OptInt("origin_lost_at").has_value();
    if (lost || r.OptText("provider_asset_id") != ref) return Ok();
    const std::optional<Timestamp> since = r.OptInt("origin_missing_since");
    if (!since) {
      return c.Query("UPDATE assets SET origin_missing_since = ? WHERE id = ?", {now, asset})
          .map([](auto&&) {});
    }
    if (now - *since < confirm_after) return Ok();
    lost = true;
    return c
        .Query("UPDATE assets SET origin_lost_at = ?, updated_at = ? WHERE id = ?",
               {now, now, asset})
        .map([](auto&&) {});
  });
  if (!st) return Fail(st.error());
  return lost;
}

Status SqlStore::ReportOriginFound(AssetId asset, std::string_view ref) {
  return db_->Transaction([&](Connection& c) -> Status {
    return c
        .Query(
            "UPDATE assets SET origin_missing_since = NULL WHERE id = ? AND "
            "provider_asset_id = ? AND origin_missing_since IS NOT NULL AND "
            "origin_lost_at IS NULL",
            {asset, Str(ref)})
        .map([](auto&&) {});
  });
}

Result<std::int64_t> SqlStore::RecheckLostOrigins(std::optional<std::string_view> provider) {
  std::int64_t count = 0;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    std::string sql =
        "UPDATE assets SET origin_lost_at = NULL, origin_missing_since = NULL, updated_at = ? "
        "WHERE origin_lost_at IS NOT NULL";
    std::vector<Value> params{clock_.Now()};
    if (provider) {
      sql += " AND provider_id = ?";
      params.push_back(Str(*provider));
    }
    PV_RETURN_IF_ERROR(c.Query(sql, params));
    count = c.Changes();
    return Ok();
  });
  if (!st) return Fail(st.error());
  return count;
}

Result<std::vector<ProviderAttempt>> SqlStore::ListProviderAttempts(AssetId asset,
                                                                    std::string_view provider,
                                                                    std::int64_t account,
                                                                    std::int64_t limit) {
  std::vector<ProviderAttempt> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kAttemptColumns +
                                               " FROM provider_upload_attempts WHERE asset_id = "
                                               "? AND provider_id = ? AND account_id = ? ORDER "
                                               "BY id DESC LIMIT ?",
                                           {asset, Str(provider), account, limit}));
    out = MapRows(rows, ToAttempt);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

}  // namespace pixvault::storage
