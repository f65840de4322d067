// SqlStore: lineage edges (a DAG of which asset derives from which).
#include "storage/sql_rows.h"
#include "storage/sql_store.h"

namespace pixvault::storage {

using namespace internal;  // NOLINT: the helpers are this file's vocabulary
using sql::Connection;
using sql::Rows;
using sql::RowView;

namespace {

// Lineage inserts on PostgreSQL take this transaction-scoped advisory lock so two
// concurrent inserts cannot close a cycle between them. SQLite has a single writer.
constexpr std::int64_t kLineageLockKey = 0x70697876'6c696e65;  // "pixvline"

Result<bool> IsAncestorOrSelf(Connection& c, AssetId maybe_ancestor, AssetId of) {
  PV_ASSIGN_OR_RETURN(
      Rows rows,
      c.Query("WITH RECURSIVE anc(node) AS (SELECT CAST(? AS BIGINT) UNION "
              "SELECT l.parent_asset_id FROM asset_lineage l JOIN anc ON l.child_asset_id = "
              "anc.node) SELECT 1 AS hit FROM anc WHERE node = ? LIMIT 1",
              {of, maybe_ancestor}));
  return !rows.empty();
}

Status ValidateEdge(const LineageEdge& e) {
  if (e.child_asset_id == e.parent_asset_id) {
    return Fail(ErrorCode::kInvalidArgument,
                "lineage edge from asset " + std::to_string(e.child_asset_id) + " to itself");
  }
  if (e.parent_role.empty()) return Fail(ErrorCode::kInvalidArgument, "parent_role is required");
  if (e.parent_start_time && e.parent_end_time && *e.parent_start_time > *e.parent_end_time) {
    return Fail(ErrorCode::kInvalidArgument, "parent_start_time is after parent_end_time");
  }
  return ValidateJson(e.transformation, "transformation");
}

}  // namespace

// --- Lineage ---------------------------------------------------------------------------

Result<std::vector<LineageEdge>> SqlStore::AddLineage(const Viewer& v,
                                                      const std::vector<LineageEdge>& edges) {
  if (edges.empty()) return Fail(ErrorCode::kInvalidArgument, "no lineage edges given");
  for (const auto& e : edges) PV_RETURN_IF_ERROR(ValidateEdge(e));
  std::vector<LineageEdge> out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    out.clear();
    if (c.dialect() == sql::Dialect::kPostgres) {
      PV_RETURN_IF_ERROR(c.Query("SELECT pg_advisory_xact_lock(?)", {kLineageLockKey}));
    }
    Timestamp now = clock_.Now();
    for (const auto& e : edges) {
      PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, e.child_asset_id));
      PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, e.parent_asset_id));
      // The new edge child <- parent closes a cycle iff child is already an ancestor of
      // parent (edges inserted earlier in this batch included).
      PV_ASSIGN_OR_RETURN(bool cycle, IsAncestorOrSelf(c, e.child_asset_id, e.parent_asset_id));
      if (cycle) {
        return Fail(ErrorCode::kInvalidArgument,
                    "lineage edge " + std::to_string(e.parent_asset_id) + " -> " +
                        std::to_string(e.child_asset_id) + " would create a cycle");
      }
      auto rows = c.Query(
          "INSERT INTO asset_lineage (child_asset_id, parent_asset_id, parent_role, "
          "operation_type, operation_job_id, parent_start_time, parent_end_time, parent_frame, "
          "transformation, sequence_order, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "RETURNING id",
          {e.child_asset_id, e.parent_asset_id, e.parent_role, OptEnum(e.operation_type),
           Opt(e.operation_job_id), Opt(e.parent_start_time), Opt(e.parent_end_time),
           Opt(e.parent_frame), e.transformation, e.sequence_order, now});
      if (!rows && rows.error().code == ErrorCode::kAlreadyExists) {
        return Fail(ErrorCode::kAlreadyExists, "lineage edge already exists");
      }
      if (!rows) return Fail(rows.error());
      LineageEdge stored = e;
      stored.id = RowView(*rows, 0).Int("id");
      stored.created_at = now;
      out.push_back(std::move(stored));
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::vector<LineageEdge>> SqlStore::ListParents(const Viewer& v, AssetId child) {
  return WalkLineage(v, child, LineageDirection::kAncestors, 1);
}

Result<std::vector<LineageEdge>> SqlStore::ListChildren(const Viewer& v, AssetId parent) {
  return WalkLineage(v, parent, LineageDirection::kDescendants, 1);
}

Result<std::vector<LineageEdge>> SqlStore::WalkLineage(const Viewer& v, AssetId start,
                                                       LineageDirection direction,
                                                       std::int64_t max_depth) {
  if (max_depth < 1) return Fail(ErrorCode::kInvalidArgument, "depth must be >= 1");
  const bool up = direction == LineageDirection::kAncestors;
  const std::string from = up ? "child_asset_id" : "parent_asset_id";
  const std::string to = up ? "parent_asset_id" : "child_asset_id";
  // One recursive query: (edge, node reached, depth) rows deduplicated by UNION, then each
  // edge reported once at its smallest depth. Both ends must be visible to the viewer.
  Where vis_p, vis_c;
  AddVisibility(vis_p, v, "pa");
  AddVisibility(vis_c, v, "ca");
  std::string sql =
      "WITH RECURSIVE walk(edge_id, node, depth) AS (SELECT id, " + to +
      ", 1 FROM asset_lineage WHERE " + from + " = ? UNION SELECT l.id, l." + to +
      ", w.depth + 1 FROM walk w JOIN asset_lineage l ON l." + from +
      " = w.node WHERE w.depth < ?) SELECT " + kEdgeColumns +
      ", d.depth AS depth FROM (SELECT edge_id, min(depth) AS depth FROM walk GROUP BY edge_id) d "
      "JOIN asset_lineage l ON l.id = d.edge_id JOIN assets pa ON pa.id = l.parent_asset_id "
      "JOIN assets ca ON ca.id = l.child_asset_id WHERE TRUE" +
      vis_p.sql + vis_c.sql + " ORDER BY d.depth, l.sequence_order, l.id";
  std::vector<Value> params{start, max_depth};
  params.insert(params.end(), vis_p.params.begin(), vis_p.params.end());
  params.insert(params.end(), vis_c.params.begin(), vis_c.params.end());
  std::vector<LineageEdge> out;
  Status st = db_->Read([&](Connection& c) -> Status {
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, start));
    PV_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
    out = MapRows(rows, [](const RowView& r) {
      LineageEdge e = ToEdge(r);
      e.depth = r.Int("depth");
      return e;
    });
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Status SqlStore::DeleteLineageEdge(const Viewer& v, std::int64_t edge_id) {
  return db_->Transaction([&](Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT child_asset_id FROM asset_lineage WHERE id = ?", {edge_id}));
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "lineage edge not found");
    PV_RETURN_IF_ERROR(RequireVisibleAsset(c, v, RowView(rows, 0).Int("child_asset_id")));
    PV_RETURN_IF_ERROR(c.Query("DELETE FROM asset_lineage WHERE id = ?", {edge_id}));
    return Ok();
  });
}

}  // namespace pixvault::storage
