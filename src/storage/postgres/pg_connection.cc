#include "storage/postgres/pg_connection.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/postgres/postgres_database.h"

namespace pixvault::storage::sql {
namespace {

// Type OIDs from pg_type.dat; stable across server versions.
constexpr Oid kUnknownParam = 0;  // let the server infer the type from context
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Statements kept prepared per session; the least recently used one is deallocated past this.
constexpr std::size_t kMaxStatements = 256;

struct PgMemDeleter {
  void operator()(unsigned char* p) const { PQfreemem(p); }
};

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
  if (IsRetryable(state) || IsConnectionLoss(state) || StateIs(state, "53") ||
      state == "55P03" || state == "57014") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 32 bytes always hold the shortest round-trip form of a double
  return std::string(buf, end);
}

Result<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Fail(ErrorCode::kInternal, "unexpected integer from server: " + std::string(text));
  }
  return v;
}

Result<double> ParseDouble(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // numeric can exceed double's range or precision; strtod rounds instead of failing.
    return std::strtod(std::string(text).c_str(), nullptr);
  }
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Fail(ErrorCode::kInternal, "unexpected number from server: " + std::string(text));
  }
  return v;
}

enum class ColumnKind { kInt, kReal, kBool, kBytes, kText };

ColumnKind KindOf(Oid type) {
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      return ColumnKind::kInt;
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return ColumnKind::kReal;
    case kBoolOid:
      return ColumnKind::kBool;
    case kByteaOid:
      return ColumnKind::kBytes;
    default:
      return ColumnKind::kText;
  }
}

Result<Value> Decode(ColumnKind kind, std::string_view text) {
  switch (kind) {
    case ColumnKind::kInt: {
      PV_ASSIGN_OR_RETURN(std::int64_t v, ParseInt(text));
      return Value(v);
    }
    case ColumnKind::kReal: {
      PV_ASSIGN_OR_RETURN(double v, ParseDouble(text));
      return Value(v);
    }
    case ColumnKind::kBool:
      return Value(std::int64_t{text == "t" ? 1 : 0});
    case ColumnKind::kBytes: {
      // PQgetvalue strings are NUL-terminated, as PQunescapeBytea requires.
      std::size_t n = 0;
      std::unique_ptr<unsigned char, PgMemDeleter> raw(
          PQunescapeBytea(reinterpret_cast<const unsigned char*>(text.data()), &n));
      if (!raw) return Fail(ErrorCode::kInternal, "cannot decode bytea from server");
      return Value(Bytes{std::string(reinterpret_cast<const char*>(raw.get()), n)});
    }
    case ColumnKind::kText:
      break;
  }
  return Value(std::string(text));
}

Result<Rows> ToRows(const PGresult* res) {
  int ncol = PQnfields(res);
  int nrow = PQntuples(res);
  std::vector<std::string> columns;
  std::vector<ColumnKind> kinds;
  columns.reserve(static_cast<std::size_t>(ncol));
  kinds.reserve(static_cast<std::size_t>(ncol));
  for (int c = 0; c < ncol; ++c) {
    columns.emplace_back(PQfname(res, c));
    kinds.push_back(KindOf(PQftype(res, c)));
  }
  std::vector<std::vector<Value>> rows;
  rows.reserve(static_cast<std::size_t>(nrow));
  for (int r = 0; r < nrow; ++r) {
    std::vector<Value> row;
    row.reserve(static_cast<std::size_t>(ncol));
    for (int c = 0; c < ncol; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::monostate{});
        continue;
      }
      std::string_view text(PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c)));
      PV_ASSIGN_OR_RETURN(Value v, Decode(kinds[static_cast<std::size_t>(c)], text));
      row.push_back(std::move(v));
    }
    rows.push_back(std::move(row));
  }
  return Rows(std::move(columns), std::move(rows));
}

std::int64_t AffectedRows(PGresult* res) {
  std::string_view tuples = PQcmdTuples(res);
  if (tuples.empty()) return 0;
  auto n = ParseInt(tuples);
  return n ? *n : 0;
}

// Parameters in libpq's form. Text values live in `text`; bytea is sent binary.
struct BoundParams {
  std::vector<Oid> types;
  std::vector<std::string> text;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  std::string signature;  // one letter per parameter type, part of the statement cache key
};

// Fills `b` in place: `values` points into `b.text`, so `b` must not move afterwards.
void Bind(std::span<const Value> params, BoundParams& b) {
  std::size_t n = params.size();
  b.types.resize(n);
  b.text.resize(n);
  b.values.resize(n);
  b.lengths.resize(n);
  b.formats.resize(n);
  b.signature.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            b.types[i] = kUnknownParam;
            b.values[i] = nullptr;
            b.signature[i] = 'n';
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            b.types[i] = kInt8Oid;
            b.text[i] = std::to_string(v);
            b.signature[i] = 'i';
          } else if constexpr (std::is_same_v<T, double>) {
            b.types[i] = kFloat8Oid;
            b.text[i] = FormatDouble(v);
            b.signature[i] = 'd';
          } else if constexpr (std::is_same_v<T, std::string>) {
            b.types[i] = kUnknownParam;
            b.values[i] = v.c_str();
            b.signature[i] = 's';
          } else if constexpr (std::is_same_v<T, Bytes>) {
            b.types[i] = kByteaOid;
            b.values[i] = v.data.data();
            b.lengths[i] = static_cast<int>(v.data.size());
            b.formats[i] = 1;
            b.signature[i] = 'y';
          } else {
            b.types[i] = kBoolOid;
            b.text[i] = v ? "true" : "false";
            b.signature[i] = 'b';
          }
        },
        params[i]);
  }
  // Only now, with every text buffer in its final place, take pointers into `text`.
  for (std::size_t i = 0; i < n; ++i) {
    char sig = b.signature[i];
    if (sig == 'i' || sig == 'd' || sig == 'b') b.values[i] = b.text[i].c_str();
  }
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
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
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
