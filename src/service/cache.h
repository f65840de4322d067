// The local cache (DESIGN.md section 5): a byte budget for the blobs kept on this machine,
// least-recently-accessed-first eviction of blobs whose bytes can be fetched back, pins, and
// the transparent re-fetch of evicted bytes for readers.
//
// The unit of eviction is a blob (assets share them). A blob is evictable when no asset of it
// is pinned and one of its assets has a copy elsewhere that can be fetched back: an origin ref
// (provider_asset_id and its account) or an `uploaded`, unexpired provider_uploads row, at a
// provider of the registry, under an enabled account of the asset's owner (storage::CacheCopy).
// Without a registry any provider except user_upload counts. The only copy of bytes is never
// evicted.
//
// A record is not proof: a provider may drop a file before the expiry it announced. With a
// CopyCheck (the server's: Resolver::CheckCopy), a pass evicts a blob only after a provider
// confirmed one of its copies, checked a few at a time just before the blob's batch is
// evicted. A copy the provider no longer knows stops counting for good (an uploaded row is
// expired, an origin ref marked lost: Asset::origin_lost_at), and an account whose provider
// keeps failing or refusing it is not asked again in that pass. Without a CopyCheck (the CLI
// unless given the providers), the records are trusted. Dry runs and GetStatus read the
// records only.
//
// Eviction marks the blob's assets `remote` in the transaction that decides (after re-checking
// pins and copies under row locks) and removes the file before committing; an open BlobReader
// keeps reading its file. A reader that finds the bytes gone fetches them back through
// Resolver::EnsureLocalCopy (FetchBackBytes), opens them, and marks them `downloaded` again.
//
// Thread-safety: Cache is safe for concurrent use; several processes may evict from one
// database and blob root at once (the store's transactions arbitrate).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "providers/provider.h"
#include "storage/store.h"

namespace pixvault::service {

class Resolver;
class WorkerPool;

inline constexpr std::string_view kEvictJobKind = "cache_evict";

struct CacheStatus {
  std::int64_t local_bytes = 0;
  std::int64_t local_blobs = 0;
  std::int64_t evictable_bytes = 0;
  std::int64_t evictable_blobs = 0;
  std::int64_t pinned_assets = 0;
  std::int64_t pinned_blobs = 0;
  std::int64_t only_copy_blobs = 0;
  std::optional<std::int64_t> budget;

  std::string ToJson() const;
};

struct EvictionReport {
  std::int64_t budget = 0;
  bool dry_run = false;
  std::int64_t local_bytes_before = 0;
  std::int64_t local_bytes_after = 0;  // what a dry run would leave
  std::int64_t evicted_blobs = 0;
  std::int64_t evicted_bytes = 0;
  // The budget cannot be met: what is left is pinned or the only copy (or unverified).
  bool over_budget = false;
  // Blobs kept because no provider confirmed a copy of them (Cache's CopyCheck), and the
  // first reason given.
  std::int64_t unverified_blobs = 0;
  std::string unverified_error;

  std::string ToJson() const;
};

struct CacheOptions {
  std::size_t batch = 500;        // blobs per eviction transaction (at most 500)
  std::size_t check_threads = 8;  // copies checked with their providers at once
};

class Cache {
 public:
  // Asks a copy's provider whether it still has it (Resolver::CheckCopy): Ok when it does.
  // Called from several threads at once.
  using CopyCheck = std::function<Status(const storage::CacheCopy&)>;

  // Borrows everything; `registry` may be null (see the header comment). With `check`, an
  // eviction pass evicts a blob only after a provider confirmed one of its copies.
  Cache(storage::Store& store, blob::BlobStore& blobs, const providers::ProviderRegistry* registry,
        const Clock& clock, CopyCheck check = nullptr, CacheOptions options = {});

  // Errors: the store's.
  Result<CacheStatus> GetStatus(std::optional<std::int64_t> budget);
  // Evicts least recently accessed evictable blobs until the local bytes are within `budget`
  // (kInvalidArgument when negative). A dry run decides without changing anything.
  // `cancelled` is checked between batches and before each copy is checked (from several
  // threads at once). Errors: the store's and the blob store's.
  Result<EvictionReport> Evict(std::int64_t budget, bool dry_run,
                               const std::function<bool()>& cancelled = nullptr);

 private:
  storage::CachePolicy Policy() const;
  // Per pass: failed checks that hold for the whole account (cache.cc, AccountFailure) per
  // (provider, account) since its last success.
  struct CheckState {
    std::mutex mu;
    std::map<std::pair<std::string, std::int64_t>, int> failing;
    std::function<bool()> cancelled;  // the pass's; checked before each copy
    std::atomic<bool> stop{false};    // the pass failed: ask nothing more
  };
  struct Verification {
    std::vector<std::string> blobs;  // those one of whose copies its provider confirmed
    std::int64_t unverified = 0;     // the others
    std::string first_error;         // why the first of them was not
  };
  // Checks the copies of `batch` (any thread; `state` is shared by a pass's batches).
  Result<Verification> Verified(const std::vector<std::string>& batch,
                                const storage::CachePolicy& policy, CheckState& state);

  storage::Store& store_;
  blob::BlobStore& blobs_;
  const providers::ProviderRegistry* registry_;
  const Clock& clock_;
  CopyCheck check_;
  CacheOptions options_;
};

// Puts an asset's bytes back in the blob store for a reader when they are not there: fetches
// them back through `resolver` (kUnavailable when it is null or no provider has them). Their
// assets stay `remote` (so no eviction pass takes them) until the reader, holding the file
// open, marks them `downloaded` again (Store::MarkBlobLocal). kUnavailable for an asset
// without bytes yet.
Status FetchBackBytes(blob::BlobStore& blobs, Resolver* resolver, const Asset& asset);

// "1048576", "500M", "10G", "1.5T", "64KiB": bytes, with binary (1024-based) suffixes K, M, G,
// T (optionally followed by "B" or "iB"). kInvalidArgument otherwise or above 2^63.
Result<std::int64_t> ParseByteSize(std::string_view text);

// Enqueues an eviction pass to `budget` bytes, one per `interval` bucket of the clock: several
// processes on one database enqueue the same idempotency key, so one pass runs per bucket.
Result<Job> EnqueueEviction(storage::Store& store, const Clock& clock, std::int64_t budget,
                            Timestamp interval);
// Runs kEvictJobKind jobs (payload {"budget": N}) with `cache`, which must outlive the pool.
void RegisterEvictionJob(WorkerPool& pool, Cache& cache);

}  // namespace pixvault::service
