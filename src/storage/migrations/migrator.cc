#include "storage/migrations/migrator.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "storage/migrations/embedded.h"

namespace pixvault::storage {
namespace {

// An arbitrary constant that names pixvault's migration lock among advisory locks.
constexpr std::int64_t kMigrationLockKey = 0x70697876'6d696772;  // "pixvmigr"

std::vector<Migration> Build(std::string_view dialect) {
  std::map<std::int64_t, Migration> by_version;
  for (const EmbeddedSqlFile& f : EmbeddedMigrationFiles()) {
    if (f.dialect != dialect) continue;
    // "0001_core.up.sql"
    std::int64_t version = 0;
    auto [ptr, ec] = std::from_chars(f.name.data(), f.name.data() + f.name.size(), version);
    std::string_view rest(ptr, static_cast<std::size_t>(f.name.data() + f.name.size() - ptr));
    bool up = rest.ends_with(".up.sql");
    std::string_view name = rest.substr(1, rest.size() - (up ? 7 : 9) - 1);
    Migration& m = by_version[version];
    m.version = version;
    m.name = std::string(name);
    (up ? m.up : m.down) = f.sql;
  }
  std::vector<Migration> out;
  for (auto& [v, m] : by_version) out.push_back(m);
  return out;
}

}  // namespace

const std::vector<Migration>& MigrationsFor(sql::Dialect dialect) {
  static const std::vector<Migration> kSqlite = Build("sqlite");
  static const std::vector<Migration> kPostgres = Build("postgres");
  return dialect == sql::Dialect::kSqlite ? kSqlite : kPostgres;
}

std::int64_t Migrator::LatestVersion() const {
  const auto& all = MigrationsFor(db_.dialect());
  return all.empty() ? 0 : all.back().version;
}

Status Migrator::EnsureTable() {
  return db_.Transaction([](sql::Connection& c) -> Status {
    auto r = c.Query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    if (!r) return Fail(r.error());
    return Ok();
  });
}

Result<std::vector<MigrationState>> Migrator::List() {
  PV_RETURN_IF_ERROR(EnsureTable());
  std::vector<MigrationState> out;
  for (const Migration& m : MigrationsFor(db_.dialect()))
    out.push_back({m.version, m.name, false, {}});
  Status st = db_.Read([&](sql::Connection& c) -> Status {
    PV_ASSIGN_OR_RETURN(auto rows,
                        c.Query("SELECT version, name, applied_at FROM schema_migrations"));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      sql::RowView r(rows, i);
      auto it = std::find_if(out.begin(), out.end(), [&](const MigrationState& s) {
        return s.version == r.Int("version");
      });
      if (it == out.end()) {
        return Fail(ErrorCode::kCorrupt,
                    "database has migration " + std::to_string(r.Int("version")) + " (" +
                        r.Text("name") +
                        ") that this pixvault binary does not know; upgrade pixvault");
      }
      it->applied = true;
      it->applied_at = r.Int("applied_at");
    }
    return Ok();
  });
  if (!st) return Fail(st.error());
  return out;
}

Result<std::int64_t> Migrator::CurrentVersion() {
  PV_ASSIGN_OR_RETURN(auto states, List());
  std::int64_t v = 0;
  for (const auto& s : states) {
    if (s.applied) v = std::max(v, s.version);
  }
  return v;
}

Result<std::vector<std::int64_t>> Migrator::Upgrade(std::optional<std::int64_t> target) {
  std::int64_t to = target.value_or(LatestVersion());
  if (to < 0 || to > LatestVersion()) {
    return Fail(ErrorCode::kInvalidArgument, "no migration " + std::to_string(to) +
                                                 " (versions 0.." +
                                                 std::to_string(LatestVersion()) + ")");
  }
  PV_RETURN_IF_ERROR(EnsureTable());
  std::vector<std::int64_t> applied;
  for (const Migration& m : MigrationsFor(db_.dialect())) {
    if (m.version > to) break;
    bool ran = false;
    Status st = db_.Transaction([&](sql::Connection& c) -> Status {
      ran = false;
      if (c.dialect() == sql::Dialect::kPostgres) {
        PV_RETURN_IF_ERROR(c.Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}));
      }
      PV_ASSIGN_OR_RETURN(
          auto rows, c.Query("SELECT 1 FROM schema_migrations WHERE version = ?", {m.version}));
      if (!rows.empty()) return Ok();
      auto script = c.ExecScript(m.up);
      if (!script) return Fail(WithContext(script.error(), "migration " + m.name + " up"));
      PV_RETURN_IF_ERROR(
          c.Query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                  {m.version, m.name, clock_.Now()}));
      ran = true;
      return Ok();
    });
    if (!st) return Fail(st.error());
    if (ran) applied.push_back(m.version);
  }
  return applied;
}

Result<std::vector<std::int64_t>> Migrator::Downgrade(std::int64_t target) {
  if (target < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot downgrade below version 0 (asked for " + std::to_string(target) + ")");
  }
  if (target > LatestVersion()) {
    return Fail(ErrorCode::kInvalidArgument, "no migration " + std::to_string(target));
  }
  PV_RETURN_IF_ERROR(EnsureTable());
  std::vector<std::int64_t> reverted;
  const auto& all = MigrationsFor(db_.dialect());
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const Migration& m = *it;
    if (m.version <= target) break;
    bool ran = false;
    Status st = db_.Transaction([&](sql::Connection& c) -> Status {
      ran = false;
      if (c.dialect() == sql::Dialect::kPostgres) {
        PV_RETURN_IF_ERROR(c.Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}));
      }
      PV_ASSIGN_OR_RETURN(
          auto rows, c.Query("SELECT 1 FROM schema_migrations WHERE version = ?", {m.version}));
      if (rows.empty()) return Ok();
      auto script = c.ExecScript(m.down);
      if (!script) return Fail(WithContext(script.error(), "migration " + m.name + " down"));
      PV_RETURN_IF_ERROR(c.Query("DELETE FROM schema_migrations WHERE version = ?", {m.version}));
      ran = true;
      return Ok();
    });
    if (!st) return Fail(st.error());
    if (ran) reverted.push_back(m.version);
  }
  return reverted;
}

}  // namespace pixvault::storage
