// SqlStore: the job queue.
#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

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
