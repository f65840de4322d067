#include "service/assets.h"

#include <sys/stat.h>
#include <algorithm>

#include <filesystem>
#include <map>
#include <set>

namespace pixvault::service {

Result<Asset> DeleteAsset(storage::Store& store, blob::BlobStore& blobs, const Viewer& viewer,
                          AssetId id, const blob::DerivedFiles* derived) {
  PV_ASSIGN_OR_RETURN(Asset deleted, store.DeleteAsset(viewer, id));
  if (deleted.sha256) {
    const std::string sha = *deleted.sha256;
    auto gone = store.DeleteUnreferencedBlob(sha, [&] { return blobs.Remove(sha); });
    // The asset is gone either way; unreferenced bytes left behind are fsck's to collect, and
    // derived files left behind are only a cache.
    if (gone && *gone && derived != nullptr) (void)derived->RemoveAll(sha);
  }
  return deleted;
}

namespace {

Timestamp FileMtime(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return static_cast<Timestamp>(st.st_mtim.tv_sec) * kMicrosPerSecond + st.st_mtim.tv_nsec / 1000;
}

// Whether the blob's assets are all `remote` (at least one): evicted, not lost.
Result<bool> IsEvicted(storage::Store& store, const std::string& sha256) {
  const Viewer admin{0, true, true};
  storage::AssetFilter f;
  f.sha256 = sha256;
  f.include_unsearchable = true;
  f.sync_status = SyncStatus::kRemote;
  PV_ASSIGN_OR_RETURN(const std::int64_t remote, store.CountAssets(admin, f));
  if (remote == 0) return false;
  f.sync_status.reset();
  PV_ASSIGN_OR_RETURN(const std::int64_t all, store.CountAssets(admin, f));
  return all == remote;
}

}  // namespace

Result<FsckReport> Fsck(storage::Store& store, blob::BlobStore& blobs, const Clock& clock,
                        const FsckOptions& options) {
  FsckReport report;
  const Timestamp now = clock.Now();

  // 1. Blob rows: does each have its file? Is it referenced?
  std::string after;
  for (;;) {
    PV_ASSIGN_OR_RETURN(auto page, store.ListBlobs(after, 1000));
    if (page.empty()) break;
    for (const Blob& b : page) {
      ++report.blobs_checked;
      PV_ASSIGN_OR_RETURN(bool exists, blobs.Exists(b.sha256));
      if (!exists) {
        // Bytes evicted from the local cache (service/cache.h) are absent on purpose: their
        // assets are all `remote`, and a reader fetches them back.
        PV_ASSIGN_OR_RETURN(const bool evicted, IsEvicted(store, b.sha256));
        if (evicted) {
          ++report.evicted_blobs;
        } else {
          report.missing_files.push_back(b.sha256);
        }
      } else if (options.verify_content) {
        auto verified = blobs.Verify(b.sha256);
        if (!verified && verified.error().code == ErrorCode::kCorrupt) {
          report.corrupt_files.push_back(b.sha256);
        } else if (!verified) {
          return Fail(verified.error());
        }
      }
    }
    after = page.back().sha256;
  }

  // 2. Refcounts follow the assets that point at each blob.
  if (options.repair) {
    PV_ASSIGN_OR_RETURN(report.refcounts_fixed, store.RepairBlobRefcounts());
  }

  // 3. Blob rows that no asset uses (a crash between deleting an asset and its bytes).
  after.clear();
  std::set<std::string> referenced;
  for (;;) {
    PV_ASSIGN_OR_RETURN(auto page, store.ListReferencedSha256(after, 1000));
    if (page.empty()) break;
    referenced.insert(page.begin(), page.end());
    after = page.back();
  }
  after.clear();
  for (;;) {
    PV_ASSIGN_OR_RETURN(auto page, store.ListBlobs(after, 1000));
    if (page.empty()) break;
    for (const Blob& b : page) {
      if (referenced.count(b.sha256)) continue;
      report.unreferenced_rows.push_back(b.sha256);
      if (options.repair) {
        PV_ASSIGN_OR_RETURN(bool removed, store.DeleteUnreferencedBlob(
                                              b.sha256, [&] { return blobs.Remove(b.sha256); }));
        report.rows_removed += removed ? 1 : 0;
      }
    }
    after = page.back().sha256;
  }

  // 4. Files without rows (a crash between publishing bytes and committing the asset).
  std::vector<std::string> files;
  PV_RETURN_IF_ERROR(blobs.ForEach(
      [&](std::string_view sha, std::int64_t) -> Status {
        files.emplace_back(sha);
        return Ok();
      },
      [&](const std::filesystem::path& p) { report.stray_paths.push_back(p.string()); }));
  for (const std::string& sha : files) {
    auto row = store.GetBlob(sha);
    if (row) continue;
    if (row.error().code != ErrorCode::kNotFound) return Fail(row.error());
    if (now - FileMtime(blobs.PathFor(sha)) < options.grace) continue;  // maybe in flight
    report.orphan_files.push_back(sha);
    if (options.repair) {
      // Re-check: an ingest may have committed since. The grace period covers one that is
      // between publishing the file and committing its row.
      if (!store.GetBlob(sha)) {
        PV_RETURN_IF_ERROR(blobs.Remove(sha));
        ++report.orphans_removed;
      }
    }
  }

  // 5. Assets whose bytes are gone are marked so they show as broken, and stale temp files
  //    are collected.
  if (options.repair) {
    for (const std::string& sha : report.missing_files) {
      storage::AssetFilter f;
      f.sha256 = sha;
      f.include_unsearchable = true;
      Viewer admin{0, true, true};
      std::optional<std::string> cursor;
      do {
        PV_ASSIGN_OR_RETURN(auto page,
                            store.ListAssets(admin, f, storage::PageRequest{200, cursor}));
        for (const Asset& a : page.items) {
          if (a.sync_status == SyncStatus::kError) continue;
          AssetPatch p;
          p.sync_status = SyncStatus::kError;
          PV_RETURN_IF_ERROR(store.UpdateAsset(admin, a.id, p));
          ++report.assets_marked_error;
        }
        cursor = page.next_cursor;
      } while (cursor);
    }
    PV_RETURN_IF_ERROR(blobs.CleanTemp(now - options.grace));
  }

  // 6. Derived files follow the bytes: those of bytes that no longer exist, and temp files a
  //    crash left, are collected (after the grace period: a render may be writing them).
  if (options.derived != nullptr) {
    std::map<std::string, bool, std::less<>> known;  // sha256 -> has a blob row
    PV_RETURN_IF_ERROR(options.derived->ForEach(
        [&](std::string_view sha, const std::filesystem::path& path, bool temp) -> Status {
          if (now - FileMtime(path) < options.grace) return Ok();
          bool stale = temp;
          if (!temp) {
            auto it = known.find(sha);
            if (it == known.end()) {
              auto row = store.GetBlob(sha);
              if (!row && row.error().code != ErrorCode::kNotFound) return Fail(row.error());
              it = known.emplace(std::string(sha), row.has_value()).first;
            }
            if (it->second) return Ok();
            report.derived_orphans.push_back(path.string());
            stale = true;
          } else {
            ++report.derived_temps;
          }
          if (stale && options.repair) {
            std::error_code ec;
            if (std::filesystem::remove(path, ec)) ++report.derived_removed;
            if (ec) {
              return Fail(ErrorCode::kUnavailable, "remove " + path.string() + ": " + ec.message());
            }
          }
          return Ok();
        },
        [&](const std::filesystem::path& p) { report.derived_strays.push_back(p.string()); }));
  }
  return report;
}

}  // namespace pixvault::service
