#include "storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace pixvault::storage::sql {
namespace {

Error SqliteError(sqlite3* db, int rc, std::string_view context) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = std::string(context) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  ErrorCode code = ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      code = (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
                 ? ErrorCode::kAlreadyExists
                 : ErrorCode::kInvalidArgument;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
      code = ErrorCode::kUnavailable;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = ErrorCode::kCorrupt;
      break;
    default:
      break;
  }
  return Error{code, std::move(msg)};
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    cache_.clear();
    sqlite3_close_v2(db_);
  }
  Dialect dialect() const override { return Dialect::kSqlite; }

  using Connection::Query;
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    PV_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    // Reset on every exit so the cached statement releases its read snapshot.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return Fail(ErrorCode::kInternal, "parameter count mismatch for: " + std::string(sql));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return sqlite3_bind_null(stmt, idx);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              return sqlite3_bind_int64(stmt, idx, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(stmt, idx, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
              return sqlite3_bind_text64(stmt, idx, v.data(), v.size(), SQLITE_TRANSIENT,
                                         SQLITE_UTF8);
            } else if constexpr (std::is_same_v<T, Bytes>) {
              return sqlite3_bind_blob64(stmt, idx, v.data.data(), v.data.size(), SQLITE_TRANSIENT);
            } else {
              return sqlite3_bind_int64(stmt, idx, v ? 1 : 0);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) return Fail(SqliteError(db_, rc, "bind"));
    }
    int ncol = sqlite3_column_count(stmt);
    std::vector<std::string> columns;
    columns.reserve(static_cast<std::size_t>(ncol));
    for (int c = 0; c < ncol; ++c) columns.emplace_back(sqlite3_column_name(stmt, c));
    std::vector<std::vector<Value>> rows;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Fail(SqliteError(db_, rc, "query"));
      std::vector<Value> row;
      row.reserve(static_cast<std::size_t>(ncol));
      for (int c = 0; c < ncol; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_TEXT: {
            auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            row.emplace_back(
                std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
            break;
          }
          case SQLITE_BLOB: {
            auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
            row.emplace_back(Bytes{p ? std::string(p, n) : std::string()});
            break;
          }
          default:
            row.emplace_back(std::monostate{});
        }
      }
      rows.push_back(std::move(row));
    }
    return Rows(std::move(columns), std::move(rows));
  }

  std::int64_t Changes() override { return sqlite3_changes64(db_); }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      Error e = SqliteError(db_, rc, "script");
      e.message = "script: " + msg;
      return Fail(std::move(e));
    }
    return Ok();
  }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) return it->second.get();
    std::string key(sql);
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return Fail(SqliteError(db_, rc, "prepare"));
    }
    if (raw == nullptr) return Fail(ErrorCode::kInternal, "empty statement");
    // Query runs exactly one statement; anything after it would be silently ignored.
    for (const char* p = tail; p && p < key.data() + key.size(); ++p) {
      if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
        sqlite3_finalize(raw);
        return Fail(ErrorCode::kInternal, "Query got several statements; use ExecScript");
      }
    }
    sqlite3_stmt* out = raw;
    cache_.emplace(std::move(key), StmtPtr(raw));
    return out;
  }

  sqlite3* db_;
  std::map<std::string, StmtPtr, std::less<>> cache_;
};

// SQLite's memory statistics put one process-wide mutex around every allocation it makes,
// which serialises all reader connections on a busy server. pixvault never reads those
// statistics. The setting only takes before SQLite initialises, hence once, before the
// first connection; if the process initialised SQLite already it stays as it was.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

Result<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& path,
                                                         const DatabaseOptions& options) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Fail(ErrorCode::kUnavailable, "cannot open SQLite database '" + path + "': " + msg);
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  // No memory-mapped I/O (mmap_size=0): in WAL mode a connection drops its whole mapping
  // (munmap, then page faults to map it again) at the start of every read transaction after
  // any commit, so on a server that writes while it reads, mapping cost more than it saved:
  // 12% of the CPU of first-time resolves went to munmap and its TLB shootdowns. Pages are
  // read with pread into the connection's page cache instead. Measured (docs/benchmarks.md,
  // notes): a read-only list page over 100,000 assets ~10% slower, GET by id ~15% faster,
  // first-time resolves ~20% less server CPU.
  PV_RETURN_IF_ERROR(conn->ExecScript(
      "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
      "PRAGMA mmap_size=0;"));
  if (path != ":memory:") {
    // journal_mode=WAL needs a write lock the first time; the busy timeout covers races.
    auto wal = conn->Query("PRAGMA journal_mode=WAL");
    if (!wal) return Fail(WithContext(wal.error(), "enable WAL on '" + path + "'"));
  }
  // Touch the schema so a file that is not a database fails here, not on first use.
  auto probe = conn->Query("SELECT count(*) FROM sqlite_schema");
  if (!probe) return Fail(WithContext(probe.error(), "open '" + path + "'"));
  return conn;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, DatabaseOptions options,
                 std::unique_ptr<SqliteConnection> writer)
      : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Status Read(const Work& work) override {
    if (path_ == ":memory:") {
      std::lock_guard lock(writer_mu_);
      return work(*writer_);
    }
    PV_ASSIGN_OR_RETURN(auto conn, AcquireReader());
    Status st = work(*conn);
    ReleaseReader(std::move(conn));
    return st;
  }

  Status Transaction(const Work& work) override {
    std::lock_guard lock(writer_mu_);
    Status last = Ok();
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto begin = writer_->Query("BEGIN IMMEDIATE");
      if (!begin) {
        last = Fail(begin.error());
        if (begin.error().code == ErrorCode::kUnavailable) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
          continue;
        }
        return last;
      }
      Status st = work(*writer_);
      if (!st) {
        (void)writer_->Query("ROLLBACK");
        return st;
      }
      auto commit = writer_->Query("COMMIT");
      if (!commit) {
        (void)writer_->Query("ROLLBACK");
        return Fail(commit.error());
      }
      return Ok();
    }
    return last;
  }

 private:
  Result<std::unique_ptr<SqliteConnection>> AcquireReader() {
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        auto c = std::move(readers_.back());
        readers_.pop_back();
        return c;
      }
    }
    return OpenConnection(path_, options_);
  }
  void ReleaseReader(std::unique_ptr<SqliteConnection> conn) {
    std::lock_guard lock(pool_mu_);
    if (static_cast<int>(readers_.size()) < options_.pool_size) readers_.push_back(std::move(conn));
  }

  std::string path_;
  DatabaseOptions options_;
  std::mutex writer_mu_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                     const DatabaseOptions& options) {
  PV_ASSIGN_OR_RETURN(auto writer, OpenConnection(path, options));
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(path, options, std::move(writer)));
}

}  // namespace pixvault::storage::sql
