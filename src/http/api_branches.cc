// Routes of branching video: branch points under an asset (/api/v1/assets/{id}/branches,
// /api/v1/branches/{id}), their variants (/api/v1/branches/{id}/variants,
// /api/v1/variants/{id}), clips (/api/v1/assets/{id}/clips, /api/v1/clips/{id}) and the
// caller's game state variables (/api/v1/state-variables). The store validates times, owners
// and uniqueness in its transactions; variant conditions and effects are compiled here
// against the owner's state variables with the game runtime's own compiler.
#include <boost/json.hpp>

#include <map>

#include "http/api.h"
#include "http/api_util.h"
#include "service/branches.h"
#include "service/bundle.h"

namespace pixvault::http {

namespace {

Response NoContent() {
  Response r;
  r.status = 204;
  return r;
}

tl::unexpected<Error> Missing(std::string_view field) {
  return Fail(ErrorCode::kInvalidArgument, "field '" + std::string(field) + "' is required");
}

// Sets `out` from member `key` when present: null clears it, a value replaces it.
template <class T, class Getter>
Status Merge(const boost::json::object& o, std::string_view key, std::optional<T>& out,
             Getter get) {
  if (!o.contains(key)) return Ok();
  if (IsNull(o, key)) {
    out.reset();
    return Ok();
  }
  PV_ASSIGN_OR_RETURN(auto v, get(o, key));
  out = std::move(v);
  return Ok();
}

// Sets a required member from `key` when present (null is refused).
template <class T, class Getter>
Status MergeRequired(const boost::json::object& o, std::string_view key, T& out, Getter get) {
  if (!o.contains(key)) return Ok();
  PV_ASSIGN_OR_RETURN(auto v, get(o, key));
  if (!v) return Missing(key);
  out = std::move(*v);
  return Ok();
}

// --- Branch points -----------------------------------------------------------------------

const std::set<std::string> kBranchFields = {
    "branch_time", "branch_frame", "branch_name", "branch_description", "branch_tag",
    "branch_type", "show_at",      "hide_at",     "default_variant_id", "game_metadata"};

// Applies the members of a branch body onto `b` (all optional here; Create checks the
// required ones first).
Status ApplyBranch(const boost::json::object& o, Branch& b) {
  PV_RETURN_IF_ERROR(MergeRequired(o, "branch_time", b.branch_time, OptNumber));
  PV_RETURN_IF_ERROR(Merge(o, "branch_frame", b.branch_frame, OptInt));
  PV_RETURN_IF_ERROR(MergeRequired(o, "branch_name", b.branch_name, OptString));
  PV_RETURN_IF_ERROR(Merge(o, "branch_description", b.branch_description, OptString));
  PV_RETURN_IF_ERROR(Merge(o, "branch_tag", b.branch_tag, OptString));
  std::string type;
  if (o.contains("branch_type")) {
    PV_RETURN_IF_ERROR(MergeRequired(o, "branch_type", type, OptString));
    PV_ASSIGN_OR_RETURN(b.branch_type, Parse<BranchType>(type));
  }
  PV_RETURN_IF_ERROR(Merge(o, "show_at", b.show_at, OptNumber));
  PV_RETURN_IF_ERROR(Merge(o, "hide_at", b.hide_at, OptNumber));
  PV_RETURN_IF_ERROR(Merge(o, "default_variant_id", b.default_variant_id, OptInt));
  if (o.contains("game_metadata")) {
    PV_ASSIGN_OR_RETURN(auto meta, OptJson(o, "game_metadata", "object"));
    b.game_metadata = meta.value_or("{}");
  }
  return Ok();
}

boost::json::object BranchWithVariants(const Branch& b, const std::vector<BranchVariant>& vars) {
  boost::json::object o = service::BranchToJson(b);
  boost::json::array items;
  for (const BranchVariant& v : vars) items.push_back(service::VariantToJson(v));
  o["variants"] = std::move(items);
  return o;
}

Result<Response> CreateBranch(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(AssetId source, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, kBranchFields));
  if (!o.contains("branch_time") || IsNull(o, "branch_time")) return Missing("branch_time");
  if (!o.contains("branch_name") || IsNull(o, "branch_name")) return Missing("branch_name");
  Branch b;
  b.source_asset_id = source;
  PV_RETURN_IF_ERROR(ApplyBranch(o, b));
  const Viewer viewer = Viewer::For(*req.user);
  PV_RETURN_IF_ERROR(service::SnapBranchFrame(api.store, api.blobs, viewer, b.branch_frame, b));
  PV_ASSIGN_OR_RETURN(Branch created, api.store.CreateBranch(viewer, b));
  return JsonResponse(201, BranchWithVariants(created, {}));
}

Result<Response> ListBranches(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(AssetId source, PathId(req, "id"));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(auto branches, api.store.ListBranches(viewer, source));
  PV_ASSIGN_OR_RETURN(auto all_variants, api.store.ListVariantsOfSource(viewer, source));
  std::map<std::int64_t, std::vector<BranchVariant>> by_branch;
  for (BranchVariant& v : all_variants) by_branch[v.branch_id].push_back(std::move(v));
  boost::json::array items;
  for (const Branch& b : branches) items.push_back(BranchWithVariants(b, by_branch[b.id]));
  return JsonResponse(200, boost::json::object{{"asset_id", source}, {"items", std::move(items)}});
}

Result<Response> GetBranch(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(Branch b, api.store.GetBranch(viewer, id));
  PV_ASSIGN_OR_RETURN(auto vars, api.store.ListVariants(viewer, id));
  return JsonResponse(200, BranchWithVariants(b, vars));
}

Result<Response> PatchBranch(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, kBranchFields));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(Branch b, api.store.GetBranch(viewer, id));
  PV_RETURN_IF_ERROR(ApplyBranch(o, b));
  // A new frame is snapped again; a new time alone moves the frame with it.
  if (o.contains("branch_frame")) {
    PV_RETURN_IF_ERROR(service::SnapBranchFrame(api.store, api.blobs, viewer, b.branch_frame, b));
  } else if (o.contains("branch_time")) {
    PV_RETURN_IF_ERROR(service::SnapBranchFrame(api.store, api.blobs, viewer, std::nullopt, b));
  }
  PV_ASSIGN_OR_RETURN(Branch updated, api.store.UpdateBranch(viewer, b));
  PV_ASSIGN_OR_RETURN(auto vars, api.store.ListVariants(viewer, id));
  return JsonResponse(200, BranchWithVariants(updated, vars));
}

Result<Response> DeleteBranch(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(api.store.DeleteBranch(Viewer::For(*req.user), id));
  return NoContent();
}

// --- Variants ------------------------------------------------------------------------------

const std::set<std::string> kVariantFields = {"variant_asset_id", "variant_name", "variant_tag",
                                              "weight",           "conditions",   "effects"};

Status ApplyVariant(const boost::json::object& o, BranchVariant& v) {
  PV_RETURN_IF_ERROR(MergeRequired(o, "variant_asset_id", v.variant_asset_id, OptInt));
  PV_RETURN_IF_ERROR(MergeRequired(o, "variant_name", v.variant_name, OptString));
  PV_RETURN_IF_ERROR(Merge(o, "variant_tag", v.variant_tag, OptString));
  PV_RETURN_IF_ERROR(MergeRequired(o, "weight", v.weight, OptNumber));
  for (auto [key, field] : {std::pair{"conditions", &v.conditions}, {"effects", &v.effects}}) {
    if (!o.contains(key)) continue;
    PV_ASSIGN_OR_RETURN(auto text, OptJson(o, key, "any"));
    *field = text.value_or("null");
  }
  return Ok();
}

// The rules are the branch owner's: an admin editing someone's game checks that user's state.
Status CheckRules(ApiContext& api, const Viewer& viewer, const BranchVariant& v) {
  PV_ASSIGN_OR_RETURN(Branch b, api.store.GetBranch(viewer, v.branch_id));
  return service::CheckVariantRules(api.store, viewer, b.user_id, v.conditions, v.effects);
}

Result<Response> CreateVariant(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t branch_id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, kVariantFields));
  for (std::string_view f : {"variant_asset_id", "variant_name"}) {
    if (!o.contains(f) || IsNull(o, f)) return Missing(f);
  }
  const Viewer viewer = Viewer::For(*req.user);
  BranchVariant v;
  v.branch_id = branch_id;
  PV_RETURN_IF_ERROR(ApplyVariant(o, v));
  PV_RETURN_IF_ERROR(CheckRules(api, viewer, v));
  PV_ASSIGN_OR_RETURN(BranchVariant created, api.store.CreateVariant(viewer, v));
  return JsonResponse(201, service::VariantToJson(created));
}

Result<Response> ListVariants(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t branch_id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto vars, api.store.ListVariants(Viewer::For(*req.user), branch_id));
  boost::json::array items;
  for (const BranchVariant& v : vars) items.push_back(service::VariantToJson(v));
  return JsonResponse(200,
                      boost::json::object{{"branch_id", branch_id}, {"items", std::move(items)}});
}

Result<Response> GetVariant(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(BranchVariant v, api.store.GetVariant(Viewer::For(*req.user), id));
  return JsonResponse(200, service::VariantToJson(v));
}

Result<Response> PatchVariant(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, kVariantFields));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(BranchVariant v, api.store.GetVariant(viewer, id));
  PV_RETURN_IF_ERROR(ApplyVariant(o, v));
  PV_RETURN_IF_ERROR(CheckRules(api, viewer, v));
  PV_ASSIGN_OR_RETURN(BranchVariant updated, api.store.UpdateVariant(viewer, v));
  return JsonResponse(200, service::VariantToJson(updated));
}

Result<Response> DeleteVariant(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(api.store.DeleteVariant(Viewer::For(*req.user), id));
  return NoContent();
}

// --- Clips ---------------------------------------------------------------------------------

const std::set<std::string> kClipFields = {"start_time", "end_time",           "clip_tag",
                                           "clip_name",  "extracted_asset_id", "playback_metadata"};

Status ApplyClip(const boost::json::object& o, Clip& c) {
  PV_RETURN_IF_ERROR(MergeRequired(o, "start_time", c.start_time, OptNumber));
  PV_RETURN_IF_ERROR(MergeRequired(o, "end_time", c.end_time, OptNumber));
  PV_RETURN_IF_ERROR(MergeRequired(o, "clip_tag", c.clip_tag, OptString));
  PV_RETURN_IF_ERROR(Merge(o, "clip_name", c.clip_name, OptString));
  PV_RETURN_IF_ERROR(Merge(o, "extracted_asset_id", c.extracted_asset_id, OptInt));
  if (o.contains("playback_metadata")) {
    PV_ASSIGN_OR_RETURN(auto meta, OptJson(o, "playback_metadata", "object"));
    c.playback_metadata = meta.value_or("{}");
  }
  return Ok();
}

Result<Response> CreateClip(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(AssetId source, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, kClipFields));
  for (std::string_view f : {"start_time", "end_time", "clip_tag"}) {
    if (!o.contains(f) || IsNull(o, f)) return Missing(f);
  }
  Clip c;
  c.source_asset_id = source;
  PV_RETURN_IF_ERROR(ApplyClip(o, c));
  PV_ASSIGN_OR_RETURN(Clip created, api.store.CreateClip(Viewer::For(*req.user), c));
  return JsonResponse(201, service::ClipToJson(created));
}

Result<Response> ListClips(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(AssetId source, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto clips, api.store.ListClips(Viewer::For(*req.user), source));
  boost::json::array items;
  for (const Clip& c : clips) items.push_back(service::ClipToJson(c));
  return JsonResponse(200, boost::json::object{{"asset_id", source}, {"items", std::move(items)}});
}

Result<Response> GetClip(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Clip c, api.store.GetClip(Viewer::For(*req.user), id));
  return JsonResponse(200, service::ClipToJson(c));
}

Result<Response> PatchClip(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, kClipFields));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(Clip c, api.store.GetClip(viewer, id));
  PV_RETURN_IF_ERROR(ApplyClip(o, c));
  PV_ASSIGN_OR_RETURN(Clip updated, api.store.UpdateClip(viewer, c));
  return JsonResponse(200, service::ClipToJson(updated));
}

Result<Response> DeleteClip(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(api.store.DeleteClip(Viewer::For(*req.user), id));
  return NoContent();
}

// --- State variables -------------------------------------------------------------------------

std::string_view PathName(const Request& req) {
  for (const auto& [k, v] : req.path_params) {
    if (k == "name") return v;
  }
  return {};
}

Result<Response> ListStateVariables(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(auto vars,
                      api.store.ListStateVariables(Viewer::For(*req.user), req.user->id));
  boost::json::array items;
  for (const StateVariable& v : vars) items.push_back(service::StateVariableToJson(v));
  return JsonResponse(200, boost::json::object{{"items", std::move(items)}});
}

Result<Response> PutStateVariable(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(auto o, ParseObject(req.body, {"type", "initial"}));
  StateVariable v;
  v.name = std::string(PathName(req));
  PV_ASSIGN_OR_RETURN(auto type, OptString(o, "type"));
  if (!type) return Missing("type");
  v.type = *type;
  if (o.contains("initial") && !IsNull(o, "initial")) {
    PV_ASSIGN_OR_RETURN(v.initial_value, OptJson(o, "initial", "any"));
  }
  PV_ASSIGN_OR_RETURN(StateVariable saved, api.store.PutStateVariable(Viewer::For(*req.user), v));
  return JsonResponse(200, service::StateVariableToJson(saved));
}

Result<Response> DeleteStateVariable(ApiContext& api, Request& req) {
  PV_RETURN_IF_ERROR(api.store.DeleteStateVariable(Viewer::For(*req.user), req.user->id,
                                                   std::string(PathName(req))));
  return NoContent();
}

// --- Bundles ----------------------------------------------------------------------------

Result<Response> ExportBundle(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(service::ExportedBundle bundle,
                      service::ExportBundle(api.store, Viewer::For(*req.user), id,
                                            service::BundleOptions{}, api.clock.Now()));
  return Response::Json(200, std::move(bundle.json));
}

ResponseDoc ProblemDoc(int status, std::string description) {
  return {status, std::move(description), "Problem", "application/problem+json"};
}

// One route with its documentation: `body_schema` names the request body's schema (empty
// for none); responses are the success plus the usual problems.
void Add(Router& router, ApiContext& api, std::string method, std::string pattern, std::string name,
         std::string summary, std::vector<ParamDoc> params, std::string body_schema, ResponseDoc ok,
         Result<Response> (*handler)(ApiContext&, Request&)) {
  RouteDoc doc{std::move(summary), "branches",           std::move(params), {},
               body_schema,        !body_schema.empty(), {std::move(ok)}};
  if (!body_schema.empty()) {
    doc.request_content = {"application/json"};
    doc.responses.push_back(ProblemDoc(400, "Malformed body or a field out of its domain"));
  }
  doc.responses.push_back(ProblemDoc(404, "Not found, or not the caller's"));
  if (method == "POST" || method == "PATCH") {
    doc.responses.push_back(ProblemDoc(409, "A clip_tag already used on this source"));
  }
  // Creating or moving a branch point reads the source's keyframes from disk.
  const bool blocking = name == "createBranch" || name == "updateBranch";
  router.Add(Route{std::move(method), std::move(pattern), std::move(name), true,
                   body_schema.empty() ? 0 : api.options.json_body_limit,
                   [&api, handler](Request& r) { return handler(api, r); }, nullptr, std::move(doc),
                   blocking});
}

}  // namespace

void RegisterBranchRoutes(Router& router, ApiContext& api) {
  ParamDoc asset{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  ParamDoc branch{"id", "path", "integer", true, false, "Branch point id", {}, 1, std::nullopt};
  ParamDoc variant{"id", "path", "integer", true, false, "Variant id", {}, 1, std::nullopt};
  ParamDoc clip{"id", "path", "integer", true, false, "Clip id", {}, 1, std::nullopt};
  ParamDoc name{"name", "path", "string", true, false, "Variable name", {}, {}, {}};
  const ResponseDoc deleted{204, "Deleted", ""};
  Add(router, api, "POST", "/api/v1/assets/{id}/branches", "createBranch",
      "Add a branch point to a video: where playback leaves it for a chosen variant", {asset},
      "BranchInput", {201, "The branch point", "Branch"}, CreateBranch);
  Add(router, api, "GET", "/api/v1/assets/{id}/branches", "listBranches",
      "The asset's branch points in time order, each with its variants", {asset}, "",
      {200, "Branch points", "BranchList"}, ListBranches);
  Add(router, api, "GET", "/api/v1/branches/{id}", "getBranch", "A branch point with its variants",
      {branch}, "", {200, "The branch point", "Branch"}, GetBranch);
  Add(router, api, "PATCH", "/api/v1/branches/{id}", "updateBranch",
      "Change fields of a branch point (null clears an optional one)", {branch}, "BranchInput",
      {200, "The branch point", "Branch"}, PatchBranch);
  Add(router, api, "DELETE", "/api/v1/branches/{id}", "deleteBranch",
      "Delete a branch point and its variants", {branch}, "", deleted, DeleteBranch);
  Add(router, api, "POST", "/api/v1/branches/{id}/variants", "createVariant",
      "Add a variant (an asset of the caller) with its weight, condition and effects", {branch},
      "VariantInput", {201, "The variant", "Variant"}, CreateVariant);
  Add(router, api, "GET", "/api/v1/branches/{id}/variants", "listVariants",
      "The branch point's variants", {branch}, "", {200, "Variants", "VariantList"}, ListVariants);
  Add(router, api, "GET", "/api/v1/variants/{id}", "getVariant", "A variant", {variant}, "",
      {200, "The variant", "Variant"}, GetVariant);
  Add(router, api, "PATCH", "/api/v1/variants/{id}", "updateVariant",
      "Change fields of a variant (conditions and effects are checked again)", {variant},
      "VariantInput", {200, "The variant", "Variant"}, PatchVariant);
  Add(router, api, "DELETE", "/api/v1/variants/{id}", "deleteVariant", "Delete a variant",
      {variant}, "", deleted, DeleteVariant);
  Add(router, api, "POST", "/api/v1/assets/{id}/clips", "createClip",
      "Name a range of a video or audio asset (clip_tag unique per source)", {asset}, "ClipInput",
      {201, "The clip", "Clip"}, CreateClip);
  Add(router, api, "GET", "/api/v1/assets/{id}/clips", "listClips",
      "The asset's clips in time order", {asset}, "", {200, "Clips", "ClipList"}, ListClips);
  Add(router, api, "GET", "/api/v1/clips/{id}", "getClip", "A clip", {clip}, "",
      {200, "The clip", "Clip"}, GetClip);
  Add(router, api, "PATCH", "/api/v1/clips/{id}", "updateClip", "Change fields of a clip", {clip},
      "ClipInput", {200, "The clip", "Clip"}, PatchClip);
  Add(router, api, "DELETE", "/api/v1/clips/{id}", "deleteClip", "Delete a clip", {clip}, "",
      deleted, DeleteClip);
  Add(router, api, "GET", "/api/v1/assets/{id}/bundle", "exportBundle",
      "The game bundle rooted at the asset (docs/bundle-format.md): nodes reachable through "
      "variants, branch points, clips, state variables, prefetch lists, and the validation a "
      "game runtime would report",
      {asset}, "", {200, "The bundle", "Bundle"}, ExportBundle);
  Add(router, api, "GET", "/api/v1/state-variables", "listStateVariables",
      "The caller's game state variables (what variant conditions and effects may name)", {}, "",
      {200, "Variables", "StateVariableList"}, ListStateVariables);
  Add(router, api, "PUT", "/api/v1/state-variables/{name}", "putStateVariable",
      "Declare or redeclare a state variable: {\"type\": bool|int|string, \"initial\": v}", {name},
      "StateVariableInput", {200, "The variable", "StateVariable"}, PutStateVariable);
  Add(router, api, "DELETE", "/api/v1/state-variables/{name}", "deleteStateVariable",
      "Delete a state variable", {name}, "", deleted, DeleteStateVariable);
}

}  // namespace pixvault::http

namespace pixvault::http {

const char* const kBranchSchemas = R"json({
  "BranchInput": {"type": "object", "additionalProperties": false, "properties": {
    "branch_time": {"type": "number", "minimum": 0,
      "description": "Seconds into the source where playback leaves it (required on create); at most its duration"},
    "branch_frame": {"type": ["integer", "null"], "minimum": 0,
      "description": "Below the source's frame count; snapped to the nearest keyframe (default: the keyframe nearest branch_time)"},
    "branch_name": {"type": "string", "description": "Required on create"},
    "branch_description": {"type": ["string", "null"]},
    "branch_tag": {"type": ["string", "null"]},
    "branch_type": {"enum": ["manual", "automatic", "conditional", "random"], "default": "manual"},
    "show_at": {"type": ["number", "null"], "minimum": 0,
      "description": "When the choice is offered (default 0); <= hide_at <= branch_time"},
    "hide_at": {"type": ["number", "null"], "minimum": 0,
      "description": "When the choice closes and the timeout rule applies (default branch_time)"},
    "default_variant_id": {"type": ["integer", "null"],
      "description": "A variant of this branch point, taken on timeout"},
    "game_metadata": {"type": "object"}}},
  "Branch": {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "integer"},
    "source_asset_id": {"type": "integer"}, "branch_time": {"type": "number"},
    "branch_frame": {"type": ["integer", "null"],
      "description": "Frame number of the source's keyframe nearest the requested frame or time"},
    "keyframe_time": {"type": ["number", "null"],
      "description": "Time of that keyframe; null when the source has no local video to read"},
    "branch_name": {"type": "string"},
    "branch_description": {"type": ["string", "null"]}, "branch_tag": {"type": ["string", "null"]},
    "branch_type": {"type": "string"}, "show_at": {"type": ["number", "null"]},
    "hide_at": {"type": ["number", "null"]}, "default_variant_id": {"type": ["integer", "null"]},
    "game_metadata": {"type": "object"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "variants": {"type": "array", "items": {"$ref": "#/components/schemas/Variant"}}}},
  "BranchList": {"type": "object", "properties": {"asset_id": {"type": "integer"},
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Branch"}}}},
  "VariantInput": {"type": "object", "additionalProperties": false, "properties": {
    "variant_asset_id": {"type": "integer", "minimum": 1,
      "description": "The asset played when this variant is taken; the branch owner's (required on create)"},
    "variant_name": {"type": "string", "description": "Required on create"},
    "variant_tag": {"type": ["string", "null"]},
    "weight": {"type": "number", "minimum": 0, "default": 1,
      "description": "Relative chance in random picks (0 = never picked at random)"},
    "conditions": {"description": "null or a condition over the state variables (docs/bundle-format.md)"},
    "effects": {"description": "null or a list of {set|add|unset} effects (docs/bundle-format.md)"}}},
  "Variant": {"type": "object", "properties": {
    "id": {"type": "integer"}, "branch_id": {"type": "integer"},
    "variant_asset_id": {"type": "integer"}, "variant_name": {"type": "string"},
    "variant_tag": {"type": ["string", "null"]}, "weight": {"type": "number"},
    "conditions": {}, "effects": {},
    "created_at": {"type": "string", "format": "date-time"}}},
  "VariantList": {"type": "object", "properties": {"branch_id": {"type": "integer"},
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Variant"}}}},
  "ClipInput": {"type": "object", "additionalProperties": false, "properties": {
    "start_time": {"type": "number", "minimum": 0}, "end_time": {"type": "number",
      "description": "After start_time, within the source's duration"},
    "clip_tag": {"type": "string", "description": "Unique per source (required on create)"},
    "clip_name": {"type": ["string", "null"]},
    "extracted_asset_id": {"type": ["integer", "null"]},
    "playback_metadata": {"type": "object"}}},
  "Clip": {"type": "object", "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "integer"},
    "source_asset_id": {"type": "integer"}, "start_time": {"type": "number"},
    "end_time": {"type": "number"}, "clip_tag": {"type": "string"},
    "clip_name": {"type": ["string", "null"]}, "extracted_asset_id": {"type": ["integer", "null"]},
    "playback_metadata": {"type": "object"},
    "created_at": {"type": "string", "format": "date-time"}}},
  "ClipList": {"type": "object", "properties": {"asset_id": {"type": "integer"},
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Clip"}}}},
  "StateVariableInput": {"type": "object", "additionalProperties": false, "required": ["type"],
    "properties": {"type": {"enum": ["bool", "int", "string"]},
      "initial": {"description": "A literal of the type; absent or null: the variable starts unset"}}},
  "StateVariable": {"type": "object", "properties": {
    "name": {"type": "string"}, "type": {"type": "string"}, "initial": {},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}}},
  "Bundle": {"type": "object",
    "description": "A game bundle, format pixvault.bundle version 1 (docs/bundle-format.md)",
    "required": ["format", "version", "root", "nodes", "branch_points", "validation"],
    "properties": {
      "format": {"const": "pixvault.bundle"}, "version": {"const": 1},
      "root": {"type": "integer"}, "generated_at": {"type": "string", "format": "date-time"},
      "state": {"type": "array", "items": {"type": "object"}},
      "nodes": {"type": "array", "items": {"type": "object"}},
      "branch_points": {"type": "array", "items": {"type": "object"}},
      "clips": {"type": "array", "items": {"type": "object"}},
      "validation": {"type": "object", "properties": {"ok": {"type": "boolean"},
        "issues": {"type": "array", "items": {"type": "object", "properties": {
          "kind": {"type": "string"}, "message": {"type": "string"}, "ids": {"type": "object"},
          "fields": {"type": "array", "items": {"type": "string"}}}}}}}}},
  "StateVariableList": {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/StateVariable"}}}}
})json";

}  // namespace pixvault::http
