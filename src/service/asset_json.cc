#include "service/asset_json.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

namespace pixvault::service {
namespace {

boost::json::value ParseOr(const std::string& text, boost::json::value fallback) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return ec ? fallback : v;
}

template <class T>
boost::json::value OrNull(const std::optional<T>& v) {
  if (!v) return nullptr;
  return boost::json::value_from(*v);
}

boost::json::array Strings(const std::vector<std::string>& values) {
  boost::json::array a;
  for (const auto& s : values) a.emplace_back(s);
  return a;
}

}  // namespace

boost::json::object AssetToJson(const Asset& a, const std::vector<ProviderUpload>& uploads) {
  boost::json::object o;
  o["id"] = a.id;
  o["user_id"] = a.user_id;
  o["media_type"] = ToString(a.media_type);
  o["provider_id"] = a.provider_id;
  o["provider_asset_id"] = OrNull(a.provider_asset_id);
  o["provider_account_id"] = OrNull(a.provider_account_id);
  o["remote_url"] = OrNull(a.remote_url);
  o["original_source_url"] = OrNull(a.original_source_url);
  o["original_filename"] = OrNull(a.original_filename);
  o["upload_method"] = ToString(a.upload_method);
  o["sync_status"] = ToString(a.sync_status);
  o["sha256"] = OrNull(a.sha256);
  o["file_size_bytes"] = OrNull(a.file_size_bytes);
  o["mime_type"] = OrNull(a.mime_type);
  o["width"] = OrNull(a.width);
  o["height"] = OrNull(a.height);
  o["duration_sec"] = OrNull(a.duration_sec);
  o["fps"] = OrNull(a.fps);
  o["description"] = OrNull(a.description);
  o["tags"] = Strings(a.tags);
  o["style_tags"] = Strings(a.style_tags);
  if (a.embedding) {
    o["embedding"] = boost::json::object{{"model", a.embedding->model},
                                         {"dimension", a.embedding->values.size()}};
  } else {
    o["embedding"] = nullptr;
  }
  o["content_domain"] = ToString(a.content_domain);
  o["content_category"] = OrNull(a.content_category);
  o["content_taxonomy"] = ParseOr(a.content_taxonomy, boost::json::object{});
  o["content_rating"] = ToString(a.content_rating);
  o["age_restricted"] = a.age_restricted;
  o["searchable"] = a.searchable;
  o["media_metadata"] = ParseOr(a.media_metadata, boost::json::object{});
  boost::json::object by_provider;
  for (const ProviderUpload& u : uploads) {
    boost::json::object entry{{"provider_ref", OrNull(u.provider_ref)},
                              {"provider_url", OrNull(u.provider_url)},
                              {"status", ToString(u.status)},
                              {"attempts", u.attempts}};
    entry["uploaded_at"] = u.uploaded_at ? boost::json::value(FormatTimestamp(*u.uploaded_at))
                                         : boost::json::value(nullptr);
    entry["expires_at"] = u.expires_at ? boost::json::value(FormatTimestamp(*u.expires_at))
                                       : boost::json::value(nullptr);
    auto& accounts = by_provider[u.provider_id];
    if (!accounts.is_object()) accounts = boost::json::object{};
    accounts.as_object()[std::to_string(u.account_id)] = std::move(entry);
  }
  o["provider_uploads"] = std::move(by_provider);
  o["created_at"] = FormatTimestamp(a.created_at);
  o["updated_at"] = FormatTimestamp(a.updated_at);
  o["last_accessed_at"] = a.last_accessed_at
                              ? boost::json::value(FormatTimestamp(*a.last_accessed_at))
                              : boost::json::value(nullptr);
  return o;
}

boost::json::object ErrorToJson(const Error& e) {
  return boost::json::object{{"code", ErrorCodeName(e.code)}, {"message", e.message}};
}

namespace {

void AppendNumber(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, end);
}

void Write(const boost::json::value& v, std::string& out, bool pretty, int indent) {
  auto newline = [&](int level) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        out += boost::json::serialize(boost::json::string(kv.key()));
        out += pretty ? ": " : ":";
        Write(kv.value(), out, pretty, indent + 1);
      }
      newline(indent);
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        Write(e, out, pretty, indent + 1);
      }
      newline(indent);
      out += ']';
      return;
    }
    case boost::json::kind::double_:
      AppendNumber(v.get_double(), out);
      return;
    default:
      out += boost::json::serialize(v);
  }
}

}  // namespace

std::string ToJsonText(const boost::json::value& value, bool pretty) {
  std::string out;
  Write(value, out, pretty, 0);
  return out;
}

}  // namespace pixvault::service
