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
#include "providers/provider_config.h"
#include "service/analysis.h"
#include "service/auth.h"
#include "service/cache.h"
#include "service/credentials.h"
#include "service/generation.h"
#include "service/ingest.h"
#include "service/resolver.h"
#include "service/worker_pool.h"
#include "storage/store.h"

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
  // Providers: resolution (upload at most once per asset and account), generation jobs, and
  // the local cache (eviction counts only copies at providers of this registry; readers of
  // evicted bytes fetch them back through the resolver). Unconfigured: user_upload alone,
  // and nothing is evictable.
  auto registry = config.providers_file
                      ? providers::LoadProviderRegistryFile(*config.providers_file)
                      : providers::LoadProviderRegistryText("");
  if (!registry) {
    return ctx.ReportError(
        WithContext(registry.error(), "providers in " + config.providers_file.value_or("")));
  }
  // Downscaled copies being uploaded and resumable downloads of generated outputs.
  const std::filesystem::path transfer_dir =
      std::filesystem::path(ctx.options().data_dir) / "transfers";
  std::error_code transfer_ec;
  std::filesystem::create_directories(transfer_dir, transfer_ec);
  if (transfer_ec) {
    return ctx.ReportError(Error{ErrorCode::kUnavailable, "cannot create " + transfer_dir.string() +
                                                              ": " + transfer_ec.message()});
  }
  service::ResolverOptions resolver_options;
  resolver_options.temp_dir = transfer_dir;
  service::Resolver resolver(**store, **blobs, **registry, *cipher, ctx.clock(), resolver_options);
  // Eviction asks a copy's provider before it counts on it.
  service::Cache cache(
      **store, **blobs, registry->get(), ctx.clock(),
      [&resolver](const storage::CacheCopy& copy) { return resolver.CheckCopy(copy); });
  service::WorkerPoolOptions pool_options;
  pool_options.lease = config.job_lease;
  pool_options.threads = std::max(config.analysis_workers, config.cache_budget ? 1 : 0);
  if (config.analysis_workers > 0) pool_options.kinds = {std::string(service::kAnalyzeJobKind)};
  if (config.cache_budget) pool_options.kinds.emplace_back(service::kEvictJobKind);
  pool_options.log = [&ctx](std::string_view message) {
    ctx.err() << "pixvault: jobs: " << message << "\n";
  };
  service::WorkerPool pool(**store, ctx.clock(), pool_options);
  service::RegisterAnalysisJob(pool, analyzer);
  service::RegisterEvictionJob(pool, cache);
  service::GenerationOptions generation_options;
  generation_options.temp_dir = transfer_dir;
  service::Generator generator(**store, ingestor, resolver, **registry, ctx.clock(),
                               generation_options);
  service::WorkerPoolOptions generation_pool_options = pool_options;
  generation_pool_options.threads = config.generation_workers;
  generation_pool_options.kinds = {std::string(service::kGenerateJobKind)};
  service::WorkerPool generation_pool(**store, ctx.clock(), generation_pool_options);
  service::RegisterGenerationJob(generation_pool, generator);
  http::Metrics metrics;
  http::ApiContext api{**store, **blobs, ingestor, ctx.clock(), metrics, config.api};
  api.analyzer = &analyzer;
  api.derived = &derived;
  api.credentials = &*cipher;
  api.resolver = &resolver;
  api.providers = registry->get();
  api.on_job_enqueued = [&pool, &generation_pool] {
    pool.Wake();
    generation_pool.Wake();
  };
  http::Router router;
  http::RegisterRoutes(router, api);
  storage::Store& s = **store;
  const Clock& clock = ctx.clock();
  http::ServerOptions server_options = config.server;
  // A database server answers each query over the network: its waits stay off the I/O
  // threads. An embedded database answers in microseconds, on the I/O thread.
  if (storage::IsDatabaseServerUrl(ctx.DatabaseUrl())) {
    server_options.database_threads = config.db_connections;
  }
  http::Server server(
      router,
      [&s, &clock](std::string_view authorization) {
        return service::AuthenticateBearer(s, clock, authorization);
      },
      metrics, server_options);
  if (auto st = server.Start(); !st) return ctx.ReportError(st.error());
  if (!pool_options.kinds.empty()) {
    if (auto st = pool.Start(); !st) return ctx.ReportError(st.error());
  }
  if (config.generation_workers > 0) {
    if (auto st = generation_pool.Start(); !st) return ctx.ReportError(st.error());
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
  pool.Stop();             // running analyses see cancelled() and stop between steps
  generation_pool.Stop();  // running generations resume from their saved progress later
  ctx.err() << "pixvault: stopped\n";
  return 0;
}

}  // namespace pixvault::app
