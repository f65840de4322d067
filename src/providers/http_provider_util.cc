// The http adapter's option helpers: "{name}" templates, percent-encoding, JSON pointers and
// scrubbing credentials out of messages.
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "providers/http_provider_internal.h"

namespace pixvault::providers::http_internal {
namespace {

namespace json = boost::json;

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// `text` with every occurrence of each secret replaced.
std::string Scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
      at += 10;
    }
  }
  return text;
}

// The secrets of an account: every string or number in its credentials (nested too).
void CollectSecrets(const json::value& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    if (v.get_string().size() >= 3) out.emplace_back(v.get_string());
  } else if (v.is_int64() || v.is_uint64()) {
    std::string s = json::serialize(v);
    if (s.size() >= 3) out.push_back(std::move(s));
  } else if (v.is_object()) {
    for (const auto& [k, member] : v.get_object()) CollectSecrets(member, out);
  } else if (v.is_array()) {
    for (const auto& member : v.get_array()) CollectSecrets(member, out);
  }
}

// The secrets a message about `account` must not contain.
std::vector<std::string> Secrets(const AccountAccess& account) {
  std::vector<std::string> secrets;
  CollectSecrets(json::value(account.credentials), secrets);
  // Longest first, so a secret containing another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

}  // namespace

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Result<Template> ParseTemplate(std::string_view text, const std::string& key,
                               const std::optional<std::set<std::string>>& allowed) {
  Template t;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      return Fail(ErrorCode::kInvalidArgument,
                  key + ": unmatched '}' in '" + std::string(text) + "'");
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    const std::size_t end = text.find('}', i);
    if (end == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  key + ": unmatched '{' in '" + std::string(text) + "'");
    }
    const std::string name(text.substr(i + 1, end - i - 1));
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return Fail(ErrorCode::kInvalidArgument,
                  key + ": bad placeholder '{" + name + "}' in '" + std::string(text) + "'");
    }
    if (allowed && !allowed->contains(name)) {
      std::string choices;
      for (const auto& a : *allowed) choices += (choices.empty() ? "{" : ", {") + a + "}";
      if (choices.empty()) choices = "none";
      return Fail(ErrorCode::kInvalidArgument,
                  key + ": unknown placeholder '{" + name + "}' (allowed here: " + choices + ")");
    }
    if (!literal.empty()) t.segments.push_back({false, std::move(literal)});
    literal.clear();
    t.segments.push_back({true, name});
    i = end;
  }
  if (!literal.empty()) t.segments.push_back({false, std::move(literal)});
  return t;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

Status ValidatePointer(std::string_view p, const std::string& key) {
  bool ok = p.empty() || p.front() == '/';
  for (std::size_t i = 0; ok && i < p.size(); ++i) {
    if (p[i] == '~') ok = i + 1 < p.size() && (p[i + 1] == '0' || p[i + 1] == '1');
  }
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument,
                key + ": '" + std::string(p) +
                    "' is not a JSON pointer (empty, or '/'-separated names such as '/data/id')");
  }
  return Ok();
}

const boost::json::value* At(const boost::json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const boost::json::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

std::optional<std::string> IdText(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return std::nullopt;
}

std::optional<std::int64_t> ParseInt64(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string ScrubSecrets(std::string text, const AccountAccess& account) {
  return Scrub(std::move(text), Secrets(account));
}

}  // namespace pixvault::providers::http_internal
