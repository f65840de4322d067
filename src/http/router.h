// The route table: every route of the API with its handler, limits and the documentation
// the OpenAPI description is generated from (one source of truth).
//
// Paths are matched segment by segment after percent-decoding each segment; a segment that
// decodes to "." or ".." or contains a "/" (an encoded slash) is refused before matching.
// Not thread-safe to modify; safe to match from many threads once built.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace pixvault::http {

struct ParamDoc {
  std::string name;
  std::string in = "query";     // path, query, header
  std::string type = "string";  // string, integer, number, boolean
  bool required = false;
  bool repeated = false;
  std::string description;
  std::vector<std::string> enum_values;
  std::optional<std::int64_t> minimum;
  std::optional<std::int64_t> maximum;
};

struct ResponseDoc {
  int status = 200;
  std::string description;
  std::string schema;  // name in components/schemas, or "" for no body
  std::string content_type = "application/json";
};

struct RouteDoc {
  std::string summary;
  std::string tag;
  std::vector<ParamDoc> params;
  // Request body: content types accepted and the schema of a JSON body.
  std::vector<std::string> request_content;
  std::string request_schema;
  bool request_required = false;
  std::vector<ResponseDoc> responses;
};

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/assets/{id}"
  std::string name;     // operationId, also the metrics label
  bool auth = true;
  std::int64_t body_limit = 1 << 20;  // bytes; buffered routes read at most this much
  Handler handler;                    // buffered body (or none)
  StreamingHandler streaming;         // streamed body (uploads)
  RouteDoc doc;
  // The handler may block for long (e.g. a download): it runs on the server's blocking pool,
  // not on an I/O thread.
  bool blocking = false;
  // With `blocking`: the handler may wait on another service (a provider, a remote URL) for as
  // long as that service takes. It runs on the remote pool instead (ServerOptions::
  // remote_threads), so slow or hung services never hold the threads local work needs
  // (finishing uploads, rendering thumbnails).
  bool remote = false;
  // A blocking route's answer when it can be given at once (e.g. from the database alone):
  // run first on the I/O thread; nullopt hands the request to `handler` on its pool,
  // or to `Request::then` when the step set it (to pass on what it has read).
  // It must not block (no network, no sleeping, no waiting on another request).
  std::function<std::optional<Result<Response>>(Request&)> at_once = nullptr;
  // The handler (or at_once step) reads or writes the database, so it runs where database
  // work runs (ServerOptions::database_threads). False: always on the I/O thread (a liveness
  // probe must answer while the database is slow).
  bool database = true;
};

struct Match {
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> allowed_methods;  // when the path matched but the method did not
};

class Router {
 public:
  void Add(Route route) {
    if (route.remote) route.blocking = true;  // remote is a pool of blocking work
    routes_.push_back(std::move(route));
  }
  const std::vector<Route>& routes() const { return routes_; }
  // kInvalidArgument for a malformed path (bad escapes, dot segments, encoded slashes).
  Result<Match> Find(std::string_view method, std::string_view raw_path) const;

 private:
  std::vector<Route> routes_;
};

// Percent-decodes `in`; `plus_is_space` for query strings. kInvalidArgument on bad escapes.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);
// Splits and decodes "a=1&b=x%20y".
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

}  // namespace pixvault::http
