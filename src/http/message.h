// HTTP request and response as route handlers see them: plain structs, no Boost.Beast, so
// handler files stay cheap to compile. The server (server.cc) converts to and from Beast.
#pragma once

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

#include "core/error.h"
#include "core/model.h"

namespace pixvault::http {

// Header names compare case-insensitively.
class Headers {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  void Set(std::string_view name, std::string value);
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Response;

struct Request {
  std::string method;                                      // "GET"
  std::string target;                                      // raw target "/api/v1/assets?limit=5"
  std::string path;                                        // decoded path "/api/v1/assets"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::vector<std::pair<std::string, std::string>> path_params;  // {"id", "42"}
  std::string body;                                              // buffered routes only
  std::optional<std::int64_t> content_length;
  // Set by the server after authentication (routes that require it).
  std::optional<User> user;
  // Set by a blocking route's `at_once` step that has done part of the work (e.g. the reads)
  // and hands the rest to the route's pool, which then runs this instead of the handler.
  std::function<Result<Response>()> then;
  // With `then`: the rest waits on another service (a provider), so it runs on the remote
  // pool whatever the route's pool is (see Route::remote).
  bool then_remote = false;

  std::optional<std::string_view> QueryParam(std::string_view name) const;
  std::vector<std::string_view> QueryParams(std::string_view name) const;
  std::string_view PathParam(std::string_view name) const;
};

// A response body streamed from a file range.
struct FileBody {
  std::filesystem::path path;
  std::int64_t offset = 0;
  std::int64_t length = 0;
  // The file already open (read with pread), so it is served even if `path` is removed
  // meanwhile (an evicted blob); null: `path` is opened when the response is written.
  std::shared_ptr<const int> fd;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::optional<FileBody> file;

  static Response Json(int status, std::string body);
};

// Receives a streamed request body (uploads). Write is called with each chunk as it
// arrives; Finish once the body is complete. Destroying a sink without Finish means the
// request was aborted: it must leave nothing behind.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(std::span<const std::byte> chunk) = 0;
  virtual Result<Response> Finish() = 0;
};

using Handler = std::function<Result<Response>(Request&)>;
using StreamingHandler = std::function<Result<std::unique_ptr<BodySink>>(Request&)>;

}  // namespace pixvault::http
