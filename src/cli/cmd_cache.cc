// `pixvault cache status|evict`: the local cache of downloaded bytes (service/cache.h).
//
// `cache evict` given the providers file (--providers, PIXVAULT_PROVIDERS_FILE) decides as the
// server does: only copies at those providers count, and each is checked with its provider
// before its bytes go. Without it, and for `cache status`, there is no provider configuration:
// a recorded `uploaded`, unexpired provider_uploads row (or an origin ref) at any provider
// other than user_upload counts as a copy the bytes can be fetched back from.
#include <boost/json.hpp>

#include <cstdlib>
#include <ostream>

#include "cli/commands.h"
#include "providers/provider_config.h"
#include "service/cache.h"
#include "service/credentials.h"
#include "service/resolver.h"

namespace pixvault::cli {
namespace {

namespace json = boost::json;

// --budget, else PIXVAULT_CACHE_BUDGET, else unset.
Result<std::optional<std::int64_t>> Budget(const std::optional<std::string>& flag) {
  std::optional<std::string> text = flag;
  if (!text) {
    if (const char* e = std::getenv("PIXVAULT_CACHE_BUDGET"); e && *e) text = e;
  }
  if (!text || *text == "none") return std::optional<std::int64_t>();
  PV_ASSIGN_OR_RETURN(std::int64_t bytes, service::ParseByteSize(*text));
  return std::optional<std::int64_t>(bytes);
}

}  // namespace

int CmdCacheStatus(Context& ctx, const CacheOptions& o) {
  auto budget = Budget(o.budget);
  if (!budget) return ctx.ReportError(budget.error());
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  service::Cache cache(**store, **blobs, nullptr, ctx.clock());
  auto status = cache.GetStatus(*budget);
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
  auto budget = Budget(o.budget);
  if (!budget) return ctx.ReportError(budget.error());
  if (!*budget) {
    return ctx.ReportError(Error{ErrorCode::kInvalidArgument,
                                 "no cache budget: pass --budget BYTES (e.g. 10G) or set "
                                 "PIXVAULT_CACHE_BUDGET"});
  }
  auto store = ctx.Store();
  if (!store) return ctx.ReportError(store.error());
  auto blobs = ctx.Blobs();
  if (!blobs) return ctx.ReportError(blobs.error());
  std::optional<std::string> providers_file = o.providers;
  if (!providers_file) {
    if (const char* e = std::getenv("PIXVAULT_PROVIDERS_FILE"); e && *e) providers_file = e;
  }
  Result<service::EvictionReport> report = Fail(ErrorCode::kInternal, "not run");
  if (providers_file) {
    auto registry = providers::LoadProviderRegistryFile(*providers_file);
    if (!registry) {
      return ctx.ReportError(WithContext(registry.error(), "providers in " + *providers_file));
    }
    auto cipher = service::LoadCredentialCipher(ctx.options().data_dir, &std::getenv);
    if (!cipher) return ctx.ReportError(cipher.error());
    service::Resolver resolver(**store, **blobs, **registry, *cipher, ctx.clock());
    service::Cache cache(
        **store, **blobs, registry->get(), ctx.clock(),
        [&resolver](const storage::CacheCopy& copy) { return resolver.CheckCopy(copy); });
    report = cache.Evict(**budget, o.dry_run);
  } else {
    service::Cache cache(**store, **blobs, nullptr, ctx.clock());
    report = cache.Evict(**budget, o.dry_run);
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
  if (!providers_file && report->evicted_blobs > 0 && !o.dry_run) {
    out << "(recorded copies were trusted: pass --providers FILE to have each checked)\n";
  }
  return 0;
}

}  // namespace pixvault::cli
