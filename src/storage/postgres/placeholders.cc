// `?` -> `$n` rewriting. A small lexer that knows just enough of PostgreSQL's lexical rules to
// step over everything that is not SQL code: string constants (with '' doubling, and
// backslash escapes in E'' strings), dollar-quoted strings, quoted identifiers (with ""
// doubling), -- line comments and nested /* */ comments.
#include <cstddef>
#include <string>
#include <string_view>

#include "storage/postgres/postgres_database.h"

namespace pixvault::storage::sql {
namespace {

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '$'; }

// Returns the index one past the closing quote of the literal starting at `sql[start]`
// (a quote character), or sql.size() if it is unterminated.
std::size_t SkipQuoted(std::string_view sql, std::size_t start, char quote, bool backslashes) {
  std::size_t i = start + 1;
  while (i < sql.size()) {
    char c = sql[i];
    if (backslashes && c == '\\') {
      i += 2;
    } else if (c == quote) {
      if (i + 1 < sql.size() && sql[i + 1] == quote) {
        i += 2;  // doubled quote
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  return sql.size();
}

std::size_t SkipBlockComment(std::string_view sql, std::size_t start) {
  int depth = 0;
  std::size_t i = start;
  while (i < sql.size()) {
    if (sql.compare(i, 2, "/*") == 0) {
      ++depth;
      i += 2;
    } else if (sql.compare(i, 2, "*/") == 0) {
      i += 2;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return sql.size();
}

// If `sql[start]` opens a dollar quote ($$ or $tag$), returns the index past its closing
// delimiter; otherwise returns `start`.
std::size_t SkipDollarQuoted(std::string_view sql, std::size_t start) {
  std::size_t i = start + 1;
  if (i < sql.size() && IsIdentStart(sql[i])) {
    while (i < sql.size() && IsIdentChar(sql[i]) && sql[i] != '$') ++i;
  }
  if (i >= sql.size() || sql[i] != '$') return start;  // `$1`, or a `$` in an identifier
  std::string_view tag = sql.substr(start, i - start + 1);
  std::size_t end = sql.find(tag, i + 1);
  return end == std::string_view::npos ? sql.size() : end + tag.size();
}

}  // namespace

std::string RewritePlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    char prev = i > 0 ? sql[i - 1] : ' ';
    std::size_t next = i + 1;
    if (c == '\'') {
      // E'..' (escape string): backslash escapes, unless the E ends a longer identifier.
      bool escape = (prev == 'E' || prev == 'e') && (i < 2 || !IsIdentChar(sql[i - 2]));
      next = SkipQuoted(sql, i, '\'', escape);
    } else if (c == '"') {
      next = SkipQuoted(sql, i, '"', false);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t eol = sql.find('\n', i);
      next = eol == std::string_view::npos ? sql.size() : eol + 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      next = SkipBlockComment(sql, i);
    } else if (c == '$' && !IsIdentChar(prev)) {
      std::size_t end = SkipDollarQuoted(sql, i);
      if (end != i) next = end;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
      i = next;
      continue;
    } else if (IsIdentChar(c)) {
      // Copy a whole word at once so `$` inside identifiers never starts a dollar quote.
      while (next < sql.size() && IsIdentChar(sql[next])) ++next;
    }
    out.append(sql.substr(i, next - i));
    i = next;
  }
  *count = n;
  return out;
}

}  // namespace pixvault::storage::sql
