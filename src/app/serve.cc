#include "app/serve.h"

#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "blob/derived_files.h"
#include "http/api.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "providers/provider_config.h"
#include "service/analysis.h"
#include "service/auth.h"
#include "service/credentials.h"
#include "service/generation.h"
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
  service::WorkerPoolOptions pool_options;
  pool_options.threads = config.analysis_workers;
  pool_options.lease = config.job_lease;
  pool_options.kinds = {std::string(service::kAnalyzeJobKind)};
  pool_options.log = [&ctx](std::string_view message) {
    ctx.err() << "pixvault: jobs: " << message << "\n";
  };
  service::WorkerPool pool(**store, ctx.clock(), pool_options);
  service::RegisterAnalysisJob(pool, analyzer);
  http::Metrics metrics;
  http::ApiContext api{**store, **blobs, ingestor, ctx.clock(), metrics, config.api};
  api.analyzer = &analyzer;
  api.derived = &derived;
  // Provider credentials are sealed under the secret key (PIXVAULT_SECRET_KEY,
  // PIXVAULT_SECRET_KEY_FILE, or <data>/secret.key created on first start).
  auto cipher = service::LoadCredentialCipher(ctx.options().data_dir, &std::getenv);
  if (!cipher) return ctx.ReportError(cipher.error());
  api.credentials = &*cipher;
  // Providers: resolution (upload at most once per asset and account) and generation jobs.
  std::unique_ptr<providers::ProviderRegistry> registry;
  if (config.providers_file) {
    auto loaded = providers::LoadProviderRegistryFile(*config.providers_file);
    if (!loaded) {
      return ctx.ReportError(WithContext(loaded.error(), "providers in " + *config.providers_file));
    }
    registry = std::move(*loaded);
  } else {
    auto loaded = providers::LoadProviderRegistryText("");
    if (!loaded) return ctx.ReportError(loaded.error());
    registry = std::move(*loaded);
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
  service::Resolver resolver(**store, **blobs, *registry, *cipher, ctx.clock(), resolver_options);
  service::GenerationOptions generation_options;
  generation_options.temp_dir = transfer_dir;
  service::Generator generator(**store, ingestor, resolver, *registry, ctx.clock(),
                               generation_options);
  service::WorkerPoolOptions generation_pool_options = pool_options;
  generation_pool_options.threads = config.generation_workers;
  generation_pool_options.kinds = {std::string(service::kGenerateJobKind)};
  service::WorkerPool generation_pool(**store, ctx.clock(), generation_pool_options);
  service::RegisterGenerationJob(generation_pool, generator);
  api.resolver = &resolver;
  api.providers = registry.get();
  api.on_job_enqueued = [&pool, &generation_pool] {
    pool.Wake();
    generation_pool.Wake();
  };
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
  if (config.analysis_workers > 0) {
    if (auto st = pool.Start(); !st) return ctx.ReportError(st.error());
  }
  if (config.generation_workers > 0) {
    if (auto st = generation_pool.Start(); !st) return ctx.ReportError(st.error());
  }
  ctx.err() << "pixvault: serving http://" << config.server.host << ":" << server.port()
            << " (database " << ctx.DatabaseUrl() << ", data " << ctx.options().data_dir
            << "); Ctrl-C to stop\n";
  server.WaitForSignal();
  pool.Stop();             // running analyses see cancelled() and stop between steps
  generation_pool.Stop();  // running generations resume from their saved progress later
  ctx.err() << "pixvault: stopped\n";
  return 0;
}

}  // namespace pixvault::app
