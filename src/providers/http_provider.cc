// The http adapter: options, requests, status mapping and answers (http_provider_calls.cc has
// the operations that need more than one request-answer step).
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "fetch/fetch_url.h"
#include "providers/http_provider.h"
#include "providers/http_provider_internal.h"

namespace pixvault::providers {

namespace json = boost::json;
using http_internal::At;
using http_internal::IdText;
using http_internal::IsNameChar;
using http_internal::ParseInt64;
using http_internal::ParseTemplate;
using http_internal::PercentEncode;
using http_internal::ValidatePointer;

namespace {

// Every error leaving the adapter goes through here: credentials are scrubbed from it.
template <class T>
Result<T> Scrubbed(const AccountAccess& account, Result<T> r) {
  if (!r) r.error().message = http_internal::ScrubSecrets(std::move(r.error().message), account);
  return r;
}

}  // namespace

Status HttpProvider::Impl::ParseRoute(const HttpEndpoint& e, std::string_view name,
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

Status HttpProvider::Impl::Validate() {
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
  const auto is_header_name = [](const std::string& name) {
    return !name.empty() &&
           std::all_of(name.begin(), name.end(), [](char c) { return IsNameChar(c) || c == '-'; });
  };
  // A key's header must not be one the client or the auth header already sends.
  const auto taken = [&](const std::string& name) {
    const auto same = [&](std::string_view other) {
      return std::equal(name.begin(), name.end(), other.begin(), other.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      });
    };
    if (!o.auth_value.empty() && same(o.auth_header)) return true;
    for (std::string_view h : {"host", "content-length", "content-type", "transfer-encoding",
                               "connection", "expect", "range", "accept", "user-agent"}) {
      if (same(h)) return true;
    }
    return false;
  };
  for (const auto& [name, key] : {std::pair{&o.upload.idempotency_header, "upload"},
                                  std::pair{&o.submit.idempotency_header, "submit"}}) {
    if (name->empty()) continue;
    if (!is_header_name(*name)) {
      return Fail(ErrorCode::kInvalidArgument, Key(std::string(key) + ".idempotency_header") +
                                                   ": '" + *name + "' is not a header name");
    }
    if (taken(*name)) {
      return Fail(ErrorCode::kInvalidArgument, Key(std::string(key) + ".idempotency_header") +
                                                   ": '" + *name +
                                                   "' is a header the adapter already sends");
    }
  }
  if (!o.auth_value.empty()) {
    if (!is_header_name(o.auth_header)) {
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
  const std::pair<Timestamp, const char*> timeouts[] = {{o.timeout, "timeout_s"},
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

Result<std::string> HttpProvider::Impl::AuthValue(const AccountAccess& account) const {
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

std::string HttpProvider::Impl::Path(const Template& t, std::string_view value) const {
  std::string out;
  for (const auto& s : t.segments) out += s.placeholder ? PercentEncode(value) : s.text;
  return out;
}

Result<HttpRequest> HttpProvider::Impl::NewRequest(const AccountAccess& account, const Route& route,
                                                   std::string_view value, bool transfer) const {
  const bool needs_value = std::any_of(route.path.segments.begin(), route.path.segments.end(),
                                       [](const Template::Segment& s) { return s.placeholder; });
  if (needs_value && value.empty()) {
    // Unknown by definition; sending it would ask for the collection instead ("/v1/files/").
    return Fail(ErrorCode::kNotFound, "provider '" + o.id + "': empty ref or job id");
  }
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
std::string HttpProvider::Impl::ErrorText(const HttpResponse& r, const std::string& pointer) const {
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

Error HttpProvider::Impl::StatusError(const HttpResponse& r, std::string_view what) const {
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
Result<json::value> HttpProvider::Impl::Json(const HttpRequest& r, std::string_view what) const {
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
Status HttpProvider::Impl::Plain(const HttpRequest& r, std::string_view what) const {
  PV_ASSIGN_OR_RETURN(HttpResponse response, Send(r, what));
  if (response.status < 200 || response.status > 299) return Fail(StatusError(response, what));
  return Ok();
}

Result<HttpResponse> HttpProvider::Impl::Send(const HttpRequest& r, std::string_view what,
                                              const ResponseStream* stream) const {
  auto response = client->Send(r, stream);
  if (!response) {
    Error e = std::move(response.error());
    e.message = "provider '" + o.id + "' " + std::string(what) + ": " + e.message;
    return Fail(std::move(e));
  }
  return response;
}

Error HttpProvider::Impl::Malformed(std::string_view what, std::string_view why) const {
  return Error{ErrorCode::kUnavailable, "provider '" + o.id + "' " + std::string(what) +
                                            ": malformed answer: " + std::string(why)};
}

// An expiry in unix seconds (integer or not) or null/absent.
Result<std::optional<Timestamp>> HttpProvider::Impl::Expiry(const json::value& v,
                                                            const std::string& pointer,
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

Result<ProviderRef> HttpProvider::Impl::RefOf(const json::value& v, const std::string& ref_pointer,
                                              const std::string& url_pointer,
                                              const std::string& expires_pointer,
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

Status HttpProvider::Impl::Generates(std::string_view what) const {
  if (o.capabilities.operations.empty()) {
    return Fail(ErrorCode::kUnsupported, "provider '" + o.id + "' " + std::string(what) +
                                             ": no generation operations configured");
  }
  return Ok();
}

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
                                         const boost::json::object& params,
                                         std::string_view idempotency_key) {
  return Scrubbed(account, impl_->Submit(account, operation, params, idempotency_key));
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
