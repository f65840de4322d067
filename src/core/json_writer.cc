#include "core/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace pixvault {

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Runs of characters that need no escape are appended in one go: most text is such runs.
  // Eight bytes at a time while none of them needs an escape (SWAR: a byte below 0x20, a
  // quote or a backslash sets that byte's high bit in `hit`; bytes >= 0x80 never do).
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has_zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  std::size_t run = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t hit = ((w - 0x20 * kOnes) & ~w & kHigh) |
                              has_zero_byte(w ^ (std::uint64_t{'"'} * kOnes)) |
                              has_zero_byte(w ^ (std::uint64_t{'\\'} * kOnes));
    if (hit) break;
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendJsonNumber(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, end);
}

void AppendJsonNumber(std::int64_t i, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, end);
}

void AppendJsonNumber(std::uint64_t i, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, end);
}

void JsonWriter::Separate() {
  if (need_comma_) out_ += ',';
  need_comma_ = true;
}

void JsonWriter::Open(char c) {
  Separate();
  out_ += c;
  need_comma_ = false;
}

void JsonWriter::Close(char c) {
  out_ += c;
  need_comma_ = true;
}

void JsonWriter::RawKey(std::string_view key) {
  Separate();
  out_ += '"';
  out_.append(key);
  out_.append("\":", 2);
  need_comma_ = false;
}

void JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(key, out_);
  out_ += ':';
  need_comma_ = false;
}

void JsonWriter::String(std::string_view s) {
  Separate();
  AppendJsonString(s, out_);
}

void JsonWriter::Int(std::int64_t i) {
  Separate();
  AppendJsonNumber(i, out_);
}

void JsonWriter::Double(double d) {
  Separate();
  AppendJsonNumber(d, out_);
}

void JsonWriter::Bool(bool b) {
  Separate();
  out_ += b ? "true" : "false";
}

void JsonWriter::Null() {
  Separate();
  out_ += "null";
}

void JsonWriter::Raw(std::string_view json) {
  Separate();
  out_ += json;
}

}  // namespace pixvault
