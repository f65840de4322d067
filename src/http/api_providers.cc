// Routes of cross-provider resolution: the configured providers, resolving an asset for a
// provider account (uploading it there at most once), forcing a re-upload, and the record of
// attempts. See service/resolver.h.
#include <boost/json.hpp>

#include "http/api.h"
#include "http/api_util.h"
#include "providers/provider.h"
#include "service/generation.h"
#include "service/resolver.h"

namespace pixvault::http {
namespace {

namespace json = boost::json;

Result<service::Resolver*> RequireResolver(ApiContext& api) {
  if (api.resolver == nullptr || api.providers == nullptr) {
    return Fail(ErrorCode::kUnavailable, "providers are not enabled on this server");
  }
  return api.resolver;
}

json::value Time(const std::optional<Timestamp>& t) {
  return t ? json::value(FormatTimestamp(*t)) : json::value(nullptr);
}

json::object ResolutionToJson(const service::Resolution& r) {
  const ProviderUpload& u = r.upload;
  return json::object{
      {"asset_id", u.asset_id},
      {"provider_id", u.provider_id},
      {"account_id", u.account_id},
      {"provider_ref", u.provider_ref ? json::value(*u.provider_ref) : json::value(nullptr)},
      {"provider_url", u.provider_url ? json::value(*u.provider_url) : json::value(nullptr)},
      {"status", ToString(u.status)},
      {"uploaded_at", Time(u.uploaded_at)},
      {"expires_at", Time(u.expires_at)},
      {"attempts", u.attempts},
      {"uploaded_now", r.uploaded_now},
      {"downscaled", r.downscaled},
  };
}

json::object CapabilitiesToJson(const providers::Provider& p) {
  const providers::Capabilities& c = p.capabilities();
  json::array types;
  for (MediaType t : c.media_types) types.emplace_back(ToString(t));
  json::array operations;
  for (const std::string& op : c.operations) operations.emplace_back(op);
  auto limit = [](auto v) { return v > 0 ? json::value(v) : json::value(nullptr); };
  return json::object{
      {"id", p.id()},
      {"uploads", c.uploads},
      {"media_types", std::move(types)},
      {"max_bytes", limit(c.max_bytes)},
      {"max_pixels", limit(c.max_pixels)},
      {"max_duration_s", limit(c.max_duration_s)},
      {"ref_ttl_s", limit(c.ref_ttl / kMicrosPerSecond)},
      {"operations", std::move(operations)},
  };
}

Result<Response> ListProviders(ApiContext& api, Request&) {
  PV_RETURN_IF_ERROR(RequireResolver(api));
  json::array items;
  for (const std::string& id : api.providers->Ids()) {
    items.push_back(CapabilitiesToJson(*api.providers->Find(id)));
  }
  return JsonResponse(200, json::object{{"items", std::move(items)}});
}

Result<service::ResolveRequest> ResolveRequestOf(Request& req) {
  service::ResolveRequest r;
  PV_ASSIGN_OR_RETURN(r.asset_id, PathId(req, "id"));
  r.provider_id = std::string(req.PathParam("provider"));
  PV_ASSIGN_OR_RETURN(r.account_id, QueryInt(req, "account", 1, INT64_MAX));
  PV_ASSIGN_OR_RETURN(auto verify, QueryBool(req, "verify"));
  r.verify = verify.value_or(false);
  return r;
}

Result<Response> Resolve(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(service::Resolver * resolver, RequireResolver(api));
  PV_ASSIGN_OR_RETURN(const service::ResolveRequest r, ResolveRequestOf(req));
  PV_ASSIGN_OR_RETURN(service::Resolution resolution, resolver->Resolve(Viewer::For(*req.user), r));
  return JsonResponse(200, ResolutionToJson(resolution));
}

// On the I/O thread: a cached ref (or a request error, or the account's open breaker) is
// answered at once; anything else goes to Resolve on the remote pool, with what was read here.
std::optional<Result<Response>> ResolveAtOnce(ApiContext& api, Request& req) {
  Result<service::Resolver*> resolver = RequireResolver(api);
  if (!resolver) return Fail(resolver.error());
  Result<service::ResolveRequest> r = ResolveRequestOf(req);
  if (!r) return Fail(r.error());
  const Viewer viewer = Viewer::For(*req.user);
  auto started = (*resolver)->TryCached(viewer, *r);
  if (auto* read = std::get_if<service::Resolver::Subject>(&started)) {
    req.then = [resolver = *resolver, viewer, request = *r,
                subject = std::move(*read)]() mutable -> Result<Response> {
      PV_ASSIGN_OR_RETURN(service::Resolution resolution,
                          resolver->Resolve(viewer, request, std::move(subject)));
      return JsonResponse(200, ResolutionToJson(resolution));
    };
    return std::nullopt;
  }
  auto& cached = std::get<Result<service::Resolution>>(started);
  if (!cached) return Fail(cached.error());
  return JsonResponse(200, ResolutionToJson(*cached));
}

Result<Response> Reupload(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(service::Resolver * resolver, RequireResolver(api));
  service::ResolveRequest r;
  PV_ASSIGN_OR_RETURN(r.asset_id, PathId(req, "id"));
  PV_ASSIGN_OR_RETURN(json::object body, ParseObject(req.body, {"provider_id", "account_id"}));
  PV_ASSIGN_OR_RETURN(auto provider, OptString(body, "provider_id"));
  if (!provider) return Fail(ErrorCode::kInvalidArgument, "field 'provider_id' is required");
  r.provider_id = std::move(*provider);
  PV_ASSIGN_OR_RETURN(r.account_id, OptInt(body, "account_id"));
  r.force = true;
  PV_ASSIGN_OR_RETURN(service::Resolution resolution, resolver->Resolve(Viewer::For(*req.user), r));
  return JsonResponse(200, ResolutionToJson(resolution));
}

Result<Response> ListAttempts(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(service::Resolver * resolver, RequireResolver(api));
  PV_ASSIGN_OR_RETURN(const AssetId asset_id, PathId(req, "id"));
  const std::string provider(req.PathParam("provider"));
  PV_ASSIGN_OR_RETURN(auto account_id, QueryInt(req, "account", 1, INT64_MAX));
  PV_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
  const Viewer viewer = Viewer::For(*req.user);
  PV_RETURN_IF_ERROR(api.store.GetAsset(viewer, asset_id));
  PV_ASSIGN_OR_RETURN(ProviderAccount account, resolver->FindAccount(viewer, provider, account_id));
  PV_ASSIGN_OR_RETURN(
      std::vector<ProviderAttempt> attempts,
      api.store.ListProviderAttempts(asset_id, provider, account.id, limit.value_or(100)));
  json::array items;
  for (const ProviderAttempt& a : attempts) {
    items.push_back(json::object{
        {"operation", a.operation},
        {"succeeded", a.succeeded},
        {"error_code", a.error_code ? json::value(*a.error_code) : json::value(nullptr)},
        {"error", a.error ? json::value(*a.error) : json::value(nullptr)},
        {"bytes", a.bytes},
        {"worker", a.worker},
        {"started_at", FormatTimestamp(a.started_at)},
        {"finished_at", FormatTimestamp(a.finished_at)},
    });
  }
  return JsonResponse(200, json::object{{"items", std::move(items)}});
}

Result<Response> CreateGenerationJob(ApiContext& api, Request& req) {
  PV_ASSIGN_OR_RETURN(service::Resolver * resolver, RequireResolver(api));
  PV_ASSIGN_OR_RETURN(json::object body,
                      ParseObject(req.body, {"provider_id", "account_id", "operation_type",
                                             "params", "idempotency_key", "timeout_s"}));
  service::GenerationRequest g;
  PV_ASSIGN_OR_RETURN(auto provider, OptString(body, "provider_id"));
  PV_ASSIGN_OR_RETURN(auto operation, OptString(body, "operation_type"));
  if (!provider || !operation) {
    return Fail(ErrorCode::kInvalidArgument,
                "fields 'provider_id' and 'operation_type' are required");
  }
  g.provider_id = std::move(*provider);
  g.operation_type = std::move(*operation);
  PV_ASSIGN_OR_RETURN(g.account_id, OptInt(body, "account_id"));
  PV_ASSIGN_OR_RETURN(g.idempotency_key, OptString(body, "idempotency_key"));
  if (g.idempotency_key && (g.idempotency_key->empty() || g.idempotency_key->size() > 200)) {
    return Fail(ErrorCode::kInvalidArgument, "idempotency_key must have 1..200 characters");
  }
  // Keys are per user: two users' identical keys are two jobs.
  if (g.idempotency_key) {
    g.idempotency_key = "generate:" + std::to_string(req.user->id) + ":" + *g.idempotency_key;
  }
  PV_ASSIGN_OR_RETURN(g.timeout_s, OptInt(body, "timeout_s"));
  if (const json::value* p = body.if_contains("params")) {
    if (!p->is_object()) {
      return Fail(ErrorCode::kInvalidArgument, "field 'params' must be an object");
    }
    g.params = p->as_object();
  }
  PV_ASSIGN_OR_RETURN(
      storage::Store::Enqueued queued,
      service::EnqueueGeneration(api.store, *resolver, *api.providers, *req.user, std::move(g)));
  if (!queued.existed && api.on_job_enqueued) api.on_job_enqueued();
  Response r = JsonResponse(queued.existed ? 200 : 202, JobJson(queued.job));
  r.headers.Set("Location", "/api/v1/jobs/" + std::to_string(queued.job.id));
  return r;
}

}  // namespace

const char* const kProviderSchemas = R"json({
  "Provider": {"type": "object", "properties": {
    "id": {"type": "string"}, "uploads": {"type": "boolean"},
    "media_types": {"type": "array", "items": {"type": "string"}},
    "max_bytes": {"type": ["integer", "null"]}, "max_pixels": {"type": ["integer", "null"]},
    "max_duration_s": {"type": ["number", "null"]}, "ref_ttl_s": {"type": ["integer", "null"]},
    "operations": {"type": "array", "items": {"type": "string"}}}},
  "ProviderList": {"type": "object", "properties": {
    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Provider"}}}},
  "Resolution": {"type": "object", "properties": {
    "asset_id": {"type": "integer"}, "provider_id": {"type": "string"},
    "account_id": {"type": "integer"}, "provider_ref": {"type": ["string", "null"]},
    "provider_url": {"type": ["string", "null"]},
    "status": {"type": "string", "enum": ["uploaded"]},
    "uploaded_at": {"type": ["string", "null"], "format": "date-time"},
    "expires_at": {"type": ["string", "null"], "format": "date-time"},
    "attempts": {"type": "integer", "description": "Upload attempts made for this row"},
    "uploaded_now": {"type": "boolean",
      "description": "This request (or the one it waited for) made the upload"},
    "downscaled": {"type": "boolean"}}},
  "NewGenerationJob": {"type": "object", "additionalProperties": false,
    "required": ["provider_id", "operation_type"], "properties": {
    "provider_id": {"type": "string"}, "account_id": {"type": "integer"},
    "operation_type": {"type": "string", "examples": ["text_to_video", "image_to_video"]},
    "params": {"type": "object", "description":
      "Passed to the provider; members ending in _asset_id / _asset_ids name input assets, which are uploaded to the provider first (at most once) and given to it as _ref / _refs"},
    "idempotency_key": {"type": "string", "maxLength": 200},
    "timeout_s": {"type": "integer", "minimum": 10, "maximum": 86400,
      "description": "How long one attempt waits for the provider (default 1800)"}}},
  "Reupload": {"type": "object", "additionalProperties": false, "required": ["provider_id"],
    "properties": {"provider_id": {"type": "string"}, "account_id": {"type": "integer"}}},
  "ProviderAttemptList": {"type": "object", "properties": {"items": {"type": "array",
    "items": {"type": "object", "properties": {
      "operation": {"type": "string", "enum": ["download", "upload", "check"]},
      "succeeded": {"type": "boolean"}, "error_code": {"type": ["string", "null"]},
      "error": {"type": ["string", "null"]}, "bytes": {"type": "integer"},
      "worker": {"type": "string"},
      "started_at": {"type": "string", "format": "date-time"},
      "finished_at": {"type": "string", "format": "date-time"}}}}}}
})json";

void RegisterProviderRoutes(Router& router, ApiContext& api) {
  ParamDoc id{"id", "path", "integer", true, false, "Asset id", {}, 1, std::nullopt};
  ParamDoc provider{"provider",    "path", "string",     true,        false,
                    "Provider id", {},     std::nullopt, std::nullopt};
  ParamDoc account{
      "account",   "query",
      "integer",   false,
      false,       "The caller's provider account; default: their only account of the provider",
      {},          1,
      std::nullopt};
  const ResponseDoc problem400{400, "No or several accounts, or the provider cannot take it",
                               "Problem", "application/problem+json"};
  const ResponseDoc problem403{403, "The provider refused the content or the credentials",
                               "Problem", "application/problem+json"};
  const ResponseDoc problem404{404, "Unknown asset, provider or account (or another user's)",
                               "Problem", "application/problem+json"};
  const ResponseDoc problem503{503, "The provider keeps failing, or another worker is uploading",
                               "Problem", "application/problem+json"};
  router.Add(Route{"GET", "/api/v1/providers", "listProviders", true, 0,
                   [&api](Request& r) { return ListProviders(api, r); }, nullptr,
                   RouteDoc{"The providers this server is configured with, and their limits",
                            "providers",
                            {},
                            {},
                            "",
                            false,
                            {{200, "The providers", "ProviderList"}}}});
  Route resolve{
      "GET",
      "/api/v1/assets/{id}/providers/{provider}",
      "resolveAsset",
      true,
      0,
      [&api](Request& r) { return Resolve(api, r); },
      nullptr,
      RouteDoc{"The asset's ref on a provider account, uploading it there first if needed "
               "(at most once, whoever asks concurrently)",
               "providers",
               {id, provider, account,
                ParamDoc{"verify",
                         "query",
                         "boolean",
                         false,
                         false,
                         "Ask the provider whether a cached ref is still known (re-upload if not)",
                         {},
                         std::nullopt,
                         std::nullopt}},
               {},
               "",
               false,
               {{200, "The ref", "Resolution"}, problem400, problem403, problem404, problem503}}};
  resolve.blocking = true;
  resolve.remote = true;
  resolve.at_once = [&api](Request& r) { return ResolveAtOnce(api, r); };
  router.Add(std::move(resolve));
  Route reupload{
      "POST",
      "/api/v1/assets/{id}/reupload",
      "reuploadAsset",
      true,
      api.options.json_body_limit,
      [&api](Request& r) { return Reupload(api, r); },
      nullptr,
      RouteDoc{
          "Upload the asset to a provider account again, whatever is recorded "
          "(a lost ref, a refusal to try again)",
          "providers",
          {id},
          {"application/json"},
          "Reupload",
          true,
          {{200, "The new ref", "Resolution"}, problem400, problem403, problem404, problem503}}};
  reupload.blocking = true;
  reupload.remote = true;
  router.Add(std::move(reupload));
  router.Add(
      Route{"POST", "/api/v1/jobs", "createGenerationJob", true, api.options.json_body_limit,
            [&api](Request& r) { return CreateGenerationJob(api, r); }, nullptr,
            RouteDoc{"Generate media on a provider as a durable job: inputs are uploaded there at "
                     "most once, outputs become the caller's assets with lineage from the inputs",
                     "jobs",
                     {},
                     {"application/json"},
                     "NewGenerationJob",
                     true,
                     {{202, "The queued job (Location: /api/v1/jobs/{id})", "Job"},
                      {200, "The job already queued under this idempotency_key", "Job"},
                      problem400,
                      problem404}}});
  router.Add(Route{
      "GET", "/api/v1/assets/{id}/providers/{provider}/attempts", "listResolutionAttempts", true, 0,
      [&api](Request& r) { return ListAttempts(api, r); }, nullptr,
      RouteDoc{
          "Every download, upload and check made to resolve the asset for the account, "
          "newest first",
          "providers",
          {id, provider, account,
           ParamDoc{
               "limit", "query", "integer", false, false, "At most this many (100)", {}, 1, 1000}},
          {},
          "",
          false,
          {{200, "The attempts", "ProviderAttemptList"}, problem400, problem404}}});
}

}  // namespace pixvault::http
