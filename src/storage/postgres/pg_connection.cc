#include "storage/postgres/pg_connection.h"

#include <utility>

#include "storage/postgres/pg_values.h"
#include "storage/postgres/postgres_database.h"

namespace pixvault::storage::sql {
namespace {

// Statements kept prepared per session; the least recently used one is deallocated past this.
constexpr std::size_t kMaxStatements = 256;

// libpq messages end with a newline and may span lines; keep them on one line.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool space = c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string Abbreviate(std::string_view sql) {
  std::string one = OneLine(sql);
  constexpr std::size_t kMax = 120;
  if (one.size() > kMax) one = one.substr(0, kMax) + "...";
  return one;
}

bool StateIs(std::string_view state, std::string_view prefix) {
  return state.substr(0, prefix.size()) == prefix;
}

bool IsRetryable(std::string_view state) { return state == "40001" || state == "40P01"; }

bool IsConnectionLoss(std::string_view state) {
  return StateIs(state, "08") || state == "57P01" || state == "57P02" || state == "57P03";
}

ErrorCode CodeForState(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;
  if (StateIs(state, "23") || StateIs(state, "22")) return ErrorCode::kInvalidArgument;
  if (IsRetryable(state) || IsConnectionLoss(state) || StateIs(state, "53") || state == "55P03" ||
      state == "57014") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

}  // namespace

Error PgError(PGconn* conn, const PGresult* res, std::string_view context) {
  const char* state_field = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view state = state_field ? state_field : "";
  std::string message;
  if (res) {
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    message = OneLine(primary ? primary : PQresultErrorMessage(res));
  }
  if (message.empty() && conn) message = OneLine(PQerrorMessage(conn));
  if (message.empty()) message = "unknown libpq failure (out of memory?)";
  ErrorCode code = CodeForState(state);
  if (state.empty() && conn && PQstatus(conn) != CONNECTION_OK) code = ErrorCode::kUnavailable;
  std::string full = std::string(context) + ": " + message;
  if (res) {
    if (const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)) {
      full += " [constraint ";
      full += constraint;
      full += "]";
    }
  }
  if (!state.empty()) {
    full += " (SQLSTATE ";
    full += state;
    full += ")";
  }
  return Error{code, std::move(full)};
}

Result<std::unique_ptr<PgConnection>> PgConnection::Create(PgConnPtr conn) {
  // Notices ("relation already exists, skipping") would go to stderr by default.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConnection> c(new PgConnection(std::move(conn)));
  auto tz = c->Command("SET TIME ZONE 'UTC'");
  if (!tz) {
    Error e = std::move(tz).error();
    e.code = ErrorCode::kUnavailable;
    return Fail(std::move(e));
  }
  return c;
}

Error PgConnection::Failed(const PGresult* res, std::string_view context) {
  Error e = PgError(conn_.get(), res, context);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (state && IsRetryable(state)) saw_retryable_ = true;
  if ((state && IsConnectionLoss(state)) || PQstatus(conn_.get()) != CONNECTION_OK) {
    broken_ = true;
    e.code = ErrorCode::kUnavailable;
  }
  return e;
}

Result<std::string> PgConnection::Command(const char* sql) {
  PgResultPtr res(PQexec(conn_.get(), sql));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return Fail(Failed(res.get(), sql));
  changes_ = AffectedRows(res.get());
  return std::string(PQcmdStatus(res.get()));
}

bool PgConnection::Ping() {
  PgResultPtr res(PQexec(conn_.get(), ""));
  return PQresultStatus(res.get()) == PGRES_EMPTY_QUERY && !broken();
}

void PgConnection::Forget(const std::string& key) {
  auto it = statements_.find(key);
  if (it == statements_.end()) return;
  std::string sql = "DEALLOCATE " + it->second.name;
  statements_.erase(it);
  // Deallocation fails only inside an aborted transaction or on a lost connection; the
  // statement then lingers under a name that is never reused, which is harmless.
  PgResultPtr res(PQexec(conn_.get(), sql.c_str()));
}

Result<const PgConnection::Prepared*> PgConnection::Prepare(const std::string& key,
                                                            std::string_view sql, int nparams,
                                                            const unsigned int* types) {
  auto it = statements_.find(key);
  if (it != statements_.end()) {
    it->second.last_used = ++use_clock_;
    return &it->second;
  }
  if (statements_.size() >= kMaxStatements) {
    auto oldest = statements_.begin();
    for (auto s = statements_.begin(); s != statements_.end(); ++s) {
      if (s->second.last_used < oldest->second.last_used) oldest = s;
    }
    Forget(oldest->first);
  }
  int count = 0;
  std::string text = RewritePlaceholders(sql, &count);
  if (count != nparams) {
    return Fail(ErrorCode::kInternal, "parameter count mismatch (" + std::to_string(count) +
                                          " placeholders, " + std::to_string(nparams) +
                                          " values) for: " + Abbreviate(sql));
  }
  Prepared p{"pv_" + std::to_string(++next_statement_id_), ++use_clock_};
  PgResultPtr res(PQprepare(conn_.get(), p.name.c_str(), text.c_str(), nparams, types));
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return Fail(Failed(res.get(), "prepare '" + Abbreviate(sql) + "'"));
  }
  auto [pos, inserted] = statements_.emplace(key, std::move(p));
  (void)inserted;
  return &pos->second;
}

Result<Rows> PgConnection::Query(std::string_view sql, std::span<const Value> params) {
  for (const Value& v : params) {
    // Text goes to libpq as a C string; a NUL would silently cut it short.
    auto* text = std::get_if<std::string>(&v);
    if (text && text->find('\0') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "text parameter contains a NUL byte (bind it as Bytes): " + Abbreviate(sql));
    }
  }
  BoundParams b;
  Bind(params, b);
  std::string key;
  key.reserve(sql.size() + b.signature.size() + 1);
  key.append(sql).append(1, '\0').append(b.signature);
  int n = static_cast<int>(params.size());
  for (int attempt = 0;; ++attempt) {
    PV_ASSIGN_OR_RETURN(const Prepared* stmt, Prepare(key, sql, n, b.types.data()));
    PgResultPtr res(PQexecPrepared(conn_.get(), stmt->name.c_str(), n, b.values.data(),
                                   b.lengths.data(), b.formats.data(), /*resultFormat=*/0));
    ExecStatusType status = PQresultStatus(res.get());
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      changes_ = AffectedRows(res.get());
      return ToRows(res.get());
    }
    if (status == PGRES_EMPTY_QUERY) return Fail(ErrorCode::kInternal, "empty statement");
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      broken_ = true;  // the session now expects COPY data; it cannot be reused
      return Fail(ErrorCode::kInternal, "COPY is not supported by Query: " + Abbreviate(sql));
    }
    // A statement invalidated behind the cache's back (DEALLOCATE ALL / DISCARD in a script,
    // or a schema change that alters the result columns) is re-prepared once, when no
    // transaction was aborted by the failure.
    const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    std::string_view sv = state ? state : "";
    if (sv == "26000" || sv == "0A000") {
      if (sv == "26000") {
        statements_.erase(key);  // already gone from the server
      } else {
        Forget(key);
      }
      if (attempt == 0 && transaction_status() == PQTRANS_IDLE) continue;
    }
    return Fail(Failed(res.get(), "query '" + Abbreviate(sql) + "'"));
  }
}

Status PgConnection::ExecScript(std::string_view sql) {
  std::string text(sql);
  PgResultPtr res(PQexec(conn_.get(), text.c_str()));
  // PQexec returns only the last result; earlier failures stop the script and are returned.
  ExecStatusType status = PQresultStatus(res.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    changes_ = AffectedRows(res.get());
    return Ok();
  }
  if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
    broken_ = true;
    return Fail(ErrorCode::kInternal, "COPY is not supported by ExecScript");
  }
  return Fail(Failed(res.get(), "script"));
}

}  // namespace pixvault::storage::sql
