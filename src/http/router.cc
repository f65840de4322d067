#include "http/router.h"

namespace pixvault::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return Fail(ErrorCode::kInvalidArgument, "truncated percent escape");
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return Fail(ErrorCode::kInvalidArgument, "invalid percent escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    PV_ASSIGN_OR_RETURN(std::string key, PercentDecode(k, true));
    PV_ASSIGN_OR_RETURN(std::string value, PercentDecode(v, true));
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

Result<Match> Router::Find(std::string_view method, std::string_view raw_path) const {
  if (raw_path.empty() || raw_path[0] != '/') {
    return Fail(ErrorCode::kInvalidArgument, "request target must be an absolute path");
  }
  std::vector<std::string> segments;
  for (std::string_view raw : Split(raw_path)) {
    Result<std::string> decoded = PercentDecode(raw, false);
    if (!decoded) return Fail(decoded.error());
    std::string& seg = *decoded;
    if (seg == "." || seg == ".." || seg.find('/') != std::string::npos ||
        seg.find('\0') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "path segment '" + std::string(raw) + "' is not allowed");
    }
    segments.push_back(std::move(seg));
  }
  Match m;
  for (const Route& r : routes_) {
    std::vector<std::string_view> pattern = Split(r.pattern);
    if (pattern.size() != segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool ok = true;
    for (std::size_t i = 0; i < pattern.size() && ok; ++i) {
      std::string_view p = pattern[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segments[i].empty()) ok = false;
        params.emplace_back(std::string(p.substr(1, p.size() - 2)), segments[i]);
      } else {
        ok = p == segments[i];
      }
    }
    if (!ok) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    m.allowed_methods.push_back(r.method);
  }
  return m;
}

}  // namespace pixvault::http
