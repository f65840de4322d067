#include "http/api_util.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <ctime>

#include "service/asset_json.h"

namespace pixvault::http {

Result<std::optional<std::int64_t>> QueryInt(const Request& req, std::string_view name,
                                             std::int64_t min, std::int64_t max) {
  auto v = req.QueryParam(name);
  if (!v) return std::optional<std::int64_t>();
  std::int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return Fail(ErrorCode::kInvalidArgument, std::string(name) + " must be an integer");
  }
  if (out < min || out > max) {
    return Fail(ErrorCode::kInvalidArgument, std::string(name) + " must be between " +
                                                 std::to_string(min) + " and " +
                                                 std::to_string(max));
  }
  return std::optional<std::int64_t>(out);
}

Result<std::optional<double>> QueryDouble(const Request& req, std::string_view name) {
  auto v = req.QueryParam(name);
  if (!v) return std::optional<double>();
  double out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || !std::isfinite(out)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(name) + " must be a number");
  }
  return std::optional<double>(out);
}

Result<std::optional<bool>> QueryBool(const Request& req, std::string_view name) {
  auto v = req.QueryParam(name);
  if (!v) return std::optional<bool>();
  if (*v == "true" || *v == "1") return std::optional<bool>(true);
  if (*v == "false" || *v == "0") return std::optional<bool>(false);
  return Fail(ErrorCode::kInvalidArgument, std::string(name) + " must be true or false");
}

Result<Timestamp> ParseTime(std::string_view text) {
  std::int64_t secs = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  constexpr std::int64_t kMaxSeconds = INT64_MAX / kMicrosPerSecond;
  auto out_of_range = [&] {
    return Fail(ErrorCode::kInvalidArgument, "time '" + std::string(text) + "' is out of range");
  };
  if (ec == std::errc() && ptr == text.data() + text.size()) {
    if (secs > kMaxSeconds || secs < -kMaxSeconds) return out_of_range();
    return secs * kMicrosPerSecond;
  }
  if (ec == std::errc::result_out_of_range) return out_of_range();
  std::tm tm{};
  std::string s(text);
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "invalid time '" + s + "' (use RFC 3339 like 2026-11-24T05:00:00Z or Unix seconds)");
  }
  std::int64_t micros = 0;
  if (*end == '.') {
    ++end;
    std::int64_t scale = 100000;
    while (*end >= '0' && *end <= '9') {
      micros += (*end - '0') * scale;
      scale /= 10;
      ++end;
    }
  }
  if (std::string_view(end) != "Z" && std::string_view(end) != "+00:00") {
    return Fail(ErrorCode::kInvalidArgument, "time '" + s + "' must be in UTC (end with Z)");
  }
  auto t = static_cast<Timestamp>(timegm(&tm));
  if (t > kMaxSeconds - 1 || t < -kMaxSeconds) return out_of_range();
  return t * kMicrosPerSecond + micros;
}

Result<std::optional<Timestamp>> QueryTime(const Request& req, std::string_view name) {
  auto v = req.QueryParam(name);
  if (!v) return std::optional<Timestamp>();
  auto t = ParseTime(*v);
  if (!t) return Fail(WithContext(t.error(), name));
  return std::optional<Timestamp>(*t);
}

Result<std::int64_t> PathId(const Request& req, std::string_view name) {
  std::string_view v = req.PathParam(name);
  std::int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out <= 0) {
    return Fail(ErrorCode::kNotFound, std::string(name) + " '" + std::string(v) + "' not found");
  }
  return out;
}

Result<boost::json::object> ParseObject(std::string_view body,
                                        const std::set<std::string>& allowed) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec)
    return Fail(ErrorCode::kInvalidArgument, "request body is not valid JSON: " + ec.message());
  if (!v.is_object())
    return Fail(ErrorCode::kInvalidArgument, "request body must be a JSON object");
  if (!allowed.empty()) {
    for (const auto& kv : v.get_object()) {
      if (!allowed.count(std::string(kv.key()))) {
        return Fail(ErrorCode::kInvalidArgument, "unknown field '" + std::string(kv.key()) + "'");
      }
    }
  }
  return std::move(v.get_object());
}

namespace {
Error TypeError(std::string_view key, std::string_view want) {
  return Error{ErrorCode::kInvalidArgument,
               "field '" + std::string(key) + "' must be " + std::string(want)};
}
}  // namespace

bool IsNull(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_null();
}

Result<std::optional<std::string>> OptString(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return Fail(TypeError(key, "a string"));
  return std::optional<std::string>(std::string(it->value().get_string()));
}

Result<std::optional<std::int64_t>> OptInt(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::int64_t>();
  const auto& v = it->value();
  if (v.is_int64()) return std::optional<std::int64_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v.get_uint64()));
  }
  if (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
      std::fabs(v.get_double()) < 9e15) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v.get_double()));
  }
  return Fail(TypeError(key, "an integer"));
}

Result<std::optional<double>> OptNumber(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<double>();
  const auto& v = it->value();
  if (v.is_double()) return std::optional<double>(v.get_double());
  if (v.is_int64()) return std::optional<double>(static_cast<double>(v.get_int64()));
  if (v.is_uint64()) return std::optional<double>(static_cast<double>(v.get_uint64()));
  return Fail(TypeError(key, "a number"));
}

Result<std::optional<bool>> OptBool(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool()) return Fail(TypeError(key, "true or false"));
  return std::optional<bool>(it->value().get_bool());
}

Result<std::optional<std::vector<std::string>>> OptStrings(const boost::json::object& o,
                                                           std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::vector<std::string>>();
  if (!it->value().is_array()) return Fail(TypeError(key, "an array of strings"));
  std::vector<std::string> out;
  for (const auto& e : it->value().get_array()) {
    if (!e.is_string()) return Fail(TypeError(key, "an array of strings"));
    out.emplace_back(e.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::string>> OptJson(const boost::json::object& o, std::string_view key,
                                           std::string_view kind) {
  auto it = o.find(key);
  if (it == o.end()) return std::optional<std::string>();
  const auto& v = it->value();
  if (kind == "object" && !v.is_object()) return Fail(TypeError(key, "a JSON object"));
  if (kind == "array" && !v.is_array()) return Fail(TypeError(key, "a JSON array"));
  return std::optional<std::string>(boost::json::serialize(v));
}

Response JsonResponse(int status, const boost::json::value& body) {
  return Response::Json(status, service::ToJsonText(body));
}

bool EtagMatches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t comma = header.find(',', pos);
    std::string_view item =
        header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

}  // namespace pixvault::http
