// The pixvault HTTP API: registers every route on a Router. Handlers are thin: they parse
// and validate the request, call the store or a service, and render JSON.
#pragma once

#include <cstdint>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "http/metrics.h"
#include "http/router.h"
#include "service/ingest.h"
#include "storage/store.h"

namespace pixvault::http {

struct ApiOptions {
  std::int64_t json_body_limit = 1 << 20;             // 1 MiB
  std::int64_t upload_limit = std::int64_t{8} << 30;  // 8 GiB
};

// Everything the handlers use; borrowed, must outlive the router.
struct ApiContext {
  storage::Store& store;
  blob::BlobStore& blobs;
  service::Ingestor& ingestor;
  const Clock& clock;
  Metrics& metrics;
  ApiOptions options;
};

void RegisterRoutes(Router& router, ApiContext& api);

// The OpenAPI 3.1 document for the routes of `router` (JSON text).
std::string OpenApiDocument(const Router& router);

}  // namespace pixvault::http
