// toml++ lives only in this file (and provider_config_toml.h). It is built with exceptions;
// they stay inside this adapter.
#include "providers/provider_config.h"

#include <cmath>
#include <set>
#include <sstream>

#include "providers/folder_provider.h"
#include "providers/http_provider.h"
#include "providers/provider_config_toml.h"

namespace pixvault::providers {
namespace {

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date/time";
  }
}

// Reads the members of one table, remembering which were read so that the rest can be
// reported as unknown keys.
class Reader {
 public:
  Reader(const toml::table& table, std::string prefix)
      : table_(table), prefix_(std::move(prefix)) {}

  std::string Key(std::string_view key) const { return prefix_ + "." + std::string(key); }

  Error Wrong(std::string_view key, std::string_view expected, const toml::node& node) const {
    return Error{ErrorCode::kInvalidArgument, Key(key) + ": expected " + std::string(expected) +
                                                  ", got " + std::string(TypeName(node))};
  }

  const toml::node* Get(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }

  Status String(std::string_view key, std::string& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Ok();
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) return Fail(Wrong(key, "a string", *n));
    out = *v;
    return Ok();
  }

  Status Required(std::string_view key, std::string& out) {
    if (table_.get(key) == nullptr) {
      return Fail(ErrorCode::kInvalidArgument, Key(key) + ": missing (required)");
    }
    return String(key, out);
  }

  Status Int(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Ok();
    if (!n->is_integer()) return Fail(Wrong(key, "an integer", *n));
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < min || v > max) {
      return Fail(ErrorCode::kInvalidArgument, Key(key) + ": " + std::to_string(v) +
                                                   " is outside " + std::to_string(min) + ".." +
                                                   std::to_string(max));
    }
    out = v;
    return Ok();
  }

  // A number (integer or float) >= 0.
  Status Number(std::string_view key, double& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Ok();
    if (!n->is_number()) return Fail(Wrong(key, "a number", *n));
    const double v = *n->value<double>();
    if (!std::isfinite(v) || v < 0) {
      return Fail(ErrorCode::kInvalidArgument, Key(key) + ": must be a number >= 0");
    }
    out = v;
    return Ok();
  }

  // Seconds (integer or float) as a Timestamp; `positive` refuses 0.
  Status Seconds(std::string_view key, Timestamp& out, bool positive) {
    double v = -1;
    PV_RETURN_IF_ERROR(Number(key, v));
    if (v < 0) return Ok();  // absent
    if ((positive && v <= 0) || v > 7 * 86400.0) {
      return Fail(ErrorCode::kInvalidArgument, Key(key) + ": must be " +
                                                   (positive ? "more than 0" : "0 or more") +
                                                   " and at most a week");
    }
    out = static_cast<Timestamp>(std::llround(v * kMicrosPerSecond));
    return Ok();
  }

  Status Bool(std::string_view key, bool& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Ok();
    if (!n->is_boolean()) return Fail(Wrong(key, "a boolean", *n));
    out = *n->value<bool>();
    return Ok();
  }

  Status Strings(std::string_view key, std::vector<std::string>& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Ok();
    if (!n->is_array()) return Fail(Wrong(key, "an array of strings", *n));
    std::vector<std::string> values;
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) return Fail(Wrong(key, "an array of strings", e));
      values.push_back(*e.value<std::string>());
    }
    out = std::move(values);
    return Ok();
  }

  Status Ints(std::string_view key, std::vector<int>& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Ok();
    if (!n->is_array()) return Fail(Wrong(key, "an array of integers", *n));
    std::vector<int> values;
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_integer()) return Fail(Wrong(key, "an array of integers", e));
      const std::int64_t v = *e.value<std::int64_t>();
      if (v < 0 || v > 999) {
        return Fail(ErrorCode::kInvalidArgument,
                    Key(key) + ": " + std::to_string(v) + " is not an HTTP status");
      }
      values.push_back(static_cast<int>(v));
    }
    out = std::move(values);
    return Ok();
  }

  // A subtable, or nullptr when absent.
  Result<const toml::table*> Table(std::string_view key) {
    const toml::node* n = Get(key);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return Fail(Wrong(key, "a table", *n));
    return n->as_table();
  }

  // kInvalidArgument naming the first key that was never read.
  Status Finish() const {
    for (const auto& [key, node] : table_) {
      if (!seen_.contains(std::string(key.str()))) {
        return Fail(ErrorCode::kInvalidArgument, Key(key.str()) + ": unknown key");
      }
    }
    return Ok();
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  std::set<std::string> seen_;
};

Status ReadCapabilities(Reader& r, Capabilities& c) {
  std::vector<std::string> types;
  PV_RETURN_IF_ERROR(r.Strings("media_types", types));
  for (const std::string& t : types) {
    auto type = Parse<MediaType>(t);
    if (!type) {
      return Fail(ErrorCode::kInvalidArgument, r.Key("media_types") + ": " + type.error().message);
    }
    c.media_types.push_back(*type);
  }
  constexpr std::int64_t kMax = std::int64_t{1} << 53;
  PV_RETURN_IF_ERROR(r.Int("max_bytes", c.max_bytes, 0, kMax));
  PV_RETURN_IF_ERROR(r.Int("max_pixels", c.max_pixels, 0, kMax));
  PV_RETURN_IF_ERROR(r.Number("max_duration_s", c.max_duration_s));
  std::int64_t ttl_s = 0;
  PV_RETURN_IF_ERROR(r.Int("ref_ttl_s", ttl_s, 0, std::int64_t{100} * 365 * 86400));
  c.ref_ttl = ttl_s * kMicrosPerSecond;
  return Ok();
}

Status ReadEndpoint(Reader& parent, std::string_view key, HttpEndpoint& e,
                    const std::function<Status(Reader&)>& more = nullptr) {
  PV_ASSIGN_OR_RETURN(const toml::table* t, parent.Table(key));
  if (t == nullptr) return Ok();
  Reader r(*t, parent.Key(key));
  PV_RETURN_IF_ERROR(r.String("method", e.method));
  PV_RETURN_IF_ERROR(r.String("path", e.path));
  if (more) PV_RETURN_IF_ERROR(more(r));
  return r.Finish();
}

Result<std::shared_ptr<Provider>> LoadHttp(const std::string& id, Reader& r,
                                           const std::shared_ptr<HttpClient>& client) {
  HttpProviderOptions o;
  o.id = id;
  PV_RETURN_IF_ERROR(r.Required("base_url", o.base_url));
  PV_RETURN_IF_ERROR(r.String("auth_header", o.auth_header));
  PV_RETURN_IF_ERROR(r.String("auth_value", o.auth_value));
  PV_RETURN_IF_ERROR(ReadCapabilities(r, o.capabilities));
  PV_RETURN_IF_ERROR(r.Strings("operations", o.capabilities.operations));
  PV_RETURN_IF_ERROR(r.Seconds("timeout_s", o.timeout, true));
  PV_RETURN_IF_ERROR(r.Seconds("transfer_timeout_s", o.transfer_timeout, true));
  PV_RETURN_IF_ERROR(r.Seconds("connect_timeout_s", o.connect_timeout, true));
  PV_RETURN_IF_ERROR(r.Seconds("idle_timeout_s", o.idle_timeout, false));
  PV_RETURN_IF_ERROR(r.Int("max_json_bytes", o.max_json_bytes, 1, std::int64_t{1} << 30));
  PV_RETURN_IF_ERROR(r.Ints("refusal_statuses", o.refusal_statuses));
  PV_RETURN_IF_ERROR(r.String("error_pointer", o.error_pointer));

  auto read_upload = [&](Reader& u) -> Status {
    std::string body;
    PV_RETURN_IF_ERROR(u.String("body", body));
    if (!body.empty() && body != "raw" && body != "multipart") {
      return Fail(ErrorCode::kInvalidArgument,
                  u.Key("body") + ": '" + body + "' is not \"raw\" or \"multipart\"");
    }
    o.upload.multipart = body == "multipart";
    PV_RETURN_IF_ERROR(u.String("field", o.upload.field));
    PV_ASSIGN_OR_RETURN(const toml::table* fields, u.Table("fields"));
    if (fields != nullptr) {
      Reader f(*fields, u.Key("fields"));
      for (const auto& [name, node] : *fields) {
        PV_RETURN_IF_ERROR(f.String(name.str(), o.upload.fields[std::string(name.str())]));
      }
    }
    PV_RETURN_IF_ERROR(u.String("ref_pointer", o.upload.ref_pointer));
    PV_RETURN_IF_ERROR(u.String("url_pointer", o.upload.url_pointer));
    PV_RETURN_IF_ERROR(u.String("idempotency_header", o.upload.idempotency_header));
    return u.String("expires_pointer", o.upload.expires_pointer);
  };
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "upload", o.upload.endpoint, read_upload));
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "download", o.download));
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "check", o.check));
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "delete", o.remove));
  auto read_submit = [&](Reader& s) -> Status {
    PV_RETURN_IF_ERROR(s.String("job_id_pointer", o.submit.job_id_pointer));
    return s.String("idempotency_header", o.submit.idempotency_header);
  };
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "submit", o.submit.endpoint, read_submit));
  auto read_poll = [&](Reader& p) -> Status {
    PV_RETURN_IF_ERROR(p.String("status_pointer", o.poll.status_pointer));
    PV_RETURN_IF_ERROR(p.String("outputs_pointer", o.poll.outputs_pointer));
    PV_RETURN_IF_ERROR(p.String("output_ref_pointer", o.poll.output_ref_pointer));
    PV_RETURN_IF_ERROR(p.String("output_url_pointer", o.poll.output_url_pointer));
    PV_RETURN_IF_ERROR(p.String("output_expires_pointer", o.poll.output_expires_pointer));
    PV_RETURN_IF_ERROR(p.String("error_pointer", o.poll.error_pointer));
    PV_ASSIGN_OR_RETURN(const toml::table* states, p.Table("states"));
    if (states != nullptr) {
      Reader s(*states, p.Key("states"));
      PV_RETURN_IF_ERROR(s.Strings("queued", o.poll.queued));
      PV_RETURN_IF_ERROR(s.Strings("running", o.poll.running));
      PV_RETURN_IF_ERROR(s.Strings("succeeded", o.poll.succeeded));
      PV_RETURN_IF_ERROR(s.Strings("failed", o.poll.failed));
      PV_RETURN_IF_ERROR(s.Strings("canceled", o.poll.canceled));
      PV_RETURN_IF_ERROR(s.Finish());
    }
    return Ok();
  };
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "poll", o.poll.endpoint, read_poll));
  PV_RETURN_IF_ERROR(ReadEndpoint(r, "cancel", o.cancel));
  PV_RETURN_IF_ERROR(r.Finish());
  PV_ASSIGN_OR_RETURN(std::shared_ptr<HttpProvider> p, HttpProvider::Create(std::move(o), client));
  return std::shared_ptr<Provider>(std::move(p));
}

Result<std::shared_ptr<Provider>> LoadFolder(const std::string& id, Reader& r) {
  FolderProviderOptions o;
  o.id = id;
  std::string root;
  PV_RETURN_IF_ERROR(r.Required("root", root));
  if (root.empty()) return Fail(ErrorCode::kInvalidArgument, r.Key("root") + ": empty");
  o.root = root;
  PV_RETURN_IF_ERROR(r.String("base_url", o.base_url));
  if (!o.base_url.empty() && o.base_url.rfind("http://", 0) != 0 &&
      o.base_url.rfind("https://", 0) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                r.Key("base_url") + ": '" + o.base_url + "' is not an http(s) URL");
  }
  PV_RETURN_IF_ERROR(ReadCapabilities(r, o.capabilities));
  PV_RETURN_IF_ERROR(r.Finish());
  auto p = FolderProvider::Open(std::move(o));
  if (!p) {
    return Fail(ErrorCode::kInvalidArgument, r.Key("root") + ": " + p.error().message);
  }
  return std::shared_ptr<Provider>(std::move(*p));
}

}  // namespace

bool IsValidProviderId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id == kUserUploadProvider) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

Result<std::unique_ptr<ProviderRegistry>> LoadProviderRegistry(const toml::table& providers) {
  auto registry = std::make_unique<ProviderRegistry>();
  PV_RETURN_IF_ERROR(registry->Add(MakeUserUploadProvider()));
  auto client = std::make_shared<HttpClient>();
  for (const auto& [key, node] : providers) {
    const std::string id(key.str());
    const std::string prefix = "providers." + id;
    if (!IsValidProviderId(id)) {
      return Fail(
          ErrorCode::kInvalidArgument,
          prefix + ": bad provider id (" +
              (id == kUserUploadProvider ? std::string("user_upload is built in")
                                         : std::string("it must match [a-z0-9][a-z0-9._-]{0,63}")) +
              ")");
    }
    if (!node.is_table()) {
      return Fail(ErrorCode::kInvalidArgument,
                  prefix + ": expected a table, got " + std::string(TypeName(node)));
    }
    Reader r(*node.as_table(), prefix);
    std::string type;
    PV_RETURN_IF_ERROR(r.Required("type", type));
    Result<std::shared_ptr<Provider>> provider = nullptr;
    if (type == "http") {
      provider = LoadHttp(id, r, client);
    } else if (type == "folder") {
      provider = LoadFolder(id, r);
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  r.Key("type") + ": unknown provider type '" + type + "' (http or folder)");
    }
    if (!provider) return Fail(std::move(provider.error()));
    PV_RETURN_IF_ERROR(registry->Add(std::move(*provider)));
  }
  return registry;
}

namespace {

Result<std::unique_ptr<ProviderRegistry>> LoadDocument(const toml::table& doc) {
  const toml::node* providers = doc.get("providers");
  if (providers == nullptr) return LoadProviderRegistry(toml::table{});
  if (!providers->is_table()) {
    return Fail(ErrorCode::kInvalidArgument,
                "providers: expected a table, got " + std::string(TypeName(*providers)));
  }
  return LoadProviderRegistry(*providers->as_table());
}

}  // namespace

Result<std::unique_ptr<ProviderRegistry>> LoadProviderRegistryFile(
    const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Fail(ErrorCode::kNotFound, "config file " + path.string() + " does not exist");
  }
  toml::table doc;
  try {
    doc = toml::parse_file(path.string());
  } catch (const toml::parse_error& err) {
    return Fail(ErrorCode::kInvalidArgument, "config file " + path.string() + " line " +
                                                 std::to_string(err.source().begin.line) + ": " +
                                                 std::string(err.description()));
  }
  auto registry = LoadDocument(doc);
  if (!registry) return Fail(WithContext(std::move(registry.error()), path.string()));
  return registry;
}

Result<std::unique_ptr<ProviderRegistry>> LoadProviderRegistryText(std::string_view toml_text) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text);
  } catch (const toml::parse_error& err) {
    return Fail(ErrorCode::kInvalidArgument, "TOML line " +
                                                 std::to_string(err.source().begin.line) + ": " +
                                                 std::string(err.description()));
  }
  return LoadDocument(doc);
}

}  // namespace pixvault::providers
