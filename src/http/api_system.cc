// Service routes: /healthz, /readyz, /metrics, /api/v1/openapi.json; and RegisterRoutes.
#include <boost/json.hpp>

#include <sstream>

#include "http/api.h"
#include "http/api_util.h"

namespace pixvault::http {

void RegisterAccountRoutes(Router& router, ApiContext& api);
void RegisterAnalysisRoutes(Router& router, ApiContext& api);
void RegisterAssetRoutes(Router& router, ApiContext& api);
void RegisterCacheRoutes(Router& router, ApiContext& api);
void RegisterFetchRoutes(Router& router, ApiContext& api);
void RegisterFileRoutes(Router& router, ApiContext& api);
void RegisterLineageRoutes(Router& router, ApiContext& api);
void RegisterBranchRoutes(Router& router, ApiContext& api);
void RegisterMetadataRoutes(Router& router, ApiContext& api);
void RegisterProviderRoutes(Router& router, ApiContext& api);
void RegisterUploadRoutes(Router& router, ApiContext& api);

namespace {

Result<Response> Ready(ApiContext& api) {
  // Any cheap query that touches the database: a blob lookup that finds nothing.
  auto r = api.store.GetBlob(std::string(64, '0'));
  if (!r && r.error().code != ErrorCode::kNotFound) {
    return Fail(ErrorCode::kUnavailable, "database unreachable: " + r.error().message);
  }
  return JsonResponse(200, boost::json::object{{"status", "ready"}});
}

std::string JobMetrics(ApiContext& api) {
  auto counts = api.store.CountJobsByStatus();
  std::ostringstream o;
  o << "# HELP pixvault_jobs Jobs by state.\n# TYPE pixvault_jobs gauge\n";
  for (const auto& [status, name] : EnumNames<JobStatus>::kValues) {
    std::int64_t n = 0;
    if (counts) {
      for (const auto& [s, c] : *counts) {
        if (s == status) n = c;
      }
    }
    o << "pixvault_jobs{state=\"" << name << "\"} " << n << "\n";
  }
  return o.str();
}

}  // namespace

void RegisterRoutes(Router& router, ApiContext& api) {
  Route healthz{"GET",
                "/healthz",
                "healthz",
                false,
                0,
                [](Request&) -> Result<Response> {
                  return JsonResponse(200, boost::json::object{{"status", "ok"}});
                },
                nullptr,
                RouteDoc{"Liveness: the process answers",
                         "system",
                         {},
                         {},
                         "",
                         false,
                         {{200, "Alive", "Status"}}}};
  healthz.database = false;
  router.Add(std::move(healthz));
  router.Add(
      Route{"GET", "/readyz", "readyz", false, 0, [&api](Request&) { return Ready(api); }, nullptr,
            RouteDoc{"Readiness: the database is reachable",
                     "system",
                     {},
                     {},
                     "",
                     false,
                     {{200, "Ready", "Status"},
                      {503, "Database unreachable", "Problem", "application/problem+json"}}}});
  router.Add(Route{"GET", "/metrics", "metrics", false, 0,
                   [&api](Request&) -> Result<Response> {
                     Response r;
                     r.headers.Set("Content-Type", "text/plain; version=0.0.4");
                     r.body = api.metrics.Render([&api] { return JobMetrics(api); });
                     return r;
                   },
                   nullptr,
                   RouteDoc{"Prometheus metrics",
                            "system",
                            {},
                            {},
                            "",
                            false,
                            {{200, "Metrics in Prometheus text format", "", "text/plain"}}}});
  RegisterAssetRoutes(router, api);
  RegisterAnalysisRoutes(router, api);
  RegisterAccountRoutes(router, api);
  RegisterProviderRoutes(router, api);
  RegisterUploadRoutes(router, api);
  RegisterFetchRoutes(router, api);
  RegisterFileRoutes(router, api);
  RegisterCacheRoutes(router, api);
  RegisterMetadataRoutes(router, api);
  RegisterLineageRoutes(router, api);
  RegisterBranchRoutes(router, api);
  // Last, so the document describes every route registered above, itself included.
  Route openapi{"GET",
                "/api/v1/openapi.json",
                "openapi",
                false,
                0,
                [&router](Request&) -> Result<Response> {
                  return Response::Json(200, OpenApiDocument(router));
                },
                nullptr,
                RouteDoc{"This API's OpenAPI 3.1 description",
                         "system",
                         {},
                         {},
                         "",
                         false,
                         {{200, "The OpenAPI document", "", "application/json"}}}};
  openapi.database = false;
  router.Add(std::move(openapi));
}

}  // namespace pixvault::http
