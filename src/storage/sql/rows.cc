#include <cstdio>
#include <cstdlib>

#include "storage/sql/database.h"

namespace pixvault::storage::sql {

namespace {
[[noreturn]] void Die(std::string_view what, std::string_view col) {
  std::fprintf(stderr, "pixvault: sql row access bug: %.*s '%.*s'\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(col.size()), col.data());
  std::abort();
}
}  // namespace

std::size_t Rows::Column(std::string_view name) const {
  // Row mappers read columns in select order, often twice in a row (the null check, then
  // the value): the last column found and the next one answer most lookups with one compare.
  const std::size_t n = columns_.size();
  if (hint_ < n && columns_[hint_] == name) return hint_;
  if (hint_ + 1 < n && columns_[hint_ + 1] == name) return ++hint_;
  for (std::size_t i = 0; i < n; ++i) {
    if (columns_[i] == name) {
      hint_ = i;
      return i;
    }
  }
  Die("no column", name);
}

const Value& RowView::Get(std::string_view col) const {
  return rows_->row(index_)[rows_->Column(col)];
}

bool RowView::IsNull(std::string_view col) const {
  return std::holds_alternative<std::monostate>(Get(col));
}

std::int64_t RowView::Int(std::string_view col) const {
  const Value& v = Get(col);
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  Die("not an integer", col);
}

double RowView::Real(std::string_view col) const {
  const Value& v = Get(col);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  Die("not a real", col);
}

std::string RowView::Text(std::string_view col) const {
  const Value& v = Get(col);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* b = std::get_if<Bytes>(&v)) return b->data;
  Die("not text", col);
}

std::string RowView::Blob(std::string_view col) const {
  const Value& v = Get(col);
  if (auto* b = std::get_if<Bytes>(&v)) return b->data;
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  Die("not a blob", col);
}

bool RowView::Bool(std::string_view col) const { return Int(col) != 0; }

std::optional<std::int64_t> RowView::OptInt(std::string_view col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
std::optional<double> RowView::OptReal(std::string_view col) const {
  if (IsNull(col)) return std::nullopt;
  return Real(col);
}
std::optional<std::string> RowView::OptText(std::string_view col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::optional<bool> RowView::OptBool(std::string_view col) const {
  if (IsNull(col)) return std::nullopt;
  return Bool(col);
}

}  // namespace pixvault::storage::sql
