#include "bench/sql_literal.h"

#include <charconv>
#include <variant>

namespace pixvault::bench {
namespace {

using storage::sql::Bytes;
using storage::sql::Dialect;
using storage::sql::Value;

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Literal(const Value& v, Dialect dialect) {
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "NULL";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          char buf[32];
          auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
          (void)ec;  // 32 bytes hold the shortest round-trip form of any double
          return std::string(buf, end);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return Quote(x);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          return dialect == Dialect::kSqlite ? "X'" + Hex(x.data) + "'"
                                             : "'\\x" + Hex(x.data) + "'::bytea";
        } else {
          return x ? "TRUE" : "FALSE";
        }
      },
      v);
}

}  // namespace

Result<std::string> InlineParameters(std::string_view sql, std::span<const Value> params,
                                     Dialect dialect) {
  std::string out;
  out.reserve(sql.size() + 16 * params.size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      // Copy the quoted run; a doubled quote inside stays inside.
      std::size_t end = i + 1;
      while (end < sql.size()) {
        if (sql[end] == c) {
          if (end + 1 < sql.size() && sql[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size();
      out.append(sql.substr(i, end - i));
      i = end - 1;
    } else if (c == '?') {
      if (next == params.size()) {
        return Fail(ErrorCode::kInvalidArgument, "more placeholders than parameters");
      }
      out += Literal(params[next++], dialect);
    } else {
      out += c;
    }
  }
  if (next != params.size()) {
    return Fail(ErrorCode::kInvalidArgument, "more parameters than placeholders");
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out + ";";
}

}  // namespace pixvault::bench
