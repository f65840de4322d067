// A synthetic catalogue for the store benchmark, bulk-loaded through the sql layer.
//
// Shape (k = 0..assets-1, asset id = first_id + k, one user, created_at one second apart):
//   content_category  "cat" + k % categories
//   content_rating    by (k / categories) % 100, independent of the category: general 70%,
//                     mature 20%, adult 7%, explicit 3%; adult and explicit are age_restricted
//   searchable        false for k % 97 == 0
//   tags              tags_per_asset rows of kind 'tag': "tag" + (k + j * 337) % tag_count,
//                     so every tag is on assets / tag_count * tags_per_asset assets, spread
//                     evenly over time; user_id and created_at copied from the asset as
//                     the store's WriteTags does (migration 0005), and each asset's
//                     tag_list rebuilt from them (migration 0009)
//   sha256            NULL (sync_status 'remote', upload_method 'provider'): no blob rows
//   lineage           chains of kChainLength assets (edge child = id, parent = id - 1),
//                     then, until `edges` edges exist, "reference" edges from the last asset
//                     of each chain to the 6th of the previous chain (next round: from the
//                     second-to-last to the 7th, ...). The last asset of every full chain has
//                     ancestors down to depth kChainLength - 1 (50).
// Rows are generated server-side (a recursive CTE in SQLite, generate_series in
// PostgreSQL) in chunks of one transaction each, then the database is analyzed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "storage/sql/database.h"

namespace pixvault::bench {

inline constexpr std::int64_t kChainLength = 51;  // assets per chain: 50 edges deep

struct CatalogShape {
  std::int64_t assets = 1'000'000;
  std::int64_t edges = 1'000'000;
  std::int64_t categories = 100;
  std::int64_t tag_count = 1000;
  std::int64_t tags_per_asset = 3;
  std::int64_t chunk = 100'000;  // rows per INSERT and transaction
};

// What a loaded catalogue looks like, read back from the database.
struct CatalogInfo {
  std::int64_t user_id = 0;
  std::int64_t first_id = 0;  // the asset with k = 0
  std::int64_t assets = 0;
  std::int64_t tags = 0;
  std::int64_t edges = 0;
};

// Inserts the catalogue for `user_id` (assets, tags, lineage) and analyzes the database.
// `progress` receives one line per finished step. Errors are the sql layer's.
Status LoadCatalog(storage::sql::Database& db, std::int64_t user_id, const CatalogShape& shape,
                   const std::function<void(const std::string&)>& progress);

// Counts what is loaded for `user_id`.
Result<CatalogInfo> InspectCatalog(storage::sql::Database& db, std::int64_t user_id);

}  // namespace pixvault::bench
