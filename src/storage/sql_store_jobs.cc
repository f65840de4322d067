// SqlStore: provider accounts, provider uploads and the job queue.
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

Status SqlStore::MarkOriginLost(AssetId asset, std::string_view ref) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(
        c.Query("UPDATE assets SET origin_lost_at = ? WHERE id = ? AND "
                "provider_asset_id = ? AND origin_lost_at IS NULL",
                {clock_.Now(), asset, Str(ref)}));
    if (c.Changes() > 0) return Ok();
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT 1 FROM assets WHERE id = ?", {asset}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such asset");
    return Ok();
  });
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

// --- Jobs ------------------------------------------------------------------------------

Status internal::ValidateNewJob(const Job& job) {
  if (job.kind.empty()) return Fail(ErrorCode::kInvalidArgument, "job kind is required");
  if (job.max_attempts < 1) return Fail(ErrorCode::kInvalidArgument, "max_attempts must be >= 1");
  return ValidateJson(job.payload, "payload");
}

Result<Store::Enqueued> internal::InsertJob(Connection& c, const Job& job, Timestamp now) {
  Store::Enqueued out;
  // ON CONFLICT DO NOTHING makes concurrent enqueues with one key yield one job.
  PV_ASSIGN_OR_RETURN(
      Rows rows,
      c.Query(std::string("INSERT INTO jobs (kind, user_id, idempotency_key, status, priority, "
                          "payload, attempts, max_attempts, run_after, created_at, updated_at) "
                          "VALUES (?, ?, ?, 'queued', ?, ?, 0, ?, ?, ?, ?) ON CONFLICT "
                          "(idempotency_key) DO NOTHING RETURNING ") +
                  kJobColumns,
              {job.kind, Opt(job.user_id), Opt(job.idempotency_key), job.priority, job.payload,
               job.max_attempts, job.run_after ? job.run_after : now, now, now}));
  if (!rows.empty()) {
    out.job = ToJob(RowView(rows, 0));
    return out;
  }
  PV_ASSIGN_OR_RETURN(Rows existing, c.Query(std::string("SELECT ") + kJobColumns +
                                                 " FROM jobs WHERE idempotency_key = ?",
                                             {Opt(job.idempotency_key)}));
  if (existing.empty()) return Fail(ErrorCode::kInternal, "job insert returned nothing");
  out.job = ToJob(RowView(existing, 0));
  out.existed = true;
  return out;
}

Result<Store::Enqueued> SqlStore::EnqueueJob(const Job& job) {
  PV_RETURN_IF_ERROR(ValidateNewJob(job));
  Enqueued out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(out, InsertJob(c, job, clock_.Now()));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::optional<Job>> SqlStore::ClaimJob(const JobClaim& claim) {
  if (claim.owner.empty()) return Fail(ErrorCode::kInvalidArgument, "claim owner is required");
  std::optional<Job> out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    out.reset();
    Timestamp now = clock_.Now();
    // Jobs whose worker died with no attempts left are dead, not retried.
    PV_RETURN_IF_ERROR(c.Query(
        "UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_expires_at = NULL, "
        "last_error = COALESCE(last_error, 'worker lease expired'), updated_at = ? WHERE status "
        "= 'running' AND lease_expires_at < ? AND attempts >= max_attempts",
        {now, now}));
    std::string kinds;
    std::vector<Value> params{claim.owner, now + claim.lease_micros, now, now, now};
    for (const auto& k : claim.kinds) {
      kinds += kinds.empty() ? "?" : ", ?";
      params.emplace_back(k);
    }
    std::string pick =
        "SELECT id FROM jobs WHERE ((status = 'queued' AND run_after <= ?) OR (status = "
        "'running' AND lease_expires_at < ?))";
    if (!kinds.empty()) pick += " AND kind IN (" + kinds + ")";
    pick += " ORDER BY priority DESC, run_after, id LIMIT 1";
    if (c.dialect() == sql::Dialect::kPostgres) pick += " FOR UPDATE SKIP LOCKED";
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query(std::string("UPDATE jobs SET status = 'running', lease_owner = ?, "
                            "lease_expires_at = ?, attempts = attempts + 1, updated_at = ? WHERE "
                            "id = (") +
                    pick + ") RETURNING " + kJobColumns,
                params));
    if (!rows.empty()) out = ToJob(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::HeartbeatJob(JobId id, std::string_view owner, Timestamp lease_micros) {
  return db_->Transaction([&](Connection& c) -> Status {
    Timestamp now = clock_.Now();
    PV_RETURN_IF_ERROR(
        c.Query("UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? "
                "AND status = 'running' AND lease_owner = ?",
                {now + lease_micros, now, id, Str(owner)}));
    if (c.Changes() == 0) {
      return Fail(ErrorCode::kPermissionDenied, "job " + std::to_string(id) + " lease lost");
    }
    return Ok();
  });
}

Status SqlStore::CompleteJob(JobId id, std::string_view owner, std::string_view result_json) {
  PV_RETURN_IF_ERROR(ValidateJson(result_json, "job result"));
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(
        c.Query("UPDATE jobs SET status = 'succeeded', result = ?, lease_owner = "
                "NULL, lease_expires_at = NULL, last_error = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'running' AND lease_owner = ?",
                {Str(result_json), clock_.Now(), id, Str(owner)}));
    if (c.Changes() == 0) {
      return Fail(ErrorCode::kPermissionDenied, "job " + std::to_string(id) + " lease lost");
    }
    return Ok();
  });
}

Status SqlStore::SaveJobProgress(JobId id, std::string_view owner, std::string_view result_json) {
  PV_RETURN_IF_ERROR(ValidateJson(result_json, "job progress"));
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(c.Query(
        "UPDATE jobs SET result = ?, updated_at = ? WHERE id = ? AND status = 'running' AND "
        "lease_owner = ?",
        {Str(result_json), clock_.Now(), id, Str(owner)}));
    if (c.Changes() == 0) {
      return Fail(ErrorCode::kPermissionDenied, "job " + std::to_string(id) + " lease lost");
    }
    return Ok();
  });
}

Status SqlStore::FailJob(JobId id, std::string_view owner, std::string_view error, bool retryable,
                         Timestamp retry_delay) {
  return db_->Transaction([&](Connection& c) -> Status {
    Timestamp now = clock_.Now();
    PV_RETURN_IF_ERROR(c.Query(
        "UPDATE jobs SET status = CASE WHEN ? AND attempts < max_attempts THEN 'queued' WHEN ? "
        "THEN 'dead' ELSE 'failed' END, run_after = ?, last_error = ?, lease_owner = NULL, "
        "lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status = 'running' AND "
        "lease_owner = ?",
        {retryable, retryable, now + retry_delay, Str(error), now, id, Str(owner)}));
    if (c.Changes() == 0) {
      return Fail(ErrorCode::kPermissionDenied, "job " + std::to_string(id) + " lease lost");
    }
    return Ok();
  });
}

Status SqlStore::CancelJob(const Viewer& v, JobId id) {
  return db_->Transaction([&](Connection& c) -> Status {
    std::string sql = "SELECT status FROM jobs WHERE id = ?";
    std::vector<Value> params{id};
    if (!v.is_admin) sql += " AND user_id = ?", params.emplace_back(v.user_id);
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
    std::string status = RowView(rows, 0).Text("status");
    if (status != "queued" && status != "running") {
      return Fail(ErrorCode::kInvalidArgument,
                  "job " + std::to_string(id) + " is already " + status);
    }
    // The status condition keeps a job that a worker completed between the SELECT above and
    // this UPDATE (READ COMMITTED on PostgreSQL) from being turned into `cancelled`.
    PV_RETURN_IF_ERROR(
        c.Query("UPDATE jobs SET status = 'cancelled', lease_owner = NULL, "
                "lease_expires_at = NULL, updated_at = ? WHERE id = ? AND status IN "
                "('queued', 'running')",
                {clock_.Now(), id}));
    if (c.Changes() == 0) {
      return Fail(ErrorCode::kInvalidArgument, "job " + std::to_string(id) + " already finished");
    }
    return Ok();
  });
}

Result<Job> SqlStore::GetJob(JobId id) {
  Job out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?", {id}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
    out = ToJob(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<Job>> SqlStore::ListJobs(const JobFilter& f, std::int64_t limit) {
  Where w;
  if (f.status) w.Add("status = ?", Str(ToString(*f.status)));
  if (f.kind) w.Add("kind = ?", *f.kind);
  if (f.user_id) w.Add("user_id = ?", *f.user_id);
  w.params.emplace_back(limit);
  std::vector<Job> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE TRUE" + w.sql +
                               " ORDER BY id DESC LIMIT ?",
                           w.params));
    out = MapRows(rows, ToJob);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<std::pair<JobStatus, std::int64_t>>> SqlStore::CountJobsByStatus() {
  std::vector<std::pair<JobStatus, std::int64_t>> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT status, count(*) AS n FROM jobs GROUP BY "
                                           "status ORDER BY status"));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      RowView r(rows, i);
      out.emplace_back(RowEnum<JobStatus>(r, "status"), r.Int("n"));
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

}  // namespace pixvault::storage
