#include "providers/http_provider.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "fetch/fetch_url.h"

namespace pixvault::providers {
namespace {

namespace json = boost::json;

// A parsed "{name}" template: literal text and placeholder names, alternating.
struct Template {
  struct Segment {
    bool placeholder = false;
    std::string text;  // the literal, or the placeholder's name
  };
  std::vector<Segment> segments;
};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// `allowed` nullopt: any name of [A-Za-z0-9_]+ (credential members).
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

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
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

// RFC 6901: empty (the whole document) or "/"-separated tokens with '~' only as ~0 or ~1.
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

const json::value* At(const json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const json::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

// A string or an integer as text (ids are either); nullopt for anything else.
std::optional<std::string> IdText(const json::value* v) {
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

// Every error leaving the adapter goes through here: credentials are scrubbed from it.
template <class T>
Result<T> Scrubbed(const AccountAccess& account, Result<T> r) {
  if (!r) r.error().message = Scrub(std::move(r.error().message), Secrets(account));
  return r;
}

}  // namespace

struct HttpProvider::Impl {
  HttpProviderOptions o;
  std::shared_ptr<HttpClient> client;
  std::string base;  // base_url without a trailing '/'
  Template auth;
  std::map<std::string, Template> upload_fields;
  struct Route {
    HttpMethod method = HttpMethod::kGet;
    Template path;
  };
  Route upload, download, check, remove, submit, poll, cancel;

  std::string Key(std::string_view k) const { return "providers." + o.id + "." + std::string(k); }

  Status ParseRoute(const HttpEndpoint& e, std::string_view name,
                    const std::set<std::string>& placeholders, Route& out) const {
    auto method = ParseHttpMethod(e.method);
    if (!method) {
      return Fail(ErrorCode::kInvalidArgument,
                  Key(std::string(name) + ".method") + ": " + method.error().message);
    }
    out.method = *method;
    const std::string key = Key(std::string(name) + ".path");
    if (e.path.empty() || e.path.front() != '/' ||
        e.path.find_first_of(" \t\r\n#") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  key + ": '" + e.path + "' must start with '/' and hold no spaces or '#'");
    }
    PV_ASSIGN_OR_RETURN(out.path, ParseTemplate(e.path, key, placeholders));
    return Ok();
  }

  Status Validate() {
    PV_ASSIGN_OR_RETURN(const fetch::FetchUrl url,
                        fetch::ParseFetchUrl(o.base_url).map_error([&](Error e) {
                          e.message = Key("base_url") + ": " + e.message;
                          e.code = ErrorCode::kInvalidArgument;
                          return e;
                        }));
    if (o.base_url.find_first_of("?#") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, Key("base_url") + ": no query or fragment allowed");
    }
    base = o.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!o.auth_value.empty()) {
      if (o.auth_header.empty() || !std::all_of(o.auth_header.begin(), o.auth_header.end(),
                                                [](char c) { return IsNameChar(c) || c == '-'; })) {
        return Fail(ErrorCode::kInvalidArgument,
                    Key("auth_header") + ": '" + o.auth_header + "' is not a header name");
      }
      if (o.auth_value.find_first_of("\r\n") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, Key("auth_value") + ": holds a line break");
      }
      PV_ASSIGN_OR_RETURN(auth, ParseTemplate(o.auth_value, Key("auth_value"), std::nullopt));
    }
    PV_RETURN_IF_ERROR(ParseRoute(o.upload.endpoint, "upload", {}, upload));
    for (const auto& [name, value] : o.upload.fields) {
      const std::string key = Key("upload.fields." + name);
      if (name.empty()) return Fail(ErrorCode::kInvalidArgument, key + ": empty field name");
      PV_ASSIGN_OR_RETURN(upload_fields[name],
                          ParseTemplate(value, key,
                                        std::set<std::string>{"filename", "content_type", "sha256",
                                                              "size", "media_type"}));
    }
    PV_RETURN_IF_ERROR(ParseRoute(o.download, "download", {"ref"}, download));
    PV_RETURN_IF_ERROR(ParseRoute(o.check, "check", {"ref"}, check));
    PV_RETURN_IF_ERROR(ParseRoute(o.remove, "delete", {"ref"}, remove));
    PV_RETURN_IF_ERROR(ParseRoute(o.submit.endpoint, "submit", {}, submit));
    PV_RETURN_IF_ERROR(ParseRoute(o.poll.endpoint, "poll", {"job"}, poll));
    PV_RETURN_IF_ERROR(ParseRoute(o.cancel, "cancel", {"job"}, cancel));
    const std::pair<const std::string*, const char*> pointers[] = {
        {&o.error_pointer, "error_pointer"},
        {&o.upload.ref_pointer, "upload.ref_pointer"},
        {&o.upload.url_pointer, "upload.url_pointer"},
        {&o.upload.expires_pointer, "upload.expires_pointer"},
        {&o.submit.job_id_pointer, "submit.job_id_pointer"},
        {&o.poll.status_pointer, "poll.status_pointer"},
        {&o.poll.outputs_pointer, "poll.outputs_pointer"},
        {&o.poll.output_ref_pointer, "poll.output_ref_pointer"},
        {&o.poll.output_url_pointer, "poll.output_url_pointer"},
        {&o.poll.output_expires_pointer, "poll.output_expires_pointer"},
        {&o.poll.error_pointer, "poll.error_pointer"},
    };
    for (const auto& [pointer, key] : pointers)
      PV_RETURN_IF_ERROR(ValidatePointer(*pointer, Key(key)));
    for (int status : o.refusal_statuses) {
      if (status < 400 || status > 599) {
        return Fail(ErrorCode::kInvalidArgument, Key("refusal_statuses") + ": " +
                                                     std::to_string(status) +
                                                     " is not an HTTP error status (400..599)");
      }
    }
    const std::pair<Timestamp, const char*> timeouts[] = {
        {o.timeout, "timeout_s"},
        {o.connect_timeout, "connect_timeout_s"},
        {o.transfer_timeout, "transfer_timeout_s"}};
    for (const auto& [value, key] : timeouts) {
      if (value <= 0) {
        return Fail(ErrorCode::kInvalidArgument, Key(key) + ": must be more than 0");
      }
    }
    if (o.idle_timeout < 0) {
      return Fail(ErrorCode::kInvalidArgument, Key("idle_timeout_s") + ": must be 0 or more");
    }
    if (o.max_json_bytes <= 0) {
      return Fail(ErrorCode::kInvalidArgument, Key("max_json_bytes") + ": must be more than 0");
    }
    const Capabilities& c = o.capabilities;
    if (c.max_bytes < 0 || c.max_pixels < 0 || c.max_duration_s < 0 || c.ref_ttl < 0 ||
        !std::isfinite(c.max_duration_s)) {
      return Fail(ErrorCode::kInvalidArgument,
                  Key("max_bytes/max_pixels/max_duration_s/ref_ttl_s") + ": must be 0 or more");
    }
    return Ok();
  }

  Result<std::string> AuthValue(const AccountAccess& account) const {
    std::string out;
    for (const auto& s : auth.segments) {
      if (!s.placeholder) {
        out += s.text;
        continue;
      }
      auto it = account.credentials.find(s.text);
      if (it == account.credentials.end()) {
        return Fail(ErrorCode::kInvalidArgument,
                    "provider '" + o.id + "': the credentials of account " +
                        std::to_string(account.account_id) + " have no member '" + s.text +
                        "' (needed by auth_value)");
      }
      if (auto text = IdText(&it->value())) {
        out += *text;
      } else {
        return Fail(ErrorCode::kInvalidArgument,
                    "provider '" + o.id + "': credential member '" + s.text + "' of account " +
                        std::to_string(account.account_id) + " is not a string");
      }
    }
    if (out.find_first_of("\r\n") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id +
                                                   "': credential used in auth_value holds a "
                                                   "line break");
    }
    return out;
  }

  std::string Path(const Template& t, std::string_view value) const {
    std::string out;
    for (const auto& s : t.segments) out += s.placeholder ? PercentEncode(value) : s.text;
    return out;
  }

  Result<HttpRequest> NewRequest(const AccountAccess& account, const Route& route,
                                 std::string_view value, bool transfer) const {
    HttpRequest r;
    r.method = route.method;
    r.url = base + Path(route.path, value);
    if (!o.auth_value.empty()) {
      PV_ASSIGN_OR_RETURN(std::string auth_value, AuthValue(account));
      r.headers.emplace_back(o.auth_header, std::move(auth_value));
    }
    r.headers.emplace_back("Accept", "application/json");
    r.connect_timeout = o.connect_timeout;
    r.total_timeout = transfer ? o.transfer_timeout : o.timeout;
    r.idle_timeout = o.idle_timeout > 0 ? o.idle_timeout : o.timeout;
    r.max_response_bytes = o.max_json_bytes;
    return r;
  }

  // What a provider said in an error answer: the string at error_pointer, else a prefix of
  // the body; "" when nothing printable.
  std::string ErrorText(const HttpResponse& r, const std::string& pointer) const {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (!ec) {
      if (const json::value* e = At(v, pointer); e != nullptr && e->is_string()) {
        return std::string(e->get_string()).substr(0, 500);
      }
      for (const char* p : {"/detail", "/title", "/message", "/error/message"}) {
        if (const json::value* e = At(v, p); e != nullptr && e->is_string()) {
          return std::string(e->get_string()).substr(0, 500);
        }
      }
    }
    std::string text;
    for (char c : r.body.substr(0, 200)) text += (c >= 0x20 && c < 0x7f) ? c : ' ';
    return text;
  }

  Error StatusError(const HttpResponse& r, std::string_view what) const {
    const int s = r.status;
    ErrorCode code = ErrorCode::kUnavailable;
    if (std::find(o.refusal_statuses.begin(), o.refusal_statuses.end(), s) !=
        o.refusal_statuses.end()) {
      code = ErrorCode::kPermissionDenied;
    } else if (s == 404 || s == 410) {
      code = ErrorCode::kNotFound;
    } else if (s == 401 || s == 403) {
      code = ErrorCode::kPermissionDenied;
    } else if (s == 408 || s == 429 || s >= 500) {
      code = ErrorCode::kUnavailable;
    } else if (s >= 400) {
      code = ErrorCode::kInvalidArgument;
    }
    std::string message =
        "provider '" + o.id + "' " + std::string(what) + ": answered " + std::to_string(s);
    const std::string text = ErrorText(r, o.error_pointer);
    if (!text.empty()) message += " (" + text + ")";
    return Error{code, std::move(message)};
  }

  // Sends a request expecting a JSON object answer (2xx) and parses it.
  Result<json::value> Json(const HttpRequest& r, std::string_view what) const {
    PV_ASSIGN_OR_RETURN(HttpResponse response, Send(r, what));
    if (response.status < 200 || response.status > 299) return Fail(StatusError(response, what));
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    if (ec) {
      return Fail(ErrorCode::kUnavailable, "provider '" + o.id + "' " + std::string(what) +
                                               ": the answer is not JSON (" + ec.message() + ")");
    }
    return v;
  }

  // Sends a request whose answer only needs a 2xx.
  Status Plain(const HttpRequest& r, std::string_view what) const {
    PV_ASSIGN_OR_RETURN(HttpResponse response, Send(r, what));
    if (response.status < 200 || response.status > 299) return Fail(StatusError(response, what));
    return Ok();
  }

  Result<HttpResponse> Send(const HttpRequest& r, std::string_view what,
                            const ResponseStream* stream = nullptr) const {
    auto response = client->Send(r, stream);
    if (!response) {
      Error e = std::move(response.error());
      e.message = "provider '" + o.id + "' " + std::string(what) + ": " + e.message;
      return Fail(std::move(e));
    }
    return response;
  }

  Error Malformed(std::string_view what, std::string_view why) const {
    return Error{ErrorCode::kUnavailable, "provider '" + o.id + "' " + std::string(what) +
                                              ": malformed answer: " + std::string(why)};
  }

  // An expiry in unix seconds (integer or not) or null/absent.
  Result<std::optional<Timestamp>> Expiry(const json::value& v, const std::string& pointer,
                                          std::string_view what) const {
    if (pointer.empty()) return std::optional<Timestamp>();
    const json::value* e = At(v, pointer);
    if (e == nullptr || e->is_null()) return std::optional<Timestamp>();
    if (e->is_number()) {
      const double seconds = e->to_number<double>();
      if (std::isfinite(seconds) && seconds >= 0 && seconds < 1e11) {
        return std::optional<Timestamp>(
            static_cast<Timestamp>(std::llround(seconds * kMicrosPerSecond)));
      }
    }
    return Fail(Malformed(what, pointer + " is not unix seconds or null"));
  }

  Result<ProviderRef> RefOf(const json::value& v, const std::string& ref_pointer,
                            const std::string& url_pointer, const std::string& expires_pointer,
                            std::string_view what) const {
    ProviderRef ref;
    auto id = IdText(At(v, ref_pointer));
    if (!id || id->empty()) {
      return Fail(Malformed(what, "no ref (string or integer) at '" + ref_pointer + "'"));
    }
    ref.ref = std::move(*id);
    if (!url_pointer.empty()) {
      if (const json::value* u = At(v, url_pointer); u != nullptr && u->is_string()) {
        ref.url = std::string(u->get_string());
      }
    }
    PV_ASSIGN_OR_RETURN(ref.expires_at, Expiry(v, expires_pointer, what));
    return ref;
  }

  Result<ProviderRef> Upload(const AccountAccess& account, const UploadFile& file) const {
    const Capabilities& c = o.capabilities;
    if (!c.uploads) {
      return Fail(ErrorCode::kUnsupported, "provider '" + o.id + "' does not accept uploads");
    }
    if (c.max_bytes > 0 && file.size > c.max_bytes) {
      return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' takes files up to " +
                                                   std::to_string(c.max_bytes) + " bytes, not " +
                                                   std::to_string(file.size));
    }
    if (!c.media_types.empty() && std::find(c.media_types.begin(), c.media_types.end(),
                                            file.media_type) == c.media_types.end()) {
      return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' does not take " +
                                                   std::string(ToString(file.media_type)) +
                                                   " files");
    }
    PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, upload, "", true));
    r.max_response_bytes = o.max_json_bytes;
    const std::string content_type =
        file.content_type.empty() ? "application/octet-stream" : file.content_type;
    if (o.upload.multipart) {
      MultipartBody m;
      m.file_field = o.upload.field;
      m.filename = file.filename.empty() ? file.sha256 : file.filename;
      m.content_type = content_type;
      m.path = file.path;
      for (const auto& [name, t] : upload_fields) {
        std::string value;
        for (const auto& s : t.segments) {
          if (!s.placeholder) {
            value += s.text;
          } else if (s.text == "filename") {
            value += m.filename;
          } else if (s.text == "content_type") {
            value += content_type;
          } else if (s.text == "sha256") {
            value += file.sha256;
          } else if (s.text == "size") {
            value += std::to_string(file.size);
          } else if (s.text == "media_type") {
            value += ToString(file.media_type);
          }
        }
        m.fields.emplace_back(name, std::move(value));
      }
      r.multipart = std::move(m);
    } else {
      r.body_file = file.path;
      r.content_type = content_type;
    }
    PV_ASSIGN_OR_RETURN(json::value v, Json(r, "upload"));
    return RefOf(v, o.upload.ref_pointer, o.upload.url_pointer, o.upload.expires_pointer, "upload");
  }

  Status Download(const AccountAccess& account, const ProviderRef& ref, std::int64_t offset,
                  const DownloadSink& sink) const {
    if (offset < 0) return Fail(ErrorCode::kInvalidArgument, "download: negative offset");
    PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, download, ref.ref, true));
    if (offset > 0) r.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
    for (auto& [name, value] : r.headers) {
      if (name == "Accept") value = "*/*";  // the file, not JSON
    }
    r.headers.emplace_back("Accept-Encoding", "identity");

    std::int64_t skip = 0;  // bytes to drop (a server that ignored Range)
    std::optional<std::int64_t> total;
    bool started = false;
    auto start = [&]() -> Status {
      started = true;
      if (sink.on_start) return sink.on_start(total);
      return Ok();
    };
    ResponseStream stream;
    stream.on_head = [&](const HttpResponse& head) -> Result<bool> {
      const std::string* length = head.Header("Content-Length");
      if (head.status == 200) {
        if (length != nullptr) total = ParseInt64(*length);
        if (total && offset > *total) {
          return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' download: offset " +
                                                       std::to_string(offset) +
                                                       " past the end of " + ref.ref + " (" +
                                                       std::to_string(*total) + " bytes)");
        }
        skip = offset;
        PV_RETURN_IF_ERROR(start());
        return true;
      }
      if (head.status == 206) {
        const std::string* range = head.Header("Content-Range");
        // "bytes first-last/total" (total may be "*").
        std::optional<std::int64_t> first;
        if (range != nullptr && range->rfind("bytes ", 0) == 0) {
          const std::string_view spec = std::string_view(*range).substr(6);
          const auto dash = spec.find('-');
          const auto slash = spec.find('/');
          if (dash != std::string_view::npos && slash != std::string_view::npos && dash < slash) {
            first = ParseInt64(spec.substr(0, dash));
            total = ParseInt64(spec.substr(slash + 1));
          }
        }
        if (!first || *first != offset) {
          return Fail(Malformed("download", "206 with a Content-Range that does not start at " +
                                                std::to_string(offset)));
        }
        PV_RETURN_IF_ERROR(start());
        return true;
      }
      return false;
    };
    stream.on_data = [&](std::span<const std::byte> data) -> Status {
      if (skip > 0) {
        const auto n = static_cast<std::size_t>(
            std::min<std::int64_t>(skip, static_cast<std::int64_t>(data.size())));
        skip -= static_cast<std::int64_t>(n);
        data = data.subspan(n);
      }
      if (data.empty()) return Ok();
      return sink.on_data(data);
    };
    PV_ASSIGN_OR_RETURN(HttpResponse response, Send(r, "download", &stream));
    if (started) {
      if (skip > 0) {
        return Fail(ErrorCode::kInvalidArgument, "provider '" + o.id + "' download: offset " +
                                                     std::to_string(offset) + " past the end of " +
                                                     ref.ref);
      }
      return Ok();
    }
    if (response.status == 416 && offset > 0) {
      // Nothing after `offset`: fine when offset is exactly the size ("bytes */size").
      const std::string* range = response.Header("Content-Range");
      if (range != nullptr && range->rfind("bytes */", 0) == 0) {
        if (auto size = ParseInt64(std::string_view(*range).substr(8)); size && *size == offset) {
          total = size;
          return start();
        }
      }
    }
    if (response.status >= 200 && response.status <= 299) {
      return Fail(Malformed(
          "download", "status " + std::to_string(response.status) + " instead of 200 or 206"));
    }
    return Fail(StatusError(response, "download"));
  }

  Result<std::string> Submit(const AccountAccess& account, std::string_view operation,
                             const json::object& params) const {
    PV_RETURN_IF_ERROR(Generates("submit"));
    const auto& ops = o.capabilities.operations;
    if (std::find(ops.begin(), ops.end(), operation) == ops.end()) {
      return Fail(ErrorCode::kUnsupported, "provider '" + o.id + "' does not run '" +
                                               std::string(operation.substr(0, 64)) + "'");
    }
    PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, submit, "", false));
    json::object body;
    body["operation"] = operation;
    body["params"] = params;
    r.body = json::serialize(body);
    r.content_type = "application/json";
    PV_ASSIGN_OR_RETURN(json::value v, Json(r, "submit"));
    auto id = IdText(At(v, o.submit.job_id_pointer));
    if (!id || id->empty()) {
      return Fail(Malformed("submit", "no job id at '" + o.submit.job_id_pointer + "'"));
    }
    return *id;
  }

  Status Generates(std::string_view what) const {
    if (o.capabilities.operations.empty()) {
      return Fail(ErrorCode::kUnsupported, "provider '" + o.id + "' " + std::string(what) +
                                               ": no generation operations configured");
    }
    return Ok();
  }

  Result<GenerationStatus> Poll(const AccountAccess& account, std::string_view job_id) const {
    PV_RETURN_IF_ERROR(Generates("poll"));
    PV_ASSIGN_OR_RETURN(HttpRequest r, NewRequest(account, poll, job_id, false));
    PV_ASSIGN_OR_RETURN(json::value v, Json(r, "poll"));
    const auto& p = o.poll;
    GenerationStatus status;
    status.job_id = std::string(job_id);
    const json::value* s = At(v, p.status_pointer);
    if (s == nullptr || !s->is_string()) {
      return Fail(Malformed("poll", "no status string at '" + p.status_pointer + "'"));
    }
    const std::string text(s->get_string());
    auto in = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), text) != names.end();
    };
    if (in(p.queued)) {
      status.state = GenerationState::kQueued;
    } else if (in(p.running)) {
      status.state = GenerationState::kRunning;
    } else if (in(p.succeeded)) {
      status.state = GenerationState::kSucceeded;
    } else if (in(p.failed)) {
      status.state = GenerationState::kFailed;
    } else if (in(p.canceled)) {
      status.state = GenerationState::kCanceled;
    } else {
      return Fail(Malformed("poll", "unknown status '" + text.substr(0, 64) + "'"));
    }
    if (status.state == GenerationState::kSucceeded) {
      const json::value* outputs = At(v, p.outputs_pointer);
      if (outputs == nullptr || !outputs->is_array()) {
        return Fail(Malformed("poll", "no outputs array at '" + p.outputs_pointer + "'"));
      }
      for (const json::value& out : outputs->get_array()) {
        PV_ASSIGN_OR_RETURN(ProviderRef ref, RefOf(out, p.output_ref_pointer, p.output_url_pointer,
                                                   p.output_expires_pointer, "poll"));
        status.outputs.push_back(std::move(ref));
      }
    }
    if (status.state == GenerationState::kFailed) {
      if (const json::value* e = At(v, p.error_pointer); e != nullptr && e->is_string()) {
        status.error = std::string(e->get_string()).substr(0, 1000);
      }
      if (status.error.empty()) status.error = "failed (the provider gave no reason)";
    }
    return status;
  }
};

HttpProvider::HttpProvider(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpProvider::~HttpProvider() = default;

Result<std::shared_ptr<HttpProvider>> HttpProvider::Create(HttpProviderOptions options,
                                                           std::shared_ptr<HttpClient> client) {
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  impl->client = client ? std::move(client) : std::make_shared<HttpClient>();
  PV_RETURN_IF_ERROR(impl->Validate());
  return std::shared_ptr<HttpProvider>(new HttpProvider(std::move(impl)));
}

const std::string& HttpProvider::id() const { return impl_->o.id; }
const Capabilities& HttpProvider::capabilities() const { return impl_->o.capabilities; }

Result<ProviderRef> HttpProvider::Upload(const AccountAccess& account, const UploadFile& file) {
  return Scrubbed(account, impl_->Upload(account, file));
}

Status HttpProvider::Download(const AccountAccess& account, const ProviderRef& ref,
                              std::int64_t offset, const DownloadSink& sink) {
  return Scrubbed(account, impl_->Download(account, ref, offset, sink));
}

Status HttpProvider::Check(const AccountAccess& account, const ProviderRef& ref) {
  auto r = impl_->NewRequest(account, impl_->check, ref.ref, false);
  if (!r) return Scrubbed<void>(account, Fail(r.error()));
  return Scrubbed(account, impl_->Plain(*r, "check"));
}

Status HttpProvider::Delete(const AccountAccess& account, const ProviderRef& ref) {
  auto r = impl_->NewRequest(account, impl_->remove, ref.ref, false);
  if (!r) return Scrubbed<void>(account, Fail(r.error()));
  return Scrubbed(account, impl_->Plain(*r, "delete"));
}

Result<std::string> HttpProvider::Submit(const AccountAccess& account, std::string_view operation,
                                         const boost::json::object& params) {
  return Scrubbed(account, impl_->Submit(account, operation, params));
}

Result<GenerationStatus> HttpProvider::Poll(const AccountAccess& account, std::string_view job_id) {
  return Scrubbed(account, impl_->Poll(account, job_id));
}

Status HttpProvider::Cancel(const AccountAccess& account, std::string_view job_id) {
  if (auto st = impl_->Generates("cancel"); !st) return st;
  auto r = impl_->NewRequest(account, impl_->cancel, job_id, false);
  if (!r) return Scrubbed<void>(account, Fail(r.error()));
  return Scrubbed(account, impl_->Plain(*r, "cancel"));
}

}  // namespace pixvault::providers
