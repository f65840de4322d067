#include "app/serve.h"

#include <malloc.h>

#include <ostream>

#include "http/api.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "service/auth.h"
#include "service/ingest.h"

namespace pixvault::app {

int RunServe(cli::Context& ctx, const ServeConfig& config) {
  // glibc gives memory at the top of a heap back to the kernel as soon as 128 KiB are free
  // there, and serves large blocks with mmap: a list response builds and frees ~100 KiB per
  // request, so each request paid page faults to get the same memory again. Keep up to
  // 16 MiB free per arena and mmap only blocks of 1 MiB or more.
  (void)mallopt(M_TRIM_THRESHOLD, 16 << 20);
  (void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  service::Ingestor ingestor(**store, **blobs, ctx.clock(),
                             service::IngestOptions{config.api.upload_limit, 268'402'689});
  http::Metrics metrics;
  http::ApiContext api{**store, **blobs, ingestor, ctx.clock(), metrics, config.api};
  http::Router router;
  http::RegisterRoutes(router, api);
  storage::Store& s = **store;
  const Clock& clock = ctx.clock();
  http::Server server(
      router,
      [&s, &clock](std::string_view authorization) {
        return service::AuthenticateBearer(s, clock, authorization);
      },
      metrics, config.server);
  if (auto st = server.Start(); !st) return ctx.ReportError(st.error());
  ctx.err() << "pixvault: serving http://" << config.server.host << ":" << server.port()
            << " (database " << ctx.DatabaseUrl() << ", data " << ctx.options().data_dir
            << "); Ctrl-C to stop\n";
  server.WaitForSignal();
  ctx.err() << "pixvault: stopped\n";
  return 0;
}

}  // namespace pixvault::app
