// A minimal SQL access layer shared by the SQLite and PostgreSQL drivers.
//
// SQL text uses `?` placeholders in both dialects (the PostgreSQL driver rewrites them to
// `$n`). Values are typed: integers are BIGINT, reals DOUBLE PRECISION, text TEXT (or JSONB
// in PostgreSQL, inferred from context), bytes BLOB/BYTEA, booleans BOOLEAN (0/1 in SQLite).
// Booleans come back from queries as integers 0/1 in both dialects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"

namespace pixvault::storage::sql {

enum class Dialect { kSqlite, kPostgres };

struct Bytes {
  std::string data;  // raw bytes
  bool operator==(const Bytes&) const = default;
};

// std::monostate is SQL NULL.
using Value = std::variant<std::monostate, std::int64_t, double, std::string, Bytes, bool>;

// Query results, fully materialised. Column lookup by name is case-sensitive. Not
// thread-safe, even for reading (Column keeps a lookup hint): one thread reads a Rows.
class Rows {
 public:
  Rows() = default;
  Rows(std::vector<std::string> columns, std::vector<std::vector<Value>> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Value>& row(std::size_t i) const { return rows_[i]; }
  // Index of a column; aborts if absent (a programming error, never user input).
  std::size_t Column(std::string_view name) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Value>> rows_;
  mutable std::size_t hint_ = 0;  // where Column looks first
};

// Typed access to one row by column name. Missing or mistyped columns are programming
// errors and abort; NULL maps to std::nullopt in the optional getters.
class RowView {
 public:
  RowView(const Rows& rows, std::size_t index) : rows_(&rows), index_(index) {}
  bool IsNull(std::string_view col) const;
  std::int64_t Int(std::string_view col) const;
  double Real(std::string_view col) const;
  std::string Text(std::string_view col) const;
  std::string Blob(std::string_view col) const;
  bool Bool(std::string_view col) const;
  std::optional<std::int64_t> OptInt(std::string_view col) const;
  std::optional<double> OptReal(std::string_view col) const;
  std::optional<std::string> OptText(std::string_view col) const;
  std::optional<bool> OptBool(std::string_view col) const;

 private:
  const Value& Get(std::string_view col) const;
  const Rows* rows_;
  std::size_t index_;
};

// One open database connection. Not thread-safe: a connection is used by one thread at a
// time (the Database hands it out). Errors: kAlreadyExists for unique violations,
// kInvalidArgument for constraint/foreign-key violations, kUnavailable for a lost or busy
// connection, kInternal for anything else.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement with bound parameters and returns its rows (empty for DML without
  // RETURNING).
  virtual Result<Rows> Query(std::string_view sql, std::span<const Value> params) = 0;
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {}) {
    return Query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // Number of rows changed by the last statement.
  virtual std::int64_t Changes() = 0;
  // Runs a script of several statements without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
};

// A pool of connections to one database. Thread-safe.
class Database {
 public:
  using Work = std::function<Status(Connection&)>;
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  // Runs `work` on a connection without a transaction (single statements, reads).
  virtual Status Read(const Work& work) = 0;
  // Runs `work` inside a write transaction; commits when it returns ok, rolls back
  // otherwise. SQLite serialises writers (BEGIN IMMEDIATE); PostgreSQL uses READ COMMITTED
  // and row locks. A transaction that hits a serialization/deadlock error is retried a few
  // times before kUnavailable is returned, so `work` must be safe to re-run.
  virtual Status Transaction(const Work& work) = 0;
};

// "sqlite:///abs/path.db", "sqlite://relative.db", "sqlite::memory:", "postgresql://...",
// "postgres://...". Errors: kInvalidArgument for an unknown scheme, kUnavailable when the
// server cannot be reached.
struct DatabaseOptions {
  int pool_size = 4;
  int busy_timeout_ms = 10000;
};
Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url,
                                               const DatabaseOptions& options = {});

}  // namespace pixvault::storage::sql
