#include "storage/postgres/pg_values.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <type_traits>
#include <utility>

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

struct PgMemDeleter {
  void operator()(unsigned char* p) const { PQfreemem(p); }
};

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

}  // namespace

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
      std::string_view text(PQgetvalue(res, r, c),
                            static_cast<std::size_t>(PQgetlength(res, r, c)));
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

}  // namespace pixvault::storage::sql
