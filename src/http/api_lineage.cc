// Routes of the lineage DAG: POST /api/v1/lineage (one edge or a batch), DELETE
// /api/v1/lineage/{edge_id}, and under /api/v1/assets/{id}: parents, children, lineage (a
// bounded walk with node summaries) and provenance (the same walk as W3C PROV-JSON).
#include <boost/json.hpp>

#include <map>

#include "http/api.h"
#include "http/api_lineage_parse.h"
#include "http/api_util.h"
#include "service/lineage.h"
#include "service/provenance.h"

namespace pixvault::http {

namespace {

using service::WalkDirection;

Result<Response> CreateEdges(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(auto edges, ParseLineageEdges(req.body));
  PV_ASSIGN_OR_RETURN(auto created, api.store.AddLineage(Viewer::For(*req.user), edges));
  boost::json::array out;
  for (const LineageEdge& e : created) out.push_back(service::LineageEdgeToJson(e));
  return JsonResponse(201, boost::json::object{{"edges", std::move(out)}});
}

Result<Response> DeleteEdge(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t edge_id, PathId(req, "edge_id"));
  PV_RETURN_IF_ERROR(api.store.DeleteLineageEdge(Viewer::For(*req.user), edge_id));
  Response r;
  r.status = 204;
  return r;
}

// Direct parents (`up`) or children of the asset, each edge with a summary of the asset at
// its other end: one walk of depth 1 and one batch read of the summaries.
Result<Response> Neighbours(ApiContext& api, Request& req, bool up) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(auto edges,
                      up ? api.store.ListParents(viewer, id) : api.store.ListChildren(viewer, id));
  std::vector<AssetId> others;
  for (const LineageEdge& e : edges) others.push_back(up ? e.parent_asset_id : e.child_asset_id);
  PV_ASSIGN_OR_RETURN(auto assets, service::LoadAssets(api.store, viewer, others));
  std::map<AssetId, const Asset*> by_id;
  for (const Asset& a : assets) by_id[a.id] = &a;
  boost::json::array items;
  for (const LineageEdge& e : edges) {
    auto it = by_id.find(up ? e.parent_asset_id : e.child_asset_id);
    if (it == by_id.end()) continue;  // deleted since the walk
    boost::json::object item = service::LineageEdgeToJson(e);
    item["asset"] = service::AssetSummaryToJson(*it->second);
    items.push_back(std::move(item));
  }
  return JsonResponse(200, boost::json::object{{"asset_id", id}, {"items", std::move(items)}});
}

Result<service::LineageGraph> Walk(ApiContext& api, Request& req, bool direction_param) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  WalkDirection direction = WalkDirection::kBoth;
  if (auto d = req.QueryParam("direction"); d && direction_param) {
    PV_ASSIGN_OR_RETURN(direction, service::ParseWalkDirection(*d));
  }
  PV_ASSIGN_OR_RETURN(auto depth, QueryInt(req, "depth", 1, service::kMaxLineageDepth));
  return service::LoadLineage(api.store, Viewer::For(*req.user), id, direction,
                              depth.value_or(service::kDefaultLineageDepth));
}

Result<Response> GetLineage(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(auto graph, Walk(api, req, true));
  return JsonResponse(200, service::LineageGraphToJson(graph));
}

Result<Response> GetProvenance(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(auto graph, Walk(api, req, false));
  return JsonResponse(200, service::ProvenanceDocument(graph));
}

ResponseDoc ProblemDoc(int status, std::string description) {
  return {status, std::move(description), "Problem", "application/problem+json"};
}

}  // namespace

void RegisterLineageRoutes(Router& router, ApiContext& api) {
  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  ParamDoc edge_id{"edge_id", "path", "integer", true, false, "Lineage edge id", {}, 1, {}};
  ParamDoc depth{"depth", "query", "integer",
                 false,   false,   "Steps to walk from the asset (default 10)",
                 {},      1,       service::kMaxLineageDepth};
  ParamDoc direction{"direction",
                     "query",
                     "string",
                     false,
                     false,
                     "Which side of the asset to walk (default both)",
                     {"ancestors", "descendants", "both"},
                     {},
                     {}};
  router.Add(
      Route{"POST", "/api/v1/lineage", "createLineage", true, api.options.json_body_limit,
            [&api](Request& r) { return CreateEdges(api, r); }, nullptr,
            RouteDoc{"Link assets by lineage: one edge, or {\"edges\": [...]} (up to 1000, e.g. a "
                     "storyboard's keyframes) written atomically, all or none",
                     "lineage",
                     {},
                     {"application/json"},
                     "LineageEdgeBatch",
                     true,
                     {{201, "The created edges, in request order", "LineageEdgeList"},
                      ProblemDoc(400,
                                 "Malformed body, bad field, self edge, a time or frame outside "
                                 "the parent, or an edge that would close a cycle"),
                      ProblemDoc(404, "An asset that does not exist or is not the caller's"),
                      ProblemDoc(409, "An identical edge (child, parent, role, order) exists")}}});
  router.Add(
      Route{"DELETE", "/api/v1/lineage/{edge_id}", "deleteLineageEdge", true, 0,
            [&api](Request& r) { return DeleteEdge(api, r); }, nullptr,
            RouteDoc{"Delete a lineage edge (the child's owner only)",
                     "lineage",
                     {edge_id},
                     {},
                     "",
                     false,
                     {{204, "Deleted", ""}, ProblemDoc(404, "No such edge of the caller")}}});
  router.Add(Route{"GET", "/api/v1/assets/{id}/parents", "listLineageParents", true, 0,
                   [&api](Request& r) { return Neighbours(api, r, true); }, nullptr,
                   RouteDoc{"The asset's direct parents, in sequence order",
                            "lineage",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "Edges to the parents", "LineageNeighbours"}}}});
  router.Add(Route{"GET", "/api/v1/assets/{id}/children", "listLineageChildren", true, 0,
                   [&api](Request& r) { return Neighbours(api, r, false); }, nullptr,
                   RouteDoc{"The asset's direct children",
                            "lineage",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "Edges to the children", "LineageNeighbours"}}}});
  router.Add(Route{"GET", "/api/v1/assets/{id}/lineage", "getLineage", true, 0,
                   [&api](Request& r) { return GetLineage(api, r); }, nullptr,
                   RouteDoc{"The asset's ancestors and/or descendants up to a depth, with a "
                            "summary of every asset in the graph",
                            "lineage",
                            {id, direction, depth},
                            {},
                            "",
                            false,
                            {{200, "Nodes and edges", "LineageGraph"},
                             ProblemDoc(400, "depth outside 1..100 or an unknown direction")}}});
  router.Add(Route{"GET", "/api/v1/assets/{id}/provenance", "getProvenance", true, 0,
                   [&api](Request& r) { return GetProvenance(api, r); }, nullptr,
                   RouteDoc{"The asset's lineage in both directions as W3C PROV-JSON",
                            "lineage",
                            {id, depth},
                            {},
                            "",
                            false,
                            {{200, "A PROV-JSON document", "ProvDocument"},
                             ProblemDoc(400, "depth outside 1..100")}}});
}

}  // namespace pixvault::http
