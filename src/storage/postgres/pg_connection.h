// One libpq session wrapped as an sql::Connection. Internal to the PostgreSQL driver.
//
// Owns its PGconn (closed on destruction) and a cache of the statements it has prepared,
// keyed by SQL text and parameter types. Not thread-safe: used by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "storage/sql/database.h"

namespace pixvault::storage::sql {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// Maps a failed result (or a failure with no result: `res` may be null) to an Error.
// `context` prefixes the message.
Error PgError(PGconn* conn, const PGresult* res, std::string_view context);

class PgConnection final : public Connection {
 public:
  // Takes ownership of an established connection and prepares the session (notices off,
  // time zone UTC). Errors: kUnavailable if the session cannot be set up.
  static Result<std::unique_ptr<PgConnection>> Create(PgConnPtr conn);

  Dialect dialect() const override { return Dialect::kPostgres; }
  using Connection::Query;
  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override;
  std::int64_t Changes() override { return changes_; }
  Status ExecScript(std::string_view sql) override;

  // Runs a command without parameters or statement caching (BEGIN, COMMIT, ROLLBACK).
  // On success returns the command tag ("COMMIT", or "ROLLBACK" for a COMMIT of a failed
  // transaction).
  Result<std::string> Command(const char* sql);

  // True once the session is unusable (connection lost, stuck in COPY): drop it.
  bool broken() const { return broken_ || PQstatus(conn_.get()) != CONNECTION_OK; }
  PGTransactionStatusType transaction_status() const { return PQtransactionStatus(conn_.get()); }
  // Set when a statement failed with a serialization failure or deadlock (the Transaction
  // that owns the session may re-run its work); cleared by ClearRetryable().
  bool saw_retryable() const { return saw_retryable_; }
  void ClearRetryable() { saw_retryable_ = false; }
  // Round trip to check that the server still answers.
  bool Ping();

 private:
  struct Prepared {
    std::string name;
    std::uint64_t last_used = 0;
  };

  explicit PgConnection(PgConnPtr conn) : conn_(std::move(conn)) {}
  Result<const Prepared*> Prepare(const std::string& key, std::string_view sql, int nparams,
                                  const Oid* types);
  void Forget(const std::string& key);
  // Inspects a failed result: records retryable SQLSTATEs and broken sessions.
  Error Failed(const PGresult* res, std::string_view context);

  PgConnPtr conn_;
  std::map<std::string, Prepared, std::less<>> statements_;
  std::uint64_t next_statement_id_ = 0;
  std::uint64_t use_clock_ = 0;
  std::int64_t changes_ = 0;
  bool broken_ = false;
  bool saw_retryable_ = false;
};

}  // namespace pixvault::storage::sql
