// Lineage use cases over the store: an asset's neighbourhood in the lineage DAG with the
// summaries of the assets in it, and its JSON shapes (shared by the HTTP API and the CLI).
//
// Every read is filtered by the viewer: edges whose other end the viewer may not see are
// left out, exactly as the store's walks do. Queries: one recursive walk per direction plus
// one batch of asset rows per kSummaryBatch nodes — never one query per node.
// Thread-safe; borrows the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/error.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

inline constexpr std::int64_t kDefaultLineageDepth = 10;
inline constexpr std::int64_t kMaxLineageDepth = 100;
// Asset ids per GetAssets call when loading node summaries (bounded SQL parameter lists).
inline constexpr std::size_t kSummaryBatch = 500;

enum class WalkDirection { kAncestors, kDescendants, kBoth };

// "ancestors", "descendants" or "both"; kInvalidArgument otherwise.
Result<WalkDirection> ParseWalkDirection(std::string_view text);

// One edge of a walk and the side of the root it lies on.
struct WalkedEdge {
  LineageEdge edge;
  LineageDirection direction = LineageDirection::kAncestors;
};

// The root, every node reached and the edges between them. `nodes` holds the root first,
// then the others in ascending id order.
struct LineageGraph {
  AssetId root = 0;
  WalkDirection direction = WalkDirection::kBoth;
  std::int64_t depth = 0;
  std::vector<Asset> nodes;
  std::vector<WalkedEdge> edges;
};

// Walks the lineage from `root` up to `depth` steps (1..kMaxLineageDepth) in `direction`.
// kNotFound when the root is not visible to the viewer; kInvalidArgument for a depth out of
// range.
Result<LineageGraph> LoadLineage(storage::Store& store, const Viewer& viewer, AssetId root,
                                 WalkDirection direction, std::int64_t depth);

// The viewer-visible assets among `ids` (duplicates allowed), in batches of kSummaryBatch.
Result<std::vector<Asset>> LoadAssets(storage::Store& store, const Viewer& viewer,
                                      const std::vector<AssetId>& ids);

// JSON shapes. An edge: id, child_asset_id, parent_asset_id, parent_role, operation_type,
// operation_job_id, parent_start_time, parent_end_time, parent_frame, transformation (an
// object), sequence_order, created_at. A summary: id, media_type, mime_type, description,
// duration_sec, fps, width, height, created_at.
boost::json::object LineageEdgeToJson(const LineageEdge& edge);
boost::json::object AssetSummaryToJson(const Asset& asset);
// {root, direction, depth, nodes: [summary], edges: [edge + depth + direction]}.
boost::json::object LineageGraphToJson(const LineageGraph& graph);

}  // namespace pixvault::service
