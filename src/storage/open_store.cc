#include <filesystem>

#include "storage/migrations/migrator.h"
#include "storage/postgres/postgres_database.h"
#include "storage/sql_store.h"
#include "storage/sqlite/sqlite_database.h"

namespace pixvault::storage {

bool IsDatabaseServerUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

namespace sql {

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url,
                                               const DatabaseOptions& options) {
  if (IsDatabaseServerUrl(url)) return OpenPostgresDatabase(std::string(url), options);
  if (url == "sqlite::memory:") return OpenSqliteDatabase(":memory:", options);
  if (url.starts_with("sqlite://")) {
    std::string path(url.substr(9));  // sqlite:///abs -> /abs ; sqlite://rel -> rel
    if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "sqlite URL has no path");
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      return Fail(ErrorCode::kUnavailable, "cannot open SQLite database '" + path + "': folder " +
                                               parent.string() + " does not exist");
    }
    return OpenSqliteDatabase(path, options);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unsupported database URL '" + std::string(url.substr(0, url.find(':'))) +
                  ":...' (use sqlite:///path/to/file.db or postgresql://...)");
}

}  // namespace sql

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Clock& clock,
                                         const StoreOptions& options) {
  sql::DatabaseOptions db_options;
  db_options.pool_size = options.pool_size;
  PV_ASSIGN_OR_RETURN(auto db, sql::OpenDatabase(url, db_options));
  if (options.migrate) {
    Migrator migrator(*db, clock);
    auto applied = migrator.Upgrade();
    if (!applied) return Fail(WithContext(applied.error(), "migrate database"));
  } else {
    Migrator migrator(*db, clock);
    PV_ASSIGN_OR_RETURN(std::int64_t version, migrator.CurrentVersion());
    if (version != migrator.LatestVersion()) {
      return Fail(ErrorCode::kUnavailable,
                  "database schema is at version " + std::to_string(version) +
                      ", this pixvault "
                      "needs " +
                      std::to_string(migrator.LatestVersion()) + "; run `pixvault db upgrade`");
    }
  }
  return std::unique_ptr<Store>(std::make_unique<SqlStore>(std::move(db), clock));
}

}  // namespace pixvault::storage
