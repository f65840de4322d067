#include "service/asset_json.h"

#include <boost/json.hpp>

#include <algorithm>

#include "core/json_writer.h"

namespace pixvault::service {
namespace {

// `key` is a literal (RawKey) in these helpers.
void WriteStrings(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.RawKey(key);
  w.BeginArray();
  for (const auto& s : values) w.String(s);
  w.EndArray();
}

void WriteTime(JsonWriter& w, std::string_view key, std::optional<Timestamp> t) {
  w.RawKey(key);
  if (t) {
    w.String(FormatTimestamp(*t));
  } else {
    w.Null();
  }
}

// JSON columns are valid JSON: the database checks them (json_valid in SQLite, JSONB in
// PostgreSQL), so they are inserted as they are.
void WriteEmbedded(JsonWriter& w, std::string_view key, const std::string& json) {
  w.RawKey(key);
  w.Raw(json.empty() ? std::string_view("{}") : std::string_view(json));
}

}  // namespace

void AppendAssetJson(const Asset& a, const std::vector<ProviderUpload>& uploads, std::string& out) {
  JsonWriter w(out);
  w.BeginObject();
  w.RawKey("id");
  w.Int(a.id);
  w.RawKey("user_id");
  w.Int(a.user_id);
  w.RawKey("media_type");
  w.String(ToString(a.media_type));
  w.RawKey("provider_id");
  w.String(a.provider_id);
  w.RawKey("provider_asset_id");
  w.Optional(a.provider_asset_id);
  w.RawKey("provider_account_id");
  w.Optional(a.provider_account_id);
  WriteTime(w, "origin_lost_at", a.origin_lost_at);
  w.RawKey("remote_url");
  w.Optional(a.remote_url);
  w.RawKey("original_source_url");
  w.Optional(a.original_source_url);
  w.RawKey("original_filename");
  w.Optional(a.original_filename);
  w.RawKey("upload_method");
  w.String(ToString(a.upload_method));
  w.RawKey("sync_status");
  w.String(ToString(a.sync_status));
  w.RawKey("sha256");
  w.Optional(a.sha256);
  w.RawKey("file_size_bytes");
  w.Optional(a.file_size_bytes);
  w.RawKey("mime_type");
  w.Optional(a.mime_type);
  w.RawKey("width");
  w.Optional(a.width);
  w.RawKey("height");
  w.Optional(a.height);
  w.RawKey("duration_sec");
  w.Optional(a.duration_sec);
  w.RawKey("fps");
  w.Optional(a.fps);
  w.RawKey("description");
  w.Optional(a.description);
  WriteStrings(w, "tags", a.tags);
  WriteStrings(w, "style_tags", a.style_tags);
  w.RawKey("embedding");
  if (a.embedding) {
    w.BeginObject();
    w.RawKey("model");
    w.String(a.embedding->model);
    w.RawKey("dimension");
    w.Int(static_cast<std::int64_t>(a.embedding->values.size()));
    w.EndObject();
  } else {
    w.Null();
  }
  w.RawKey("content_domain");
  w.String(ToString(a.content_domain));
  w.RawKey("content_category");
  w.Optional(a.content_category);
  WriteEmbedded(w, "content_taxonomy", a.content_taxonomy);
  w.RawKey("content_rating");
  w.String(ToString(a.content_rating));
  w.RawKey("age_restricted");
  w.Bool(a.age_restricted);
  w.RawKey("searchable");
  w.Bool(a.searchable);
  WriteEmbedded(w, "media_metadata", a.media_metadata);
  WriteEmbedded(w, "analysis_errors", a.analysis_errors);
  // {"<provider>": {"<account>": {...}}}: rows grouped by provider, in the order given.
  std::vector<const ProviderUpload*> sorted;
  sorted.reserve(uploads.size());
  for (const ProviderUpload& u : uploads) sorted.push_back(&u);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* x, const auto* y) { return x->provider_id < y->provider_id; });
  w.RawKey("provider_uploads");
  w.BeginObject();
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const ProviderUpload& u = *sorted[i];
    if (i == 0 || sorted[i - 1]->provider_id != u.provider_id) {
      if (i != 0) w.EndObject();
      w.Key(u.provider_id);
      w.BeginObject();
    }
    w.Key(std::to_string(u.account_id));
    w.BeginObject();
    w.RawKey("provider_ref");
    w.Optional(u.provider_ref);
    w.RawKey("provider_url");
    w.Optional(u.provider_url);
    w.RawKey("status");
    w.String(ToString(u.status));
    w.RawKey("attempts");
    w.Int(u.attempts);
    WriteTime(w, "uploaded_at", u.uploaded_at);
    WriteTime(w, "expires_at", u.expires_at);
    w.EndObject();
  }
  if (!sorted.empty()) w.EndObject();
  w.EndObject();
  WriteTime(w, "created_at", a.created_at);
  WriteTime(w, "updated_at", a.updated_at);
  WriteTime(w, "last_accessed_at", a.last_accessed_at);
  w.RawKey("pinned");
  w.Bool(a.pinned);
  w.EndObject();
}

std::string AssetJsonText(const Asset& a, const std::vector<ProviderUpload>& uploads) {
  std::string out;
  out.reserve(1024);
  AppendAssetJson(a, uploads, out);
  return out;
}

boost::json::object AssetToJson(const Asset& a, const std::vector<ProviderUpload>& uploads) {
  // One rendering of the shape: the DOM form is the text form parsed back (the DOM is for
  // callers that embed an asset in a larger document; hot paths use the text directly).
  return boost::json::parse(AssetJsonText(a, uploads)).as_object();
}

boost::json::object ErrorToJson(const Error& e) {
  return boost::json::object{{"code", ErrorCodeName(e.code)}, {"message", e.message}};
}

namespace {

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
        AppendJsonString(kv.key(), out);
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
    case boost::json::kind::string:
      AppendJsonString(v.get_string(), out);
      return;
    case boost::json::kind::int64:
      AppendJsonNumber(v.get_int64(), out);
      return;
    case boost::json::kind::uint64:
      AppendJsonNumber(v.get_uint64(), out);
      return;
    case boost::json::kind::double_:
      AppendJsonNumber(v.get_double(), out);
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::null:
      out += "null";
      return;
  }
}

}  // namespace

std::string ToJsonText(const boost::json::value& value, bool pretty) {
  std::string out;
  out.reserve(4096);
  Write(value, out, pretty, 0);
  return out;
}

}  // namespace pixvault::service
