// SqlStore: lineage edges (a DAG of which asset derives from which).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>

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
constexpr std::size_t kMaxRoleLength = 64;
// Probed durations are rounded; a time this close past the end still counts as inside.
constexpr double kTimeTolerance = 1e-6;

Result<bool> IsAncestorOrSelf(Connection& c, AssetId maybe_ancestor, AssetId of) {
  PV_ASSIGN_OR_RETURN(
      Rows rows,
      c.Query("WITH RECURSIVE anc(node) AS (SELECT CAST(? AS BIGINT) UNION "
              "SELECT l.parent_asset_id FROM asset_lineage l JOIN anc ON l.child_asset_id = "
              "anc.node) SELECT 1 AS hit FROM anc WHERE node = ? LIMIT 1",
              {of, maybe_ancestor}));
  return !rows.empty();
}

// A role is free text, kept to a snake_case word so that it can name a PROV role and a
// filter value: "source", "keyframe", "paused_frame", "composition_part", ...
bool IsRoleWord(std::string_view role) {
  if (role.empty() || role.size() > kMaxRoleLength || role.front() < 'a' || role.front() > 'z') {
    return false;
  }
  for (char ch : role) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  }
  return true;
}

Status ValidateTime(const std::optional<double>& t, std::string_view field) {
  if (t && !(std::isfinite(*t) && *t >= 0)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(field) + " must be a finite number >= 0");
  }
  return Ok();
}

// Checks what an edge can be checked for on its own, before any query.
Status ValidateEdge(const LineageEdge& e) {
  if (e.child_asset_id == e.parent_asset_id) {
    return Fail(ErrorCode::kInvalidArgument,
                "lineage edge from asset " + std::to_string(e.child_asset_id) + " to itself");
  }
  if (!IsRoleWord(e.parent_role)) {
    return Fail(ErrorCode::kInvalidArgument,
                "parent_role must be a lowercase word of letters, digits and '_' (at most " +
                    std::to_string(kMaxRoleLength) + " characters, starting with a letter)");
  }
  PV_RETURN_IF_ERROR(ValidateTime(e.parent_start_time, "parent_start_time"));
  PV_RETURN_IF_ERROR(ValidateTime(e.parent_end_time, "parent_end_time"));
  if (e.parent_start_time && e.parent_end_time && *e.parent_start_time > *e.parent_end_time) {
    return Fail(ErrorCode::kInvalidArgument, "parent_start_time is after parent_end_time");
  }
  if (e.parent_frame && *e.parent_frame < 0) {
    return Fail(ErrorCode::kInvalidArgument, "parent_frame must be >= 0");
  }
  if (e.sequence_order < 0) return Fail(ErrorCode::kInvalidArgument, "sequence_order must be >= 0");
  if (e.operation_job_id && *e.operation_job_id < 1) {
    return Fail(ErrorCode::kInvalidArgument, "operation_job_id must be a positive id");
  }
  return ValidateJson(e.transformation, "transformation");
}

// Checks the edge's times and frame against its parent, read in the inserting transaction
// (with the visibility check), so they hold for the parent as stored when the edge commits.
// An unknown duration or frame rate leaves the corresponding check out.
Status CheckAgainstParent(Connection& c, const Viewer& v, const LineageEdge& e) {
  Where w;
  w.params.push_back(e.parent_asset_id);
  AddVisibility(w, v);
  PV_ASSIGN_OR_RETURN(
      Rows rows,
      c.Query("SELECT a.duration_sec, a.fps FROM assets a WHERE a.id = ?" + w.sql, w.params));
  if (rows.empty()) {
    return Fail(ErrorCode::kNotFound, "asset " + std::to_string(e.parent_asset_id) + " not found");
  }
  RowView parent(rows, 0);
  const std::optional<double> duration = parent.OptReal("duration_sec");
  const std::optional<double> fps = parent.OptReal("fps");
  if (duration) {
    for (auto [t, name] : {std::pair{&e.parent_start_time, "parent_start_time"},
                           {&e.parent_end_time, "parent_end_time"}}) {
      if (*t && **t > *duration + kTimeTolerance) {
        return Fail(ErrorCode::kInvalidArgument, std::string(name) + " " + std::to_string(**t) +
                                                     " is past the end of the parent (duration " +
                                                     std::to_string(*duration) + " s)");
      }
    }
  }
  if (duration && fps && e.parent_frame && *fps > 0) {
    const auto frames = static_cast<std::int64_t>(std::llround(*duration * *fps));
    if (*e.parent_frame >= std::max<std::int64_t>(frames, 1)) {
      return Fail(ErrorCode::kInvalidArgument, "parent_frame " + std::to_string(*e.parent_frame) +
                                                   " is past the last frame of the parent (" +
                                                   std::to_string(frames) + " frames)");
    }
  }
  return Ok();
}

// "edges[3]: <message>" for a batch, the bare message for a single edge.
Error InBatch(Error error, std::size_t index, std::size_t size) {
  if (size < 2) return error;
  return WithContext(std::move(error), "edges[" + std::to_string(index) + "]");
}

}  // namespace

// --- Lineage ---------------------------------------------------------------------------

Result<std::vector<LineageEdge>> SqlStore::AddLineage(const Viewer& v,
                                                      const std::vector<LineageEdge>& edges) {
  if (edges.empty()) return Fail(ErrorCode::kInvalidArgument, "no lineage edges given");
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (auto st = ValidateEdge(edges[i]); !st) return Fail(InBatch(st.error(), i, edges.size()));
  }
  std::vector<LineageEdge> out;
  Status st = db_->Transaction([&](Connection& c) -> Status {
    out.clear();
    if (c.dialect() == sql::Dialect::kPostgres) {
      PV_RETURN_IF_ERROR(c.Query("SELECT pg_advisory_xact_lock(?)", {kLineageLockKey}));
    }
    Timestamp now = clock_.Now();
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const LineageEdge& e = edges[i];
      auto fail = [&](Error error) { return Fail(InBatch(std::move(error), i, edges.size())); };
      if (auto ok = RequireVisibleAsset(c, v, e.child_asset_id); !ok) return fail(ok.error());
      if (auto ok = CheckAgainstParent(c, v, e); !ok) return fail(ok.error());
      // The new edge child <- parent closes a cycle iff child is already an ancestor of
      // parent (edges inserted earlier in this batch included).
      PV_ASSIGN_OR_RETURN(bool cycle, IsAncestorOrSelf(c, e.child_asset_id, e.parent_asset_id));
      if (cycle) {
        return fail(Error{ErrorCode::kInvalidArgument,
                          "lineage edge " + std::to_string(e.parent_asset_id) + " -> " +
                              std::to_string(e.child_asset_id) + " would create a cycle"});
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
        return fail(Error{ErrorCode::kAlreadyExists,
                          "lineage edge " + std::to_string(e.parent_asset_id) + " -> " +
                              std::to_string(e.child_asset_id) + " with role '" + e.parent_role +
                              "' and sequence_order " + std::to_string(e.sequence_order) +
                              " already exists"});
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
