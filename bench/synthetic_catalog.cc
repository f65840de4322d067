#include "bench/synthetic_catalog.h"

#include <algorithm>

#include "storage/sql_rows.h"

namespace pixvault::bench {
namespace {

using storage::sql::Connection;
using storage::sql::Database;
using storage::sql::Dialect;
using storage::sql::Rows;
using storage::sql::RowView;

// Base of created_at: 2023-11-14T22:13:20Z, in microseconds.
constexpr std::int64_t kEpochMicros = 1'700'000'000'000'000;

// Integers k in [lo, hi) as a relation `seq(k)`: a prefix for SQLite (recursive CTE), a
// FROM item for PostgreSQL. Both take the parameters lo, hi in that order.
struct Sequence {
  std::string with;  // goes before INSERT
  std::string from;  // goes after FROM
};
Sequence KSequence(Dialect d) {
  if (d == Dialect::kSqlite) {
    return {
        "WITH RECURSIVE seq(k) AS (SELECT CAST(? AS BIGINT) UNION ALL SELECT k + 1 FROM seq "
        "WHERE k + 1 < ?) ",
        "seq"};
  }
  return {"", "generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT) - 1) AS seq(k)"};
}

Status InsertAssets(Connection& c, std::int64_t user_id, const CatalogShape& s, std::int64_t lo,
                    std::int64_t hi) {
  Sequence seq = KSequence(c.dialect());
  std::string sql =
      seq.with +
      "INSERT INTO assets (user_id, media_type, provider_id, provider_asset_id, upload_method, "
      "sync_status, file_size_bytes, mime_type, width, height, description, content_category, "
      "content_rating, age_restricted, searchable, created_at, updated_at) "
      "SELECT CAST(? AS BIGINT), CASE k % 4 WHEN 0 THEN 'image' WHEN 1 THEN 'video' "
      "WHEN 2 THEN 'audio' ELSE '3d_model' END, 'bench', 'gen-' || k, 'provider', 'remote', "
      "1000 + k % 100000, CASE k % 4 WHEN 0 THEN 'image/png' WHEN 1 THEN 'video/mp4' "
      "WHEN 2 THEN 'audio/wav' ELSE 'model/gltf-binary' END, "
      "CASE WHEN k % 4 < 2 THEN 1920 END, CASE WHEN k % 4 < 2 THEN 1080 END, "
      "'synthetic asset ' || k, 'cat' || (k % CAST(? AS BIGINT)), "
      "CASE WHEN (k / CAST(? AS BIGINT)) % 100 < 70 THEN 'general' "
      "WHEN (k / CAST(? AS BIGINT)) % 100 < 90 THEN 'mature' "
      "WHEN (k / CAST(? AS BIGINT)) % 100 < 97 THEN 'adult' ELSE 'explicit' END, "
      "(k / CAST(? AS BIGINT)) % 100 >= 90, k % 97 <> 0, "
      "CAST(? AS BIGINT) + k * 1000000, CAST(? AS BIGINT) + k * 1000000 FROM " +
      seq.from;
  // The sequence's parameters come first in SQLite (WITH prefix) and last in PostgreSQL.
  std::vector<storage::sql::Value> body{user_id,      s.categories, s.categories, s.categories,
                                        s.categories, s.categories, kEpochMicros, kEpochMicros};
  std::vector<storage::sql::Value> params;
  if (c.dialect() == Dialect::kSqlite) params = {lo, hi};
  params.insert(params.end(), body.begin(), body.end());
  if (c.dialect() == Dialect::kPostgres) params.insert(params.end(), {lo, hi});
  PV_RETURN_IF_ERROR(c.Query(sql, params));
  return Ok();
}

Status InsertTags(Connection& c, std::int64_t user_id, std::int64_t first_id, const CatalogShape& s,
                  std::int64_t lo, std::int64_t hi) {
  std::string positions = c.dialect() == Dialect::kSqlite
                              ? "(WITH RECURSIVE p(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM p "
                                "WHERE j + 1 < ?) SELECT j FROM p)"
                              : "(SELECT generate_series(0, CAST(? AS BIGINT) - 1) AS j)";
  std::string sql =
      "INSERT INTO asset_tags (asset_id, kind, tag, position, user_id, created_at) "
      "SELECT a.id, 'tag', 'tag' || ((a.id - CAST(? AS BIGINT) + p.j * 337) % "
      "CAST(? AS BIGINT)), p.j, a.user_id, a.created_at "
      "FROM assets a CROSS JOIN " +
      positions +
      " p WHERE a.user_id = ? AND a.id >= ? AND a.id < ? ORDER BY a.id, p.j "
      "ON CONFLICT DO NOTHING";
  PV_RETURN_IF_ERROR(c.Query(
      sql, {first_id, s.tag_count, s.tags_per_asset, user_id, first_id + lo, first_id + hi}));
  // Each asset row's copy of its tags, as the store's WriteTags keeps it (migration 0009).
  PV_RETURN_IF_ERROR(c.Query("UPDATE assets SET tag_list = " +
                                 storage::internal::TagListExpression(c.dialect(), "assets.id") +
                                 " WHERE user_id = ? AND id >= ? AND id < ?",
                             {user_id, first_id + lo, first_id + hi}));
  return Ok();
}

// Chain edges child = id, parent = id - 1 for ids in [first_id + lo, first_id + hi), at most
// `limit` of them. Returns how many were inserted.
Result<std::int64_t> InsertChainEdges(Connection& c, std::int64_t user_id, std::int64_t first_id,
                                      std::int64_t lo, std::int64_t hi, std::int64_t limit) {
  PV_RETURN_IF_ERROR(c.Query(
      "INSERT INTO asset_lineage (child_asset_id, parent_asset_id, parent_role, operation_type, "
      "sequence_order, created_at) SELECT a.id, a.id - 1, 'source', 'video_extend', 0, "
      "a.created_at FROM assets a WHERE a.user_id = ? AND a.id >= ? AND a.id < ? AND "
      "(a.id - CAST(? AS BIGINT)) % CAST(? AS BIGINT) <> 0 ORDER BY a.id LIMIT ?",
      {user_id, first_id + lo, first_id + hi, first_id, kChainLength, limit}));
  return c.Changes();
}

// Reference edges of round `round`: from position (kChainLength - 1 - round) of every chain
// but the first to position (5 + round) of the previous chain. Parents always have smaller
// ids, so the graph stays acyclic.
Result<std::int64_t> InsertReferenceEdges(Connection& c, std::int64_t user_id,
                                          std::int64_t first_id, std::int64_t round,
                                          std::int64_t limit) {
  const std::int64_t child_pos = kChainLength - 1 - round;
  const std::int64_t parent_pos = 5 + round;
  PV_RETURN_IF_ERROR(c.Query(
      "INSERT INTO asset_lineage (child_asset_id, parent_asset_id, parent_role, operation_type, "
      "sequence_order, created_at) SELECT a.id, a.id - CAST(? AS BIGINT), 'reference', 'fusion', "
      "1, a.created_at FROM assets a WHERE a.user_id = ? AND a.id - CAST(? AS BIGINT) >= ? AND "
      "(a.id - CAST(? AS BIGINT)) % CAST(? AS BIGINT) = ? ORDER BY a.id LIMIT ?",
      {child_pos - parent_pos + kChainLength, user_id, first_id, kChainLength, first_id,
       kChainLength, child_pos, limit}));
  return c.Changes();
}

Result<std::int64_t> FirstAssetId(Database& db, std::int64_t user_id) {
  std::int64_t first = 0;
  Status st = db.Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT min(id) AS first FROM assets WHERE user_id = ?", {user_id}));
    if (RowView(rows, 0).IsNull("first")) return Fail(ErrorCode::kInternal, "no assets loaded");
    first = RowView(rows, 0).Int("first");
    return Ok();
  });
  if (!st) return Fail(st.error());
  return first;
}

}  // namespace

Status LoadCatalog(Database& db, std::int64_t user_id, const CatalogShape& s,
                   const std::function<void(const std::string&)>& progress) {
  Status st = Ok();  // PV_RETURN_IF_ERROR does not nest, so the work's status lands here
  const bool sqlite = db.dialect() == Dialect::kSqlite;
  // A large page cache for the writer while loading: index inserts stay in memory.
  auto tune = [&](Connection& c) -> Status {
    if (sqlite) PV_RETURN_IF_ERROR(c.Query("PRAGMA cache_size = -262144"));
    return Ok();
  };
  for (std::int64_t lo = 0; lo < s.assets; lo += s.chunk) {
    const std::int64_t hi = std::min(s.assets, lo + s.chunk);
    st = db.Transaction([&](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(tune(c));
      return InsertAssets(c, user_id, s, lo, hi);
    });
    if (!st) return st;
  }
  progress("assets: " + std::to_string(s.assets));
  PV_ASSIGN_OR_RETURN(std::int64_t first_id, FirstAssetId(db, user_id));
  for (std::int64_t lo = 0; lo < s.assets; lo += s.chunk) {
    const std::int64_t hi = std::min(s.assets, lo + s.chunk);
    st = db.Transaction([&](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(tune(c));
      return InsertTags(c, user_id, first_id, s, lo, hi);
    });
    if (!st) return st;
  }
  progress("tags: " + std::to_string(s.assets * s.tags_per_asset));
  std::int64_t edges = 0;
  for (std::int64_t lo = 0; lo < s.assets && edges < s.edges; lo += s.chunk) {
    const std::int64_t hi = std::min(s.assets, lo + s.chunk);
    st = db.Transaction([&](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(tune(c));
      PV_ASSIGN_OR_RETURN(std::int64_t n,
                          InsertChainEdges(c, user_id, first_id, lo, hi, s.edges - edges));
      edges += n;
      return Ok();
    });
    if (!st) return st;
  }
  for (std::int64_t round = 0; edges < s.edges && round < kChainLength - 6; ++round) {
    st = db.Transaction([&](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(tune(c));
      PV_ASSIGN_OR_RETURN(std::int64_t n,
                          InsertReferenceEdges(c, user_id, first_id, round, s.edges - edges));
      edges += n;
      return Ok();
    });
    if (!st) return st;
  }
  progress("lineage edges: " + std::to_string(edges));
  if (sqlite) {
    st = db.Transaction([](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(c.Query("PRAGMA cache_size = -2000"));  // back to SQLite's default
      PV_RETURN_IF_ERROR(c.Query("ANALYZE"));
      return Ok();
    });
    if (!st) return st;
    st = db.Read([](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(c.Query("PRAGMA wal_checkpoint(TRUNCATE)"));
      return Ok();
    });
    if (!st) return st;
  } else {
    // Outside a transaction: VACUUM refuses to run inside one. It also sets the visibility
    // map, as autovacuum would have by the time a real catalogue reaches this size.
    st = db.Read([](Connection& c) -> Status {
      PV_RETURN_IF_ERROR(c.Query("VACUUM ANALYZE"));
      return Ok();
    });
    if (!st) return st;
  }
  progress("analyzed");
  return Ok();
}

Result<CatalogInfo> InspectCatalog(Database& db, std::int64_t user_id) {
  CatalogInfo info;
  info.user_id = user_id;
  Status st = db.Read([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(Rows a, c.Query("SELECT count(*) AS n, min(id) AS first FROM assets "
                                        "WHERE user_id = ?",
                                        {user_id}));
    info.assets = RowView(a, 0).Int("n");
    info.first_id = RowView(a, 0).OptInt("first").value_or(0);
    PV_ASSIGN_OR_RETURN(Rows t, c.Query("SELECT count(*) AS n FROM asset_tags"));
    info.tags = RowView(t, 0).Int("n");
    PV_ASSIGN_OR_RETURN(Rows l, c.Query("SELECT count(*) AS n FROM asset_lineage"));
    info.edges = RowView(l, 0).Int("n");
    return Ok();
  });
  if (!st) return Fail(st.error());
  return info;
}

}  // namespace pixvault::bench
