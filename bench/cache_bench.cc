// The local cache's eviction pass (issue 5: "eviction pass over 100,000 cached blobs at most
// 10 s"), on SQLite or PostgreSQL, with real files in a blob store.
//
// Usage: cache_bench --db URL --dir DIR [--blobs N] [--keep PERCENT]
//
// Loads N local blobs (a small real file each, one asset each, last accessed in a scrambled
// order): 95% have an `uploaded` copy at the provider "cdn" (a folder provider in the
// registry, whose files are there), 5% are the only copy, and 2% are pinned. Then times (1)
// `service::Cache::GetStatus`, the one-query scan behind `pixvault cache status`, and (2) one
// `service::Cache::Evict` pass down to PERCENT (default 10) of the local bytes, built as the
// server builds it: the scan, the LRU choice, and for every batch the listing of its copies,
// each copy checked with its provider (`Resolver::CheckCopy`: the account's credentials
// opened, the folder asked), the locked re-check, `remote` marking and unlinking. Prints one
// JSON line.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "blob/env.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "providers/folder_provider.h"
#include "service/cache.h"
#include "service/credentials.h"
#include "service/provider_accounts.h"
#include "service/resolver.h"
#include "storage/sql/database.h"
#include "storage/store.h"

namespace pv = pixvault;
using pv::storage::sql::Value;

namespace {

int Die(const std::string& what) {
  std::cerr << "cache_bench: " << what << "\n";
  return 1;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, dir;
  std::int64_t n = 100'000, keep_percent = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--db")
      url = argv[i + 1];
    else if (flag == "--dir")
      dir = argv[i + 1];
    else if (flag == "--blobs")
      n = std::stoll(argv[i + 1]);
    else if (flag == "--keep")
      keep_percent = std::stoll(argv[i + 1]);
    else
      return Die("unknown flag " + flag);
  }
  if (url.empty() || dir.empty()) return Die("usage: cache_bench --db URL --dir DIR [--blobs N]");

  pv::SystemClock clock;
  auto store = pv::storage::OpenStore(url, clock);
  if (!store) return Die(store.error().message);
  auto db = pv::storage::sql::OpenDatabase(url);
  if (!db) return Die(db.error().message);
  pv::blob::PosixEnv env;
  auto blobs = pv::blob::FsBlobStore::Create(env, std::filesystem::path(dir) / "data");
  if (!blobs) return Die(blobs.error().message);

  pv::User u;
  u.name = "cache-bench";
  auto user = (*store)->CreateUser(u);
  if (!user) return Die(user.error().message);
  auto cipher = pv::service::CredentialCipher::FromHex(std::string(64, '7'));
  if (!cipher) return Die(cipher.error().message);
  pv::service::NewProviderAccount a;
  a.provider_id = "cdn";
  a.label = "bench";
  a.credentials = boost::json::object{{"api_key", "bench"}};
  auto account = pv::service::AddProviderAccount(**store, *cipher, user->id, a);
  if (!account) return Die(account.error().message);

  // Blobs and assets, 250 rows per statement, one transaction per 5,000.
  const auto load_start = std::chrono::steady_clock::now();
  std::vector<std::string> hashes;
  hashes.reserve(static_cast<std::size_t>(n));
  const std::int64_t size = 64;
  for (std::int64_t k = 0; k < n; ++k) {
    std::string content = "cache-bench blob " + std::to_string(k);
    content.resize(static_cast<std::size_t>(size), '.');
    hashes.push_back(pv::Sha256Hex(content));
    const std::filesystem::path path = (*blobs)->PathFor(hashes.back());
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  const std::int64_t now = clock.Now();
  for (std::int64_t begin = 0; begin < n; begin += 5000) {
    auto st = (*db)->Transaction([&](pv::storage::sql::Connection& c) -> pv::Status {
      for (std::int64_t b = begin; b < std::min(n, begin + 5000); b += 250) {
        const std::int64_t e = std::min(n, b + 250);
        std::string blob_sql =
            "INSERT INTO blobs (sha256, size_bytes, refcount, location, created_at) VALUES ";
        std::string asset_sql =
            "INSERT INTO assets (user_id, media_type, provider_id, upload_method, sync_status, "
            "sha256, file_size_bytes, created_at, updated_at, last_accessed_at) VALUES ";
        std::vector<Value> bp, ap;
        for (std::int64_t k = b; k < e; ++k) {
          const char* sep = k == b ? "" : ", ";
          blob_sql += std::string(sep) + "(?, ?, 1, 'local', ?)";
          bp.insert(bp.end(), {hashes[static_cast<std::size_t>(k)], size, now});
          asset_sql +=
              std::string(sep) + "(?, 'image', 'user_upload', 'api', 'downloaded', ?, ?, ?, ?, ?)";
          // A scrambled access order, so LRU is not the insertion order.
          const std::int64_t accessed = 1'000'000 + (k * 7919) % n;
          ap.insert(ap.end(),
                    {user->id, hashes[static_cast<std::size_t>(k)], size, now + k, now, accessed});
        }
        PV_RETURN_IF_ERROR(c.Query(blob_sql, bp));
        PV_RETURN_IF_ERROR(c.Query(asset_sql, ap));
      }
      return pv::Ok();
    });
    if (!st) return Die(st.error().message);
  }
  auto copies = (*db)->Transaction([&](pv::storage::sql::Connection& c) -> pv::Status {
    PV_RETURN_IF_ERROR(c.Query(
        "INSERT INTO provider_uploads (asset_id, provider_id, account_id, provider_ref, status, "
        "uploaded_at, attempts, updated_at) SELECT id, 'cdn', ?, sha256, 'uploaded', ?, 1, ? "
        "FROM assets WHERE user_id = ? AND (created_at - ?) % 20 <> 0",
        {account->id, now, now, user->id, now}));
    PV_RETURN_IF_ERROR(c.Query(
        "INSERT INTO asset_pins (asset_id, pinned_by, pinned_at) SELECT id, ?, ? FROM assets "
        "WHERE user_id = ? AND (created_at - ?) % 50 = 1",
        {user->id, now, user->id, now}));
    PV_RETURN_IF_ERROR(c.Query("ANALYZE"));
    return pv::Ok();
  });
  if (!copies) return Die(copies.error().message);
  // The provider's files (a copy is the asset's hash, as the folder provider names them).
  const std::filesystem::path cdn = std::filesystem::path(dir) / "cdn";
  std::filesystem::create_directories(cdn);
  for (std::int64_t k = 0; k < n; ++k) {
    if (k % 20 != 0) std::ofstream(cdn / hashes[static_cast<std::size_t>(k)]) << "copy";
  }
  // A cache's files and rows were written long before an eviction pass: flush them now (not
  // timed), or the pass would contend with the writeback of the load (and, on PostgreSQL,
  // with its checkpoint) and measure the disk's backlog rather than the eviction.
  if (url.starts_with("postgres")) {
    auto checkpoint = (*db)->Read([](pv::storage::sql::Connection& c) -> pv::Status {
      PV_RETURN_IF_ERROR(c.Query("CHECKPOINT", {}));
      return pv::Ok();
    });
    if (!checkpoint) return Die(checkpoint.error().message);
  }
  ::sync();
  const double load_seconds = Seconds(load_start);

  pv::providers::FolderProviderOptions fo;
  fo.id = "cdn";
  fo.root = cdn;
  auto folder = pv::providers::FolderProvider::Open(fo);
  if (!folder) return Die(folder.error().message);
  pv::providers::ProviderRegistry registry;
  if (auto st = registry.Add(*folder); !st) return Die(st.error().message);
  pv::service::Resolver resolver(**store, **blobs, registry, *cipher, clock);
  pv::service::Cache cache(
      **store, **blobs, &registry, clock,
      [&resolver](const pv::storage::CacheCopy& copy) { return resolver.CheckCopy(copy); });

  const auto status_start = std::chrono::steady_clock::now();
  auto status = cache.GetStatus(std::nullopt);
  if (!status) return Die(status.error().message);
  const double status_seconds = Seconds(status_start);

  const std::int64_t budget = status->local_bytes * keep_percent / 100;
  const auto evict_start = std::chrono::steady_clock::now();
  auto report = cache.Evict(budget, false);
  if (!report) return Die(report.error().message);
  const double evict_seconds = Seconds(evict_start);

  std::int64_t files = 0;
  for (const auto& h : hashes) files += (*blobs)->Exists(h).value_or(true) ? 1 : 0;
  std::printf(
      "{\"backend\": \"%s\", \"blobs\": %lld, \"load_s\": %.3f, \"status_s\": %.3f, "
      "\"evictable_blobs\": %lld, \"budget\": %lld, \"evict_s\": %.3f, \"evicted_blobs\": %lld, "
      "\"files_left\": %lld, \"unverified_blobs\": %lld, \"over_budget\": %s}\n",
      url.starts_with("postgres") ? "postgres" : "sqlite", static_cast<long long>(n), load_seconds,
      status_seconds, static_cast<long long>(status->evictable_blobs),
      static_cast<long long>(budget), evict_seconds, static_cast<long long>(report->evicted_blobs),
      static_cast<long long>(files), static_cast<long long>(report->unverified_blobs),
      report->over_budget ? "true" : "false");
  return 0;
}
