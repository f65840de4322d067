// Internal to the http adapter's .cc files (http_provider*.cc): its option helpers (templates,
// JSON pointers, credential scrubbing) and the state behind HttpProvider. Not an API.
#pragma once

#include <boost/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "providers/http_provider.h"

namespace pixvault::providers {
namespace http_internal {

// A parsed "{name}" template: literal text and placeholder names, in order.
struct Template {
  struct Segment {
    bool placeholder = false;
    std::string text;  // the literal, or the placeholder's name
  };
  std::vector<Segment> segments;
};

// Parses `text`; kInvalidArgument naming `key` for unbalanced braces or a name outside
// `allowed` (nullopt: any name of [A-Za-z0-9_]+, as for credential members).
Result<Template> ParseTemplate(std::string_view text, const std::string& key,
                               const std::optional<std::set<std::string>>& allowed);
bool IsNameChar(char c);
// Every byte but RFC 3986 unreserved ones as %XX: a value stays one path segment.
std::string PercentEncode(std::string_view s);
// RFC 6901 syntax: empty, or '/'-separated tokens with '~' only as ~0 or ~1.
Status ValidatePointer(std::string_view p, const std::string& key);
// The value at `pointer`, or nullptr.
const boost::json::value* At(const boost::json::value& v, std::string_view pointer);
// A string or an integer as text (ids are either); nullopt for anything else.
std::optional<std::string> IdText(const boost::json::value* v);
std::optional<std::int64_t> ParseInt64(std::string_view s);
// `text` with every secret of `account`'s credentials replaced by "[redacted]".
std::string ScrubSecrets(std::string text, const AccountAccess& account);

}  // namespace http_internal

struct HttpProvider::Impl {
  using Template = http_internal::Template;
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
                    const std::set<std::string>& placeholders, Route& out) const;

  Status Validate();

  Result<std::string> AuthValue(const AccountAccess& account) const;

  std::string Path(const Template& t, std::string_view value) const;

  Result<HttpRequest> NewRequest(const AccountAccess& account, const Route& route,
                                 std::string_view value, bool transfer) const;

  // What a provider said in an error answer: the string at error_pointer, else a prefix of
  // the body; "" when nothing printable.
  std::string ErrorText(const HttpResponse& r, const std::string& pointer) const;

  Error StatusError(const HttpResponse& r, std::string_view what) const;

  // Sends a request expecting a JSON object answer (2xx) and parses it.
  Result<boost::json::value> Json(const HttpRequest& r, std::string_view what) const;

  // Sends a request whose answer only needs a 2xx.
  Status Plain(const HttpRequest& r, std::string_view what) const;

  Result<HttpResponse> Send(const HttpRequest& r, std::string_view what,
                            const ResponseStream* stream = nullptr) const;

  Error Malformed(std::string_view what, std::string_view why) const;

  // An expiry in unix seconds (integer or not) or null/absent.
  Result<std::optional<Timestamp>> Expiry(const boost::json::value& v, const std::string& pointer,
                                          std::string_view what) const;

  Result<ProviderRef> RefOf(const boost::json::value& v, const std::string& ref_pointer,
                            const std::string& url_pointer, const std::string& expires_pointer,
                            std::string_view what) const;

  Result<ProviderRef> Upload(const AccountAccess& account, const UploadFile& file) const;

  Status Download(const AccountAccess& account, const ProviderRef& ref, std::int64_t offset,
                  const DownloadSink& sink) const;

  Result<std::string> Submit(const AccountAccess& account, std::string_view operation,
                             const boost::json::object& params,
                             std::string_view idempotency_key) const;

  Status Generates(std::string_view what) const;

  Result<GenerationStatus> Poll(const AccountAccess& account, std::string_view job_id) const;
};

}  // namespace pixvault::providers
