// Routes of media analysis (issue 6): request an analysis, read its per-step records, the
// thumbnail and preview renditions, near duplicates by perceptual hash; and the job routes
// (GET/DELETE /api/v1/jobs/{id}) that an analysis request answers with.
#include <boost/json.hpp>

#include <charconv>
#include <functional>

#include "http/api.h"
#include "http/api_util.h"
#include "service/analysis.h"
#include "service/asset_json.h"
#include "service/json_fields.h"

namespace pixvault::http {

boost::json::object JobJson(const Job& j) {
  namespace json = boost::json;
  auto time = [](std::optional<Timestamp> t) -> json::value {
    if (!t) return nullptr;
    return json::value(FormatTimestamp(*t));
  };
  json::object o{{"id", j.id},
                 {"kind", j.kind},
                 {"status", ToString(j.status)},
                 {"attempts", j.attempts},
                 {"max_attempts", j.max_attempts},
                 {"payload", service::Embedded(j.payload, nullptr)},
                 {"result", service::Embedded(j.result, nullptr)},
                 {"last_error", service::OrNull(j.last_error)},
                 {"run_after", time(j.run_after)},
                 {"created_at", time(j.created_at)},
                 {"updated_at", time(j.updated_at)}};
  return o;
}

namespace {

namespace json = boost::json;

Result<service::Analyzer*> RequireAnalyzer(ApiContext& api) {
  if (api.analyzer == nullptr) {
    return Fail(ErrorCode::kUnavailable, "media analysis is not enabled on this server");
  }
  return api.analyzer;
}

// A job is the business of the user it was created for (and of admins): anyone else gets
// the same 404 as for an id that does not exist.
Result<Job> VisibleJob(ApiContext& api, const Request& req, std::int64_t id) {
  auto job = api.store.GetJob(id);
  if (!job) return Fail(job.error());
  if (!req.user->is_admin && job->user_id != req.user->id) {
    return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
  }
  return std::move(*job);
}

Result<Response> RequestAnalysis(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Asset a, api.store.GetAsset(Viewer::For(*req.user), id));
  service::AnalyzeRequest request;
  request.asset_id = a.id;
  request.requested_by = req.user->id;
  if (!req.body.empty()) {
    PV_ASSIGN_OR_RETURN(json::object body, ParseObject(req.body, {"steps", "force"}));
    PV_ASSIGN_OR_RETURN(auto steps, OptStrings(body, "steps"));
    PV_ASSIGN_OR_RETURN(auto force, OptBool(body, "force"));
    if (steps) request.steps = std::move(*steps);
    request.force = force.value_or(false);
  }
  PV_ASSIGN_OR_RETURN(Job job, service::EnqueueAnalysis(api.store, request));
  if (api.on_job_enqueued) api.on_job_enqueued();
  Response r = JsonResponse(202, JobJson(job));
  r.headers.Set("Location", "/api/v1/jobs/" + std::to_string(job.id));
  return r;
}

Result<Response> GetAnalysis(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(Asset a, api.store.GetAsset(viewer, id));
  PV_ASSIGN_OR_RETURN(std::vector<AnalysisRecord> records, api.store.ListAnalysis(viewer, id));
  json::array steps;
  for (const AnalysisRecord& r : records) {
    const std::int64_t current = service::Analyzer::StepVersion(r.step);
    steps.push_back(json::object{{"step", r.step},
                                 {"status", ToString(r.status)},
                                 {"version", r.version},
                                 {"current_version", current},
                                 {"stale", current > r.version},
                                 {"error", service::OrNull(r.error)},
                                 {"result", service::Embedded(r.result, nullptr)},
                                 {"updated_at", FormatTimestamp(r.updated_at)}});
  }
  return JsonResponse(
      200, json::object{{"asset_id", a.id},
                        {"analysis_errors", service::Embedded(a.analysis_errors, nullptr)},
                        {"steps", std::move(steps)}});
}

// A WebP picture with its ETag and cache headers: 304 when the client's If-None-Match names
// the tag (nothing rendered), else the bytes `render` returns.
Result<Response> ServeWebp(const Request& req, const std::string& etag,
                           const std::function<Result<std::string>()>& render) {
  Response r;
  r.headers.Set("ETag", etag);
  r.headers.Set("Cache-Control", "private, max-age=86400");
  if (auto inm = req.headers.Get("If-None-Match"); inm && EtagMatches(*inm, etag)) {
    r.status = 304;
    return r;
  }
  PV_ASSIGN_OR_RETURN(r.body, render());
  r.headers.Set("Content-Type", "image/webp");
  return r;
}

Result<Response> GetRendition(ApiContext& api, Request& req, service::Rendition which) {
  PV_ASSIGN_OR_RETURN(service::Analyzer * analyzer, RequireAnalyzer(api));
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Asset a, api.store.GetAsset(Viewer::For(*req.user), id));
  if (!a.sha256) {
    return Fail(ErrorCode::kNotFound,
                "asset " + std::to_string(id) + " has no local bytes to render");
  }
  // Renditions follow the bytes and the configured size; both are in the tag.
  return ServeWebp(req, "\"" + *a.sha256 + "-" + analyzer->RenditionName(which) + "\"",
                   [&] { return analyzer->RenditionBytes(a, which); });
}

Result<Response> GetShotThumbnail(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(service::Analyzer * analyzer, RequireAnalyzer(api));
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Asset a, api.store.GetAsset(Viewer::For(*req.user), id));
  const std::string_view frame_text = req.PathParam("frame");
  std::int64_t frame = -1;
  const auto [end, ec] =
      std::from_chars(frame_text.data(), frame_text.data() + frame_text.size(), frame);
  if (ec != std::errc() || end != frame_text.data() + frame_text.size() || frame < 0 || !a.sha256) {
    return Fail(ErrorCode::kNotFound, "asset " + std::to_string(id) +
                                          " has no shot with keyframe '" + std::string(frame_text) +
                                          "'");
  }
  // The picture follows the bytes, the keyframe, the size and the scene analysis's version.
  const std::string etag = "\"" + *a.sha256 + "-shot-" + std::to_string(frame) + "-" +
                           analyzer->RenditionName(service::Rendition::kThumbnail) + "-v" +
                           std::to_string(service::Analyzer::StepVersion("scenes")) + "\"";
  return ServeWebp(req, etag, [&] { return analyzer->ShotThumbnailBytes(a, frame); });
}

Result<Response> NearDuplicates(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(auto max_distance, QueryInt(req, "max_distance", 0, 15));
  PV_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 200));
  const Viewer viewer = Viewer::For(*req.user);
  PV_ASSIGN_OR_RETURN(
      service::NearDuplicateSearch found,
      service::FindNearDuplicates(api.store, viewer, id, static_cast<int>(max_distance.value_or(6)),
                                  limit.value_or(50)));
  std::vector<AssetId> ids;
  for (const auto& d : found.items) ids.push_back(d.asset_id);
  PV_ASSIGN_OR_RETURN(std::vector<Asset> assets, api.store.GetAssets(viewer, ids));
  std::string body = "{\"asset_id\":" + std::to_string(id) +
                     ",\"complete\":" + (found.complete ? "true" : "false") + ",\"items\":[";
  bool first = true;
  for (const auto& d : found.items) {
    auto it = std::find_if(assets.begin(), assets.end(),
                           [&](const Asset& a) { return a.id == d.asset_id; });
    if (it == assets.end()) continue;  // deleted since the lookup
    if (!first) body += ',';
    first = false;
    body += "{\"distance\":" + std::to_string(d.distance) +
            ",\"dhash_distance\":" + std::to_string(d.dhash_distance) + ",\"asset\":";
    service::AppendAssetJson(*it, {}, body);
    body += '}';
  }
  body += "]}";
  return Response::Json(200, std::move(body));
}

Result<Response> GetJobRoute(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(Job job, VisibleJob(api, req, id));
  return JsonResponse(200, JobJson(job));
}

Result<Response> CancelJobRoute(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(std::int64_t id, PathId(req, "id"));
  PV_RETURN_IF_ERROR(VisibleJob(api, req, id).map([](auto&&) {}));
  PV_RETURN_IF_ERROR(api.store.CancelJob(Viewer::For(*req.user), id));
  PV_ASSIGN_OR_RETURN(Job job, api.store.GetJob(id));
  return JsonResponse(200, JobJson(job));
}

}  // namespace

const char* const kAnalysisSchemas = R"json({
  "Job": {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"type": "string"},
    "status": {"enum": ["queued", "running", "succeeded", "failed", "dead", "cancelled"]},
    "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
    "payload": {"type": "object"}, "result": {},
    "last_error": {"type": ["string", "null"]},
    "run_after": {"type": ["string", "null"], "format": "date-time"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"}}},
  "AnalyzeRequest": {"type": "object", "additionalProperties": false, "properties": {
    "steps": {"type": "array", "items": {"enum": ["probe", "thumbnail", "audio", "model", "scenes"]},
      "description": "Steps to run; all that apply to the asset's type when absent"},
    "force": {"type": "boolean", "description": "Run steps that are already up to date"}}},
  "Analysis": {"type": "object", "properties": {
    "asset_id": {"type": "integer"},
    "analysis_errors": {"type": "object", "description": "step -> message of its last failure"},
    "steps": {"type": "array", "items": {"type": "object", "properties": {
      "step": {"type": "string"}, "status": {"enum": ["done", "failed", "skipped"]},
      "version": {"type": "integer"}, "current_version": {"type": "integer"},
      "stale": {"type": "boolean"}, "error": {"type": ["string", "null"]},
      "result": {"type": "object"},
      "updated_at": {"type": "string", "format": "date-time"}}}}}},
  "NearDuplicates": {"type": "object", "properties": {
    "asset_id": {"type": "integer"},
    "complete": {"type": "boolean", "description":
      "false when more assets share an index band with this one than one search compares (20,000): only those of lowest id were"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
      "distance": {"type": "integer", "description": "pHash Hamming distance"},
      "dhash_distance": {"type": "integer"},
      "asset": {"$ref": "#/components/schemas/Asset"}}}}}}
})json";

void RegisterAnalysisRoutes(Router& router, ApiContext& api) {
  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  ParamDoc job_id{"id", "path", "integer", true, false, "Job id", {}, 1, std::nullopt};
  ParamDoc inm{"If-None-Match",
               "header",
               "string",
               false,
               false,
               "ETag from a previous response",
               {},
               {},
               {}};
  const ResponseDoc problem404{404, "Unknown asset, or one the caller may not see", "Problem",
                               "application/problem+json"};
  router.Add(Route{
      "POST", "/api/v1/assets/{id}/analyze", "analyzeAsset", true, api.options.json_body_limit,
      [&api](Request& r) { return RequestAnalysis(api, r); }, nullptr,
      RouteDoc{"Queue an analysis of the asset (probe, thumbnail, audio, model, scenes); the body "
               "is optional",
               "analysis",
               {id},
               {"application/json"},
               "AnalyzeRequest",
               false,
               {{202, "The queued job (Location: /api/v1/jobs/{id})", "Job"},
                {400, "Unknown step or malformed body", "Problem", "application/problem+json"},
                problem404}}});
  router.Add(Route{"GET", "/api/v1/assets/{id}/analysis", "getAssetAnalysis", true, 0,
                   [&api](Request& r) { return GetAnalysis(api, r); }, nullptr,
                   RouteDoc{"The asset's analysis, step by step, with what each measured",
                            "analysis",
                            {id},
                            {},
                            "",
                            false,
                            {{200, "Per-step records", "Analysis"}, problem404}}});
  for (auto [which, path, name, what] :
       {std::tuple{service::Rendition::kThumbnail, "/api/v1/assets/{id}/thumbnail",
                   "getAssetThumbnail", "A small WebP picture of the asset (320 px by default)"},
        std::tuple{service::Rendition::kPreview, "/api/v1/assets/{id}/preview", "getAssetPreview",
                   "A large WebP picture of the asset (1280 px by default)"}}) {
    Route route{
        "GET",
        path,
        name,
        true,
        0,
        [&api, w = which](Request& r) { return GetRendition(api, r, w); },
        nullptr,
        RouteDoc{std::string(what) + "; rendered on request when missing",
                 "analysis",
                 {id, inm},
                 {},
                 "",
                 false,
                 {{200, "The picture", "", "image/webp"},
                  {304, "Not modified", ""},
                  {404, "Unknown asset, no local bytes, or a type without pictures", "Problem",
                   "application/problem+json"},
                  {422, "The media cannot be decoded", "Problem", "application/problem+json"}}}};
    route.blocking = true;  // may decode the media
    router.Add(std::move(route));
  }
  {
    ParamDoc frame{
        "frame", "path", "integer",
        true,    false,  "The shot's keyframe (frame number), as in its segment's thumbnail_url",
        {},      0,      std::nullopt};
    Route route{
        "GET",
        "/api/v1/assets/{id}/shots/{frame}/thumbnail",
        "getShotThumbnail",
        true,
        0,
        [&api](Request& r) { return GetShotThumbnail(api, r); },
        nullptr,
        RouteDoc{"A WebP picture of a shot's keyframe (the thumbnail_url of the \"shot\" "
                 "segments the scenes step stores); rendered again on request when missing",
                 "analysis",
                 {id, frame, inm},
                 {},
                 "",
                 false,
                 {{200, "The picture", "", "image/webp"},
                  {304, "Not modified", ""},
                  {404, "Unknown asset, or no shot with that keyframe", "Problem",
                   "application/problem+json"},
                  {422, "The media cannot be decoded", "Problem", "application/problem+json"}}}};
    route.blocking = true;  // may decode the media
    router.Add(std::move(route));
  }
  ParamDoc max_distance{"max_distance",
                        "query",
                        "integer",
                        false,
                        false,
                        "Largest pHash Hamming distance (default 6)",
                        {},
                        0,
                        15};
  ParamDoc limit{"limit", "query", "integer", false, false, "At most this many (default 50)",
                 {},      1,       200};
  router.Add(Route{
      "GET", "/api/v1/assets/{id}/near-duplicates", "listNearDuplicates", true, 0,
      [&api](Request& r) { return NearDuplicates(api, r); }, nullptr,
      RouteDoc{
          "Assets the caller may see whose picture is perceptually close to "
          "this one's, nearest first",
          "analysis",
          {id, max_distance, limit},
          {},
          "",
          false,
          {{200, "Near duplicates", "NearDuplicates"},
           {400, "max_distance or limit out of range", "Problem", "application/problem+json"},
           {404, "Unknown asset, or not analysed yet", "Problem", "application/problem+json"}}}});
  router.Add(Route{
      "GET", "/api/v1/jobs/{id}", "getJob", true, 0,
      [&api](Request& r) { return GetJobRoute(api, r); }, nullptr,
      RouteDoc{"A job the caller created: status, attempts, result or error",
               "jobs",
               {job_id},
               {},
               "",
               false,
               {{200, "The job", "Job"},
                {404, "Unknown job, or another user's", "Problem", "application/problem+json"}}}});
  router.Add(Route{
      "DELETE", "/api/v1/jobs/{id}", "cancelJob", true, 0,
      [&api](Request& r) { return CancelJobRoute(api, r); }, nullptr,
      RouteDoc{"Cancel a queued or running job",
               "jobs",
               {job_id},
               {},
               "",
               false,
               {{200, "The cancelled job", "Job"},
                {400, "The job already finished", "Problem", "application/problem+json"},
                {404, "Unknown job, or another user's", "Problem", "application/problem+json"}}}});
}

}  // namespace pixvault::http
