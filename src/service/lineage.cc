#include "service/lineage.h"

#include "service/json_fields.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

namespace pixvault::service {

namespace {

std::string_view DirectionName(LineageDirection d) {
  return d == LineageDirection::kAncestors ? "ancestors" : "descendants";
}

}  // namespace

Result<WalkDirection> ParseWalkDirection(std::string_view text) {
  if (text == "ancestors") return WalkDirection::kAncestors;
  if (text == "descendants") return WalkDirection::kDescendants;
  if (text == "both") return WalkDirection::kBoth;
  return Fail(ErrorCode::kInvalidArgument,
              "direction must be one of: ancestors, descendants, both");
}

Result<std::vector<Asset>> LoadAssets(storage::Store& store, const Viewer& viewer,
                                      const std::vector<AssetId>& ids) {
  std::vector<AssetId> unique(ids);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<Asset> out;
  out.reserve(unique.size());
  for (std::size_t at = 0; at < unique.size(); at += kSummaryBatch) {
    std::vector<AssetId> batch(
        unique.begin() + static_cast<std::ptrdiff_t>(at),
        unique.begin() + static_cast<std::ptrdiff_t>(std::min(unique.size(), at + kSummaryBatch)));
    PV_ASSIGN_OR_RETURN(auto assets, store.GetAssets(viewer, batch));
    for (auto& a : assets) out.push_back(std::move(a));
  }
  return out;
}

Result<LineageGraph> LoadLineage(storage::Store& store, const Viewer& viewer, AssetId root,
                                 WalkDirection direction, std::int64_t depth) {
  if (depth < 1 || depth > kMaxLineageDepth) {
    return Fail(ErrorCode::kInvalidArgument,
                "depth must be between 1 and " + std::to_string(kMaxLineageDepth));
  }
  LineageGraph g;
  g.root = root;
  g.direction = direction;
  g.depth = depth;
  std::vector<LineageDirection> walks;
  if (direction != WalkDirection::kDescendants) walks.push_back(LineageDirection::kAncestors);
  if (direction != WalkDirection::kAncestors) walks.push_back(LineageDirection::kDescendants);
  std::vector<AssetId> ids{root};
  for (LineageDirection d : walks) {
    // The walk checks the root's visibility (kNotFound) before it reads any edge.
    PV_ASSIGN_OR_RETURN(auto edges, store.WalkLineage(viewer, root, d, depth));
    for (auto& e : edges) {
      ids.push_back(e.child_asset_id);
      ids.push_back(e.parent_asset_id);
      g.edges.push_back(WalkedEdge{std::move(e), d});
    }
  }
  PV_ASSIGN_OR_RETURN(g.nodes, LoadAssets(store, viewer, ids));
  // Root first: clients draw the graph from it.
  auto it =
      std::find_if(g.nodes.begin(), g.nodes.end(), [root](const Asset& a) { return a.id == root; });
  if (it == g.nodes.end()) {
    // Deleted between the walk and the batch read.
    return Fail(ErrorCode::kNotFound, "asset " + std::to_string(root) + " not found");
  }
  std::rotate(g.nodes.begin(), it, it + 1);
  // An asset deleted between the walk and the batch read takes its edges with it.
  std::set<AssetId> present;
  for (const Asset& a : g.nodes) present.insert(a.id);
  std::erase_if(g.edges, [&](const WalkedEdge& w) {
    return !present.count(w.edge.child_asset_id) || !present.count(w.edge.parent_asset_id);
  });
  return g;
}

boost::json::object LineageEdgeToJson(const LineageEdge& e) {
  boost::json::object o;
  o["id"] = e.id;
  o["child_asset_id"] = e.child_asset_id;
  o["parent_asset_id"] = e.parent_asset_id;
  o["parent_role"] = e.parent_role;
  o["operation_type"] = e.operation_type ? boost::json::value(ToString(*e.operation_type))
                                         : boost::json::value(nullptr);
  o["operation_job_id"] = OrNull(e.operation_job_id);
  o["parent_start_time"] = OrNull(e.parent_start_time);
  o["parent_end_time"] = OrNull(e.parent_end_time);
  o["parent_frame"] = OrNull(e.parent_frame);
  o["transformation"] = Embedded(e.transformation);
  o["sequence_order"] = e.sequence_order;
  o["created_at"] = FormatTimestamp(e.created_at);
  return o;
}

boost::json::object AssetSummaryToJson(const Asset& a) {
  boost::json::object o;
  o["id"] = a.id;
  o["media_type"] = ToString(a.media_type);
  o["mime_type"] = OrNull(a.mime_type);
  o["description"] = OrNull(a.description);
  o["duration_sec"] = OrNull(a.duration_sec);
  o["fps"] = OrNull(a.fps);
  o["width"] = OrNull(a.width);
  o["height"] = OrNull(a.height);
  o["created_at"] = FormatTimestamp(a.created_at);
  return o;
}

boost::json::object LineageGraphToJson(const LineageGraph& g) {
  boost::json::array nodes, edges;
  for (const Asset& a : g.nodes) nodes.push_back(AssetSummaryToJson(a));
  for (const WalkedEdge& w : g.edges) {
    boost::json::object e = LineageEdgeToJson(w.edge);
    e["depth"] = w.edge.depth;
    e["direction"] = DirectionName(w.direction);
    edges.push_back(std::move(e));
  }
  std::string_view direction = g.direction == WalkDirection::kBoth        ? "both"
                               : g.direction == WalkDirection::kAncestors ? "ancestors"
                                                                          : "descendants";
  return {{"root", g.root},
          {"direction", direction},
          {"depth", g.depth},
          {"nodes", std::move(nodes)},
          {"edges", std::move(edges)}};
}

}  // namespace pixvault::service
