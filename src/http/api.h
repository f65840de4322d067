// The pixvault HTTP API: registers every route on a Router. Handlers are thin: they parse
// and validate the request, call the store or a service, and render JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "blob/derived_files.h"
#include "core/clock.h"
#include "http/metrics.h"
#include "http/router.h"
#include "service/ingest.h"
#include "storage/store.h"

namespace pixvault::providers {
class ProviderRegistry;
}  // namespace pixvault::providers
namespace pixvault::fetch {
class Fetcher;
}  // namespace pixvault::fetch
namespace pixvault::service {
class Analyzer;
class CredentialCipher;
class Resolver;
}  // namespace pixvault::service

namespace pixvault::http {

struct ApiOptions {
  std::int64_t json_body_limit = 1 << 20;             // 1 MiB
  std::int64_t upload_limit = std::int64_t{8} << 30;  // 8 GiB
  // Upload from URL (POST /api/v1/assets/upload-from-url).
  // IPs or CIDR ranges that may be fetched although not public ("127.0.0.1/32", "10.0.0.0/8").
  std::vector<std::string> fetch_allow_hosts;
  std::int64_t fetch_limit = 0;  // bytes; 0 means upload_limit
  Timestamp fetch_connect_timeout = 10 * kMicrosPerSecond;
  Timestamp fetch_idle_timeout = 30 * kMicrosPerSecond;
  Timestamp fetch_total_timeout = 15 * 60 * kMicrosPerSecond;
  int fetch_max_redirects = 5;
  int fetch_max_concurrent = 2;  // downloads at once; each holds a blocking-pool thread
};

// Everything the handlers use; borrowed, must outlive the router.
struct ApiContext {
  storage::Store& store;
  blob::BlobStore& blobs;
  service::Ingestor& ingestor;
  const Clock& clock;
  Metrics& metrics;
  ApiOptions options;
  // Outbound downloads (upload from URL); when null the route owns a default Fetcher.
  fetch::Fetcher* fetcher = nullptr;
  // Media analysis (thumbnails, previews); when null those routes answer 503.
  service::Analyzer* analyzer = nullptr;
  // Thumbnails and previews beside the blobs, removed with the last asset of their bytes.
  const blob::DerivedFiles* derived = nullptr;
  // Seals provider credentials; when null the provider-account routes answer 503.
  const service::CredentialCipher* credentials = nullptr;
  // Cross-provider resolution; when either is null those routes answer 503.
  service::Resolver* resolver = nullptr;
  const providers::ProviderRegistry* providers = nullptr;
  // Called after a route enqueued a job (the server wakes its worker pool); may be empty.
  std::function<void()> on_job_enqueued = nullptr;
};

void RegisterRoutes(Router& router, ApiContext& api);

// Component schemas of the branch routes (a JSON object text) merged into the OpenAPI document.
extern const char* const kBranchSchemas;
// Component schemas of the analysis and job routes.
extern const char* const kAnalysisSchemas;
// Component schemas of the provider-account routes.
extern const char* const kAccountSchemas;
// Component schemas of the provider (resolution) routes.
extern const char* const kProviderSchemas;
// Component schemas of the cache (pin) routes.
extern const char* const kCacheSchemas;

// The OpenAPI 3.1 document for the routes of `router` (JSON text).
std::string OpenApiDocument(const Router& router);

}  // namespace pixvault::http
