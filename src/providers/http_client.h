// HttpClient: the outbound HTTP/1.1 client of the provider adapters, for provider APIs whose
// URLs the administrator configured (so, unlike fetch::Fetcher, no guard against private
// addresses; only http:// and https:// URLs, without userinfo).
//
// One request per call, one attempt: no retries and no redirects followed (a 3xx is returned
// like any other status). https verifies the peer against the system trust store and the
// URL's host name (SNI set). Request bodies come from memory, from a file streamed in chunks
// (a raw body with Content-Length), or as multipart/form-data with text fields and one file
// part streamed from disk (Content-Length computed up front); memory stays flat whatever
// the file size. Response bodies are collected into a string up to a cap, or streamed to a
// callback.
//
// Timeouts: `connect` (TCP connect plus TLS handshake), `idle` (no byte sent or received for
// that long) and `total` (the whole call). Host names are resolved with the system resolver
// before the connect timeout starts (its own timeouts apply).
//
// Connections are kept alive and reused: up to 4 idle ones per scheme://host:port, for 20 s.
// A POST opens a new connection (a request that must not be sent twice never meets a
// connection the server may have just closed) unless it is marked `may_resend`; any other
// request (or such a POST) that finds its pooled connection closed before any byte of the
// answer is sent again, once, on a new connection.
//
// Thread-safe: one HttpClient may serve concurrent calls; each call does its I/O on the
// calling thread and blocks it until done. Boost.Beast, Asio and OpenSSL stay in the .cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace pixvault::providers {

enum class HttpMethod { kGet, kPost, kPut, kDelete };

// "GET", "POST", ...
std::string_view HttpMethodName(HttpMethod method);
// The method of a name ("get" or "GET"); kInvalidArgument for anything else.
Result<HttpMethod> ParseHttpMethod(std::string_view name);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// A multipart/form-data body: `fields` as text parts (in order), then one file part.
struct MultipartBody {
  std::vector<std::pair<std::string, std::string>> fields;
  std::string file_field = "file";  // the file part's name
  std::string filename;             // its filename parameter
  std::string content_type = "application/octet-stream";
  std::filesystem::path path;  // streamed from disk
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string url;  // absolute http:// or https:// URL
  // Sent as given (after the client's Host, User-Agent, Content-Length and Connection). Values
  // are never repeated in error messages.
  HttpHeaders headers;

  // The body: at most one of these. With none, no body is sent (Content-Length: 0 for
  // POST and PUT).
  std::optional<std::string> body;                 // from memory
  std::optional<std::filesystem::path> body_file;  // raw, the whole file streamed
  std::optional<MultipartBody> multipart;          // Content-Type set by the client
  std::string content_type;  // Content-Type of `body` / `body_file`; empty: none sent

  // Name resolution and the TCP (and TLS) connect, each.
  Timestamp connect_timeout = 10 * kMicrosPerSecond;
  Timestamp idle_timeout = 30 * kMicrosPerSecond;
  Timestamp total_timeout = 60 * kMicrosPerSecond;
  // Cap on a collected response body: a larger 2xx body fails the call with kUnavailable;
  // the body of any other status is cut at the cap (the call succeeds).
  std::int64_t max_response_bytes = std::int64_t{1} << 20;
  // A POST whose second sending does no harm (an upload of the same bytes: at worst the
  // provider keeps a copy nobody refers to), so it may take a pooled connection. Ignored for
  // other methods, which always may.
  bool may_resend = false;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // as received, in order
  std::string body;     // collected bodies only

  // The first value of header `name` (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// Where a streamed response goes.
struct ResponseStream {
  // Called once with the response head (status and headers, body empty). Return true to
  // stream the body to on_data, false to collect it into HttpResponse::body (capped as for
  // any collected body), e.g. for an error answer. An error aborts the call and is returned.
  std::function<Result<bool>(const HttpResponse& head)> on_head;
  // Each chunk of a streamed body; an error aborts the call and is returned unchanged.
  std::function<Status(std::span<const std::byte>)> on_data;
};

// Turns a host name into its addresses ("127.0.0.1", "2001:db8::1"), or fails with the reason.
// The default asks the system resolver (getaddrinfo); tests put a slow or failing one in its
// place. Called on a thread of its own, which the client stops waiting for after the request's
// connect_timeout: it must not refer to anything that may be gone by the time it returns.
using NameResolver = std::function<Result<std::vector<std::string>>(const std::string& host)>;

class HttpClient {
 public:
  HttpClient();
  explicit HttpClient(NameResolver resolve);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and returns the response (any status: the caller interprets it), with
  // its body collected, or streamed to `stream` when given and its on_head says so.
  //
  // Errors: kInvalidArgument (URL not acceptable, two bodies given, a header name or value
  // with CR/LF), kInternal (a body file cannot be opened or read), kUnavailable (name
  // resolution, connect, TLS or protocol failures, timeouts, a collected body over the cap),
  // or what a stream callback returned. Messages name the URL without its query string and
  // never contain header values.
  Result<HttpResponse> Send(const HttpRequest& request, const ResponseStream* stream = nullptr);

  // How many connections this client opened so far (for tests and metrics).
  std::int64_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pixvault::providers
