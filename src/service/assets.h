// Asset use cases that combine the store and the blob store: deletion with byte
// collection, and the consistency check between database rows and blob files (fsck).
//
// Thread-safe; borrows the store, blob store and clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "blob/derived_files.h"
#include "core/clock.h"
#include "core/model.h"
#include "storage/store.h"

namespace pixvault::service {

// Deletes an asset. Its bytes are removed from disk only when no other asset uses them
// (the blob row and the file go together in one transaction); their derived files
// (thumbnails, previews) go with them when `derived` is given.
Result<Asset> DeleteAsset(storage::Store& store, blob::BlobStore& blobs, const Viewer& viewer,
                          AssetId id, const blob::DerivedFiles* derived = nullptr);

struct FsckOptions {
  bool repair = false;
  // Re-hash every blob file (slow: reads every byte).
  bool verify_content = false;
  // Files and temp files younger than this are left alone: an ingest may be publishing them.
  Timestamp grace = 10 * 60 * kMicrosPerSecond;
  // The derived files (thumbnails, previews) beside the blobs, checked too when given.
  const blob::DerivedFiles* derived = nullptr;
};

struct FsckReport {
  std::int64_t blobs_checked = 0;
  std::vector<std::string> missing_files;      // blob rows (or assets) whose file is gone
  std::vector<std::string> orphan_files;       // files with no blob row
  std::vector<std::string> corrupt_files;      // content does not match the name
  std::vector<std::string> unreferenced_rows;  // blob rows no asset uses
  std::vector<std::string> stray_paths;        // files in the blob tree that are not blobs
  std::int64_t evicted_blobs = 0;              // files evicted from the local cache (not a fault)
  std::int64_t refcounts_fixed = 0;
  std::int64_t assets_marked_error = 0;  // assets whose bytes are missing (repair)
  std::int64_t orphans_removed = 0;
  std::int64_t rows_removed = 0;
  // Derived files of bytes that no longer exist (no blob row: a crash between deleting the
  // bytes and their derived files), stale temp files of derived writes, anything else there.
  std::vector<std::string> derived_orphans;
  std::int64_t derived_temps = 0;
  std::vector<std::string> derived_strays;
  std::int64_t derived_removed = 0;  // orphans and temps removed (repair)
  bool clean() const {
    return missing_files.empty() && orphan_files.empty() && corrupt_files.empty() &&
           unreferenced_rows.empty() && refcounts_fixed == 0 && derived_orphans.empty();
  }
};

Result<FsckReport> Fsck(storage::Store& store, blob::BlobStore& blobs, const Clock& clock,
                        const FsckOptions& options);

}  // namespace pixvault::service
