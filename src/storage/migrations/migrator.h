// Applies and reverts the numbered schema migrations embedded in the binary.
//
// Each migration runs in its own transaction together with its `schema_migrations` row, so
// a failure leaves the schema at the previous version. On PostgreSQL an advisory lock makes
// concurrent upgrades from several processes safe. Thread-safe as far as the Database is.
// Errors: kInvalidArgument for an unknown or negative target, kCorrupt when the database
// records a version this binary does not know, plus whatever the database reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "storage/sql/database.h"

namespace pixvault::storage {

struct Migration {
  std::int64_t version = 0;
  std::string name;
  std::string_view up;
  std::string_view down;
};

struct MigrationState {
  std::int64_t version = 0;
  std::string name;
  bool applied = false;
  std::optional<Timestamp> applied_at;
};

// The migrations of one dialect, ordered by version.
const std::vector<Migration>& MigrationsFor(sql::Dialect dialect);

class Migrator {
 public:
  Migrator(sql::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<std::int64_t> CurrentVersion();
  std::int64_t LatestVersion() const;
  Result<std::vector<MigrationState>> List();
  // Applies every migration up to `target` (default: the latest). Returns the versions
  // applied, in order.
  Result<std::vector<std::int64_t>> Upgrade(std::optional<std::int64_t> target = std::nullopt);
  // Reverts migrations down to `target` (0 = empty schema). Returns the versions reverted.
  Result<std::vector<std::int64_t>> Downgrade(std::int64_t target);

 private:
  Status EnsureTable();
  sql::Database& db_;
  const Clock& clock_;
};

}  // namespace pixvault::storage
