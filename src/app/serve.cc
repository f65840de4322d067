#include "app/serve.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <thread>

#include "blob/derived_files.h"
#include "http/api.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "providers/folder_provider.h"
#include "service/analysis.h"
#include "service/auth.h"
#include "service/cache.h"
#include "service/credentials.h"
#include "service/ingest.h"
#include "service/resolver.h"
#include "service/worker_pool.h"

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
  service::IngestOptions ingest_options;
  ingest_options.max_bytes = config.api.upload_limit;
  ingest_options.analyze_on_ingest = config.analyze_on_ingest;
  service::Ingestor ingestor(**store, **blobs, ctx.clock(), ingest_options);
  // Media analysis: thumbnails and previews beside the blobs, jobs run by a worker pool.
  blob::DerivedFiles derived(ctx.options().data_dir);
  service::Analyzer analyzer(**store, **blobs, derived, ctx.clock(), config.analysis);
  // Provider credentials are sealed under the secret key (PIXVAULT_SECRET_KEY,
  // PIXVAULT_SECRET_KEY_FILE, or <data>/secret.key created on first start).
  auto cipher = service::LoadCredentialCipher(ctx.options().data_dir, &std::getenv);
  if (!cipher) return ctx.ReportError(cipher.error());
  // The local cache: eviction counts only copies at providers of this registry, and readers
  // of evicted bytes fetch them back through the resolver. With user_upload alone (no
  // providers configured) nothing is evictable.
  providers::ProviderRegistry registry;
  if (auto st = registry.Add(providers::MakeUserUploadProvider()); !st) {
    return ctx.ReportError(st.error());
  }
  service::ResolverOptions resolver_options;
  resolver_options.temp_dir = std::filesystem::path(ctx.options().data_dir) / "tmp";
  service::Resolver resolver(**store, **blobs, registry, *cipher, ctx.clock(), resolver_options);
  service::Cache cache(**store, **blobs, &registry, ctx.clock());
  service::WorkerPoolOptions pool_options;
  pool_options.threads = std::max(config.analysis_workers, config.cache_budget ? 1 : 0);
  if (config.analysis_workers > 0) pool_options.kinds = {std::string(service::kAnalyzeJobKind)};
  if (config.cache_budget) pool_options.kinds.emplace_back(service::kEvictJobKind);
  pool_options.log = [&ctx](std::string_view message) {
    ctx.err() << "pixvault: jobs: " << message << "\n";
  };
  service::WorkerPool pool(**store, ctx.clock(), pool_options);
  service::RegisterAnalysisJob(pool, analyzer);
  service::RegisterEvictionJob(pool, cache);
  http::Metrics metrics;
  http::ApiContext api{**store, **blobs, ingestor, ctx.clock(), metrics, config.api};
  api.analyzer = &analyzer;
  api.derived = &derived;
  api.credentials = &*cipher;
  api.resolver = &resolver;
  api.on_job_enqueued = [&pool] { pool.Wake(); };
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
  if (!pool_options.kinds.empty()) {
    if (auto st = pool.Start(); !st) return ctx.ReportError(st.error());
  }
  // An eviction pass per interval; the idempotency key of each interval makes the servers
  // sharing one database run one pass between them.
  std::mutex evict_mu;
  std::condition_variable evict_cv;
  bool evict_stop = false;
  std::thread evictor;
  if (config.cache_budget) {
    evictor = std::thread([&] {
      std::unique_lock lock(evict_mu);
      while (!evict_stop) {
        lock.unlock();
        auto job =
            service::EnqueueEviction(s, clock, *config.cache_budget, config.cache_evict_interval);
        if (!job) {
          ctx.err() << "pixvault: cache: " << job.error().message << "\n";
        } else {
          pool.Wake();
        }
        lock.lock();
        evict_cv.wait_for(lock, std::chrono::microseconds(config.cache_evict_interval),
                          [&] { return evict_stop; });
      }
    });
  }
  ctx.err() << "pixvault: serving http://" << config.server.host << ":" << server.port()
            << " (database " << ctx.DatabaseUrl() << ", data " << ctx.options().data_dir
            << "); Ctrl-C to stop\n";
  server.WaitForSignal();
  if (evictor.joinable()) {
    {
      std::lock_guard lock(evict_mu);
      evict_stop = true;
    }
    evict_cv.notify_all();
    evictor.join();
  }
  pool.Stop();  // running analyses see cancelled() and stop between steps
  ctx.err() << "pixvault: stopped\n";
  return 0;
}

}  // namespace pixvault::app
