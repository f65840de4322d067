#include "service/cache.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include <boost/json.hpp>

#include "providers/folder_provider.h"
#include "service/resolver.h"
#include "service/worker_pool.h"

namespace pixvault::service {

namespace json = boost::json;

namespace {

// Files of a batch removed this many at a time. A removal can wait on the disk: on a
// filesystem mounted with `discard` each freed extent is trimmed synchronously (about 200 us
// per file on the VM disks this was measured on), and a network filesystem answers every
// unlink; overlapped, a batch's removals take a fraction of the time.
constexpr std::size_t kRemoveThreads = 8;

// A provider account whose checks failed this many times for the account's sake (see
// AccountFailure) without a success in between is not asked again in the same pass: a
// provider that is down or hanging, or refuses the account's credentials, costs a pass a few
// requests, not one per blob.
constexpr int kMaxAccountFailures = 3;

// A check failed for a reason that holds for every copy under the account: the provider is
// down, hangs or its breaker is open (kUnavailable), it refuses the credentials
// (kPermissionDenied), or they cannot be opened here (kCorrupt). A forgotten ref (kNotFound)
// is that copy's alone.
bool AccountFailure(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kPermissionDenied ||
         code == ErrorCode::kCorrupt;
}

// Runs work(0) ... work(n - 1) on up to `max_threads` threads (this one included), `per_thread`
// items per extra thread at least; returns once all are done.
void ParallelFor(std::size_t n, std::size_t max_threads, std::size_t per_thread,
                 const std::function<void(std::size_t)>& work) {
  std::atomic<std::size_t> next{0};
  const auto run = [&] {
    for (std::size_t i = next++; i < n; i = next++) work(i);
  };
  std::vector<std::jthread> helpers;
  const std::size_t threads = std::min(max_threads, (n + per_thread - 1) / per_thread);
  for (std::size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(run);
    } catch (const std::system_error&) {
      break;  // no thread to be had: the ones started (and this one) do the work
    }
  }
  run();
}  // joins the helpers

// Removes the blobs' files, several at a time; the first error (if any) once all were tried.
pixvault::Status RemoveFiles(blob::BlobStore& blobs, const std::vector<std::string>& hashes) {
  std::mutex mu;
  std::optional<Error> first_error;
  ParallelFor(hashes.size(), kRemoveThreads, 16, [&](std::size_t i) {
    pixvault::Status removed = blobs.Remove(hashes[i]);
    if (!removed) {
      const std::lock_guard lock(mu);
      if (!first_error) first_error = removed.error();
    }
  });
  if (first_error) return Fail(std::move(*first_error));
  return Ok();
}

}  // namespace

std::string CacheStatus::ToJson() const {
  json::object o{{"local_bytes", local_bytes},         {"local_blobs", local_blobs},
                 {"evictable_bytes", evictable_bytes}, {"evictable_blobs", evictable_blobs},
                 {"pinned_assets", pinned_assets},     {"pinned_blobs", pinned_blobs},
                 {"only_copy_blobs", only_copy_blobs}};
  o["budget"] = budget ? json::value(*budget) : json::value(nullptr);
  return json::serialize(o);
}

std::string EvictionReport::ToJson() const {
  return json::serialize(
      json::object{{"budget", budget},
                   {"dry_run", dry_run},
                   {"local_bytes_before", local_bytes_before},
                   {"local_bytes_after", local_bytes_after},
                   {"evicted_blobs", evicted_blobs},
                   {"evicted_bytes", evicted_bytes},
                   {"over_budget", over_budget},
                   {"unverified_blobs", unverified_blobs},
                   {"unverified_error", unverified_error.empty() ? json::value(nullptr)
                                                                 : json::value(unverified_error)}});
}

Cache::Cache(storage::Store& store, blob::BlobStore& blobs,
             const providers::ProviderRegistry* registry, const Clock& clock, CopyCheck check,
             CacheOptions options)
    : store_(store),
      blobs_(blobs),
      registry_(registry),
      clock_(clock),
      check_(std::move(check)),
      options_(options) {
  options_.batch = std::clamp<std::size_t>(options_.batch, 1, 500);  // the store's limit
  options_.check_threads = std::max<std::size_t>(options_.check_threads, 1);
}

Result<Cache::Verification> Cache::Verified(const std::vector<std::string>& batch,
                                            const storage::CachePolicy& policy, CheckState& state) {
  PV_ASSIGN_OR_RETURN(std::vector<storage::CacheCopy> copies,
                      store_.ListCacheCopies(batch, policy));
  // The copies of each blob, in the store's order (origin first).
  std::unordered_map<std::string, std::vector<const storage::CacheCopy*>> of;
  for (const storage::CacheCopy& c : copies) of[c.sha256].push_back(&c);
  std::vector<std::string> listed;
  for (const std::string& sha : batch) {
    if (of.count(sha)) listed.push_back(sha);  // others are no longer evictable anyway
  }
  // Per blob: 0 no copy confirmed, 1 confirmed, 2 not asked (the pass is stopping).
  std::vector<char> outcome(listed.size(), 0);
  Verification out;
  ParallelFor(listed.size(), options_.check_threads, 1, [&](std::size_t i) {
    for (const storage::CacheCopy* copy : of.find(listed[i])->second) {
      if (state.stop || (state.cancelled && state.cancelled())) {
        outcome[i] = 2;
        return;
      }
      const std::pair<std::string, std::int64_t> account{copy->provider_id, copy->account.id};
      {
        const std::lock_guard lock(state.mu);
        if (state.failing[account] >= kMaxAccountFailures) continue;
      }
      pixvault::Status known = Ok();
      try {
        known = check_(*copy);
      } catch (const std::exception& e) {  // on a helper thread: never let it end the process
        known = Fail(ErrorCode::kInternal, std::string("checking the copy failed: ") + e.what());
      }
      const std::lock_guard lock(state.mu);
      if (known) {
        state.failing[account] = 0;
        outcome[i] = 1;
        return;
      }
      if (AccountFailure(known.error().code)) ++state.failing[account];
      if (out.first_error.empty()) {
        out.first_error = "asset " + std::to_string(copy->asset_id) + " at '" + copy->provider_id +
                          "': " + known.error().message;
      }
    }
  });
  for (std::size_t i = 0; i < listed.size(); ++i) {
    if (outcome[i] == 1) {
      out.blobs.push_back(std::move(listed[i]));
    } else if (outcome[i] == 0) {
      ++out.unverified;
    }
  }
  return out;
}

storage::CachePolicy Cache::Policy() const {
  storage::CachePolicy policy;
  policy.now = clock_.Now();
  if (registry_ != nullptr) {
    std::vector<std::string> ids;
    for (std::string& id : registry_->Ids()) {
      if (id != providers::kUserUploadProvider) ids.push_back(std::move(id));
    }
    policy.providers = std::move(ids);
  }
  return policy;
}

Result<CacheStatus> Cache::GetStatus(std::optional<std::int64_t> budget) {
  PV_ASSIGN_OR_RETURN(storage::CacheInventory inv, store_.ScanCache(Policy()));
  CacheStatus s;
  s.local_bytes = inv.local_bytes;
  s.local_blobs = inv.local_blobs;
  s.evictable_blobs = static_cast<std::int64_t>(inv.evictable.size());
  for (const storage::CacheCandidate& c : inv.evictable) s.evictable_bytes += c.size_bytes;
  s.pinned_assets = inv.pinned_assets;
  s.pinned_blobs = inv.pinned_blobs;
  s.only_copy_blobs = inv.only_copy_blobs;
  s.budget = budget;
  return s;
}

Result<EvictionReport> Cache::Evict(std::int64_t budget, bool dry_run,
                                    const std::function<bool()>& cancelled) {
  if (budget < 0) return Fail(ErrorCode::kInvalidArgument, "the cache budget must be >= 0 bytes");
  const storage::CachePolicy policy = Policy();
  PV_ASSIGN_OR_RETURN(storage::CacheInventory inv, store_.ScanCache(policy));
  EvictionReport report;
  report.budget = budget;
  report.dry_run = dry_run;
  report.local_bytes_before = inv.local_bytes;
  std::int64_t local = inv.local_bytes;
  if (dry_run) {
    for (const storage::CacheCandidate& c : inv.evictable) {
      if (local <= budget) break;
      local -= c.size_bytes;
      report.evicted_bytes += c.size_bytes;
      ++report.evicted_blobs;
    }
  } else {
    std::unordered_map<std::string, std::int64_t> sizes;
    const auto unlink = [this](const std::vector<std::string>& hashes) {
      return RemoveFiles(blobs_, hashes);
    };
    // Batches in LRU order, each just large enough to cover what is still over the budget once
    // `pending` bytes (the batch before it) are gone (capped), so a blob the re-check keeps
    // (pinned meanwhile, or no provider confirmed its copy) is made up for by a later one.
    std::size_t next = 0;
    const auto plan = [&](std::int64_t pending) {
      std::vector<std::string> batch;
      std::int64_t planned = pending;
      while (next < inv.evictable.size() && batch.size() < options_.batch &&
             local - planned > budget) {
        const storage::CacheCandidate& c = inv.evictable[next++];
        planned += c.size_bytes;
        sizes[c.sha256] = c.size_bytes;
        batch.push_back(c.sha256);
      }
      return batch;
    };
    CheckState checks;
    checks.cancelled = cancelled;
    const auto verify = [&](std::vector<std::string> batch) -> Result<Verification> {
      if (!check_ || batch.empty()) return Verification{std::move(batch), 0, {}};
      return Verified(batch, policy, checks);
    };
    // Each batch's copies are checked while the batch before it is evicted (which mostly
    // waits on the disk).
    Result<Verification> current = verify(plan(0));
    for (;;) {
      if (!current) return Fail(current.error());
      report.unverified_blobs += current->unverified;
      if (report.unverified_error.empty()) report.unverified_error = current->first_error;
      if (cancelled && cancelled()) break;
      std::int64_t batch_bytes = 0;
      for (const std::string& h : current->blobs) batch_bytes += sizes[h];
      std::vector<std::string> upcoming = plan(batch_bytes);
      std::future<Result<Verification>> ahead;
      if (!upcoming.empty()) {
        // Run at once on a thread of its own, or (no thread to be had) when waited for.
        ahead = std::async(std::launch::async | std::launch::deferred, verify, std::move(upcoming));
      }
      if (!current->blobs.empty()) {
        Result<std::vector<std::string>> evicted =
            store_.EvictBlobs(current->blobs, policy, unlink);
        if (!evicted) {
          checks.stop = true;  // the next batch's checks are not wanted any more
          return Fail(evicted.error());
        }
        for (const std::string& h : *evicted) {
          local -= sizes[h];
          report.evicted_bytes += sizes[h];
          ++report.evicted_blobs;
        }
      }
      if (ahead.valid()) {
        current = ahead.get();
      } else if (local > budget && next < inv.evictable.size()) {
        current = verify(plan(0));  // this batch evicted less than planned
      } else {
        break;
      }
    }
  }
  report.local_bytes_after = local;
  report.over_budget = local > budget;
  return report;
}

pixvault::Status FetchBackBytes(blob::BlobStore& blobs, Resolver* resolver, const Asset& asset) {
  if (!asset.sha256) {
    return Fail(ErrorCode::kUnavailable, "the bytes of asset " + std::to_string(asset.id) +
                                             " are not stored locally (" +
                                             std::string(ToString(asset.sync_status)) + ")");
  }
  PV_ASSIGN_OR_RETURN(const bool present, blobs.Exists(*asset.sha256));
  if (present) return Ok();
  if (resolver == nullptr) {
    return Fail(ErrorCode::kUnavailable,
                "the bytes of asset " + std::to_string(asset.id) +
                    " were evicted from the local cache and no provider is configured to "
                    "fetch them back");
  }
  pixvault::Status fetched = resolver->EnsureLocalCopy(asset);
  if (!fetched) {
    // Whatever went wrong upstream, the reader is told the bytes are unavailable for now.
    return Fail(ErrorCode::kUnavailable, fetched.error().message);
  }
  return Ok();
}

Result<std::int64_t> ParseByteSize(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int shift = 0;
  auto strip = [&s](std::string_view suffix) {
    if (s.size() > suffix.size() && s.ends_with(suffix)) {
      s.remove_suffix(suffix.size());
      return true;
    }
    return false;
  };
  if (!strip("iB")) (void)strip("B");
  if (!s.empty()) {
    switch (s.back()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      case 't':
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) s.remove_suffix(1);
  }
  const Error bad{ErrorCode::kInvalidArgument,
                  "'" + std::string(text) + "' is not a byte size (e.g. 1048576, 500M, 10G)"};
  if (s.empty() || s.front() == '-' || s.front() == '+') return Fail(bad);
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) return Fail(bad);
  const double bytes = std::ldexp(value, shift);
  if (bytes >= 9.2e18) return Fail(bad);
  return static_cast<std::int64_t>(bytes);
}

Result<Job> EnqueueEviction(storage::Store& store, const Clock& clock, std::int64_t budget,
                            Timestamp interval) {
  if (interval <= 0) return Fail(ErrorCode::kInvalidArgument, "eviction interval must be > 0");
  Job job;
  job.kind = std::string(kEvictJobKind);
  job.idempotency_key = "cache-evict:" + std::to_string(clock.Now() / interval);
  job.payload = json::serialize(json::object{{"budget", budget}});
  job.max_attempts = 2;
  PV_ASSIGN_OR_RETURN(storage::Store::Enqueued enqueued, store.EnqueueJob(job));
  return std::move(enqueued.job);
}

void RegisterEvictionJob(WorkerPool& pool, Cache& cache) {
  pool.Register(std::string(kEvictJobKind), [&cache](JobContext& ctx) -> Result<std::string> {
    boost::system::error_code ec;
    json::value payload = json::parse(ctx.job().payload, ec);
    const json::object* o = ec ? nullptr : payload.if_object();
    const json::value* budget = o ? o->if_contains("budget") : nullptr;
    if (!budget || !budget->is_int64() || budget->as_int64() < 0) {
      return Fail(ErrorCode::kInvalidArgument, "cache_evict job payload without a budget");
    }
    PV_ASSIGN_OR_RETURN(EvictionReport report,
                        cache.Evict(budget->as_int64(), false, [&ctx] { return ctx.cancelled(); }));
    return report.ToJson();
  });
}

}  // namespace pixvault::service
