// `pixvault cache status|evict`: the local cache of downloaded bytes (service/cache.h).
//
// Both read their settings as the server does (flags, then the environment, then the config
// file): the data folder and database, the cache budget and the providers. Given the
// providers, they decide as the server does: only copies at those providers count, and
// `evict` asks each copy's provider before its bytes go. Without them there is no provider
// configuration: a recorded `uploaded`, unexpired provider_uploads row (or an origin ref) at
// any provider other than user_upload counts as a copy the bytes can be fetched back from.
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "providers/provider_config.h"
#include "service/cache.h"
#include "service/credentials.h"
#include "service/resolver.h"

namespace pixvault::cli {
namespace {

namespace json = boost::json;

// The settings `o` and the server's configuration give, with the context pointed at their
// data folder and database. Without the server's reader (CliHooks::server_settings): the
// flags, then PIXVAULT_CACHE_BUDGET and PIXVAULT_PROVIDERS_FILE.
Result<ServerSettings> Settings(Context& ctx, const CacheOptions& o) {
  ServerSettings s;
  if (o.settings) {
    ServeFlags flags;
    flags.config_file = o.config;
    flags.data_dir = o.data_dir;
    flags.db = o.db;
    flags.providers_file = o.providers;
    flags.cache_budget = o.budget;
    PV_ASSIGN_OR_RETURN(s, o.settings(flags));
    ctx.SetStorage(s.data_dir, s.db);
  }
  // A data folder without a database is the wrong folder (a relative path read from another
  // directory): said so, rather than a new empty database made there.
  if (ctx.options().db.empty() &&
      !std::filesystem::exists(std::filesystem::path(ctx.options().data_dir) / "pixvault.db")) {
    return Fail(ErrorCode::kNotFound, "no pixvault database in " + ctx.options().data_dir +
                                          " (pass --data-dir, or --config with the server's "
                                          "configuration)");
  }
  if (o.settings) return s;
  if (o.config) {
    return Fail(ErrorCode::kUnsupported, "--config needs the server's configuration reader");
  }
  std::optional<std::string> budget = o.budget;
  if (!budget) {
    if (const char* e = std::getenv("PIXVAULT_CACHE_BUDGET"); e && *e) budget = e;
  }
  if (budget && *budget != "none") {
    PV_ASSIGN_OR_RETURN(const std::int64_t bytes, service::ParseByteSize(*budget));
    s.cache_budget = bytes;
  }
  s.providers_file = o.providers;
  if (!s.providers_file) {
    if (const char* e = std::getenv("PIXVAULT_PROVIDERS_FILE"); e && *e) s.providers_file = e;
  }
  return s;
}

// The providers of `file`, or null without one.
Result<std::unique_ptr<providers::ProviderRegistry>> Providers(
    const std::optional<std::string>& file) {
  if (!file) return std::unique_ptr<providers::ProviderRegistry>();
  auto registry = providers::LoadProviderRegistryFile(*file);
  if (!registry) return Fail(WithContext(registry.error(), "providers in " + *file));
  return std::move(*registry);
}

}  // namespace

int CmdCacheStatus(Context& ctx, const CacheOptions& o) {
  auto settings = Settings(ctx, o);
  if (!settings) return ctx.ReportError(settings.error());
  auto registry = Providers(settings->providers_file);
  if (!registry) return ctx.ReportError(registry.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  service::Cache cache(**store, **blobs, registry->get(), ctx.clock());
  auto status = cache.GetStatus(settings->cache_budget);
  if (!status) return ctx.ReportError(status.error());
  if (ctx.options().json) {
    ctx.PrintJson(json::parse(status->ToJson()));
    return 0;
  }
  auto& out = ctx.out();
  out << "local: " << status->local_bytes << " bytes in " << status->local_blobs << " blobs\n";
  if (status->budget) {
    out << "budget: " << *status->budget << " bytes"
        << (status->local_bytes > *status->budget ? " (over)" : "") << "\n";
  } else {
    out << "budget: none (nothing is evicted)\n";
  }
  out << "evictable: " << status->evictable_bytes << " bytes in " << status->evictable_blobs
      << " blobs\n";
  out << "pinned: " << status->pinned_assets << " assets (" << status->pinned_blobs
      << " local blobs)\n";
  out << "only copy: " << status->only_copy_blobs << " blobs\n";
  return 0;
}

int CmdCacheEvict(Context& ctx, const CacheOptions& o) {
  auto settings = Settings(ctx, o);
  if (!settings) return ctx.ReportError(settings.error());
  if (!settings->cache_budget) {
    return ctx.ReportError(Error{ErrorCode::kInvalidArgument,
                                 "no cache budget: pass --budget BYTES (e.g. 10G), set "
                                 "PIXVAULT_CACHE_BUDGET, or cache_budget in the config file"});
  }
  const std::int64_t budget = *settings->cache_budget;
  auto registry = Providers(settings->providers_file);
  if (!registry) return ctx.ReportError(registry.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  Result<service::EvictionReport> report = Fail(ErrorCode::kInternal, "not run");
  if (*registry) {
    auto cipher = service::LoadCredentialCipher(ctx.options().data_dir, &std::getenv);
    if (!cipher) return ctx.ReportError(cipher.error());
    service::Resolver resolver(**store, **blobs, **registry, *cipher, ctx.clock());
    service::Cache cache(
        **store, **blobs, registry->get(), ctx.clock(),
        [&resolver](const storage::CacheCopy& copy) { return resolver.CheckCopy(copy); });
    report = cache.Evict(budget, o.dry_run);
  } else {
    service::Cache cache(**store, **blobs, nullptr, ctx.clock());
    report = cache.Evict(budget, o.dry_run);
  }
  if (!report) return ctx.ReportError(report.error());
  if (ctx.options().json) {
    ctx.PrintJson(json::parse(report->ToJson()));
    return 0;
  }
  auto& out = ctx.out();
  out << (o.dry_run ? "would evict " : "evicted ") << report->evicted_blobs << " blobs ("
      << report->evicted_bytes << " bytes); local " << report->local_bytes_before << " -> "
      << report->local_bytes_after << " bytes, budget " << report->budget << "\n";
  if (report->unverified_blobs > 0) {
    out << report->unverified_blobs << " blobs kept: no provider confirmed a copy ("
        << report->unverified_error << ")\n";
  }
  if (report->over_budget) {
    out << "still over budget: the rest is pinned, the only copy of its bytes, or unconfirmed\n";
  }
  if (!*registry && report->evicted_blobs > 0 && !o.dry_run) {
    out << "(recorded copies were trusted: pass --providers FILE or --config FILE to have each "
           "checked)\n";
  }
  return 0;
}

int CmdCacheRecheckOrigins(Context& ctx, const CacheOptions& o) {
  auto settings = Settings(ctx, o);
  if (!settings) return ctx.ReportError(settings.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto count = (*store)->RecheckLostOrigins(o.provider);
  if (!count) return ctx.ReportError(count.error());
  if (ctx.options().json) {
    ctx.PrintJson(json::object{{"rechecked", *count}});
  } else {
    ctx.out() << *count << " lost origins count as copies again; the next eviction pass asks "
              << "their providers\n";
  }
  return 0;
}

}  // namespace pixvault::cli
