// SqlStore: media analysis records and the perceptual-hash index (migration 0010).
#include <boost/json.hpp>

#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

namespace {

constexpr const char* kAnalysisColumns =
    "asset_id, step, version, status, error, result, updated_at";

AnalysisRecord ToAnalysis(const RowView& r) {
  AnalysisRecord out;
  out.asset_id = r.Int("asset_id");
  out.step = r.Text("step");
  out.version = r.Int("version");
  out.status = RowEnum<AnalysisStatus>(r, "status");
  out.error = r.OptText("error");
  out.result = r.Text("result");
  out.updated_at = r.Int("updated_at");
  return out;
}

// Hashes are unsigned 64-bit values kept in BIGINT columns bit for bit.
std::int64_t ToColumn(std::uint64_t h) { return static_cast<std::int64_t>(h); }
std::uint64_t FromColumn(std::int64_t v) { return static_cast<std::uint64_t>(v); }

PerceptualHash ToHash(const RowView& r) {
  return PerceptualHash{r.Int("asset_id"), FromColumn(r.Int("phash")), FromColumn(r.Int("dhash"))};
}

Status RequireAsset(Connection& c, AssetId id) {
  PV_ASSIGN_OR_RETURN(Rows rows, c.Query("SELECT 1 FROM assets WHERE id = ?", {id}));
  if (rows.empty()) return Fail(ErrorCode::kNotFound, "asset " + std::to_string(id) + " not found");
  return Ok();
}

}  // namespace

Status SqlStore::PutAnalysis(const AnalysisRecord& r) {
  if (r.step.empty()) return Fail(ErrorCode::kInvalidArgument, "analysis step is required");
  if (r.version < 1) return Fail(ErrorCode::kInvalidArgument, "analysis version must be >= 1");
  {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(r.result, ec);
    if (ec || !v.is_object()) {
      return Fail(ErrorCode::kInvalidArgument, "analysis result must be a JSON object");
    }
  }
  const Timestamp now = clock_.Now();
  const bool pg = db_->dialect() == sql::Dialect::kPostgres;
  // The failed steps' messages as one JSON object, built by the database from the rows.
  const std::string errors =
      pg ? "COALESCE((SELECT jsonb_object_agg(step, error) FROM asset_analysis "
           "WHERE asset_id = ? AND status = 'failed'), '{}'::jsonb)"
         : "COALESCE((SELECT json_group_object(step, error) FROM asset_analysis "
           "WHERE asset_id = ? AND status = 'failed'), '{}')";
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireAsset(c, r.asset_id));
    const std::vector<Value> params = {r.asset_id,   r.step,   r.version, Str(ToString(r.status)),
                                       Opt(r.error), r.result, now};
    PV_RETURN_IF_ERROR(
        c.Query("INSERT INTO asset_analysis (asset_id, step, version, status, error, result, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (asset_id, step) DO UPDATE "
                "SET version = excluded.version, status = excluded.status, error = "
                "excluded.error, result = excluded.result, updated_at = excluded.updated_at",
                params)
            .map([](auto&&) {}));
    return c
        .Query("UPDATE assets SET analysis_errors = " + errors + " WHERE id = ?",
               {r.asset_id, r.asset_id})
        .map([](auto&&) {});
  });
}

Result<std::vector<AnalysisRecord>> SqlStore::ListAnalysis(const Viewer& v, AssetId id) {
  std::vector<AnalysisRecord> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(std::string("SELECT ") + kAnalysisColumns +
                                               " FROM asset_analysis WHERE asset_id = ? "
                                               "ORDER BY step",
                                           {id}));
    out = MapRows(rows, ToAnalysis);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::PutPerceptualHash(const PerceptualHash& h) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireAsset(c, h.asset_id));
    PV_RETURN_IF_ERROR(
        c.Query("INSERT INTO asset_perceptual_hashes (asset_id, phash, dhash) VALUES (?, ?, ?) "
                "ON CONFLICT (asset_id) DO UPDATE SET phash = excluded.phash, dhash = "
                "excluded.dhash",
                {h.asset_id, ToColumn(h.phash), ToColumn(h.dhash)})
            .map([](auto&&) {}));
    PV_RETURN_IF_ERROR(
        c.Query("DELETE FROM asset_phash_bands WHERE asset_id = ?", {h.asset_id}).map([](auto&&) {
        }));
    std::string sql = "INSERT INTO asset_phash_bands (band_key, asset_id) VALUES ";
    std::vector<Value> params;
    for (int band = 0; band < 8; ++band) {
      if (band > 0) sql += ", ";
      sql += "(?, ?)";
      params.emplace_back(static_cast<std::int64_t>(256 * band + ((h.phash >> (8 * band)) & 0xff)));
      params.emplace_back(h.asset_id);
    }
    return c.Query(sql, params).map([](auto&&) {});
  });
}

Result<PerceptualHash> SqlStore::GetPerceptualHash(const Viewer& v, AssetId id) {
  PerceptualHash out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, id));
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("SELECT asset_id, phash, dhash FROM asset_perceptual_hashes WHERE asset_id = ?",
                {id}));
    if (rows.empty()) {
      return Fail(ErrorCode::kNotFound,
                  "asset " + std::to_string(id) + " has no perceptual hash yet (not analysed)");
    }
    out = ToHash(RowView(rows, 0));
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<PerceptualHash>> SqlStore::FindHashCandidates(
    const Viewer& v, const std::vector<std::int64_t>& band_keys, AssetId exclude,
    std::int64_t limit) {
  std::vector<PerceptualHash> out;
  if (band_keys.empty() || limit <= 0) return out;
  Status st = db_->Read([&](Connection& c) -> Status {
    const sql::Dialect d = c.dialect();
    Where visible;
    AddVisibility(visible, v);
    std::vector<Value> params = {IdSetParam(d, band_keys), exclude};
    params.insert(params.end(), visible.params.begin(), visible.params.end());
    params.emplace_back(limit);
    // The band index finds the candidates; the hash and asset rows are read per candidate.
    PV_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("SELECT h.asset_id, h.phash, h.dhash FROM asset_perceptual_hashes h "
                "JOIN assets a ON a.id = h.asset_id WHERE h.asset_id IN (SELECT b.asset_id "
                "FROM asset_phash_bands b WHERE " +
                    IdSetCondition(d, "b.band_key") +
                    ") AND h.asset_id <> ? AND a.searchable = TRUE" + visible.sql +
                    " ORDER BY h.asset_id LIMIT ?",
                params));
    out = MapRows(rows, ToHash);
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

}  // namespace pixvault::storage
