// Test-only: a small blocking HTTP/1.1 client over a POSIX socket, so tests can talk to a
// real server byte by byte (malformed requests, lying Content-Length, truncated or slow
// bodies) without compiling Beast into every test.
//
// A Connection owns one socket (closed on destruction). Every receive waits at most the
// connection's timeout. Not thread-safe: one Connection per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace pixvault::http::testing {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, in order
  std::string body;

  // First value of header `name` (case-insensitive).
  std::optional<std::string> Header(std::string_view name) const;
  bool IsProblem() const;  // Content-Type application/problem+json
  // The `code` member of a problem+json body, or "" when there is none.
  std::string ProblemCode() const;
};

// A request as the tests build it. `headers` are sent as given; Host and Content-Length
// (unless `content_length` says otherwise) are added by Serialize.
struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Announced length; nullopt = body.size(); -1 = send no Content-Length header.
  std::optional<std::int64_t> content_length;

  // The request's bytes on the wire.
  std::string Serialize() const;
};

class Connection {
 public:
  // Connects to 127.0.0.1:`port`. kUnavailable when the connection is refused.
  static Result<Connection> Open(std::uint16_t port,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20));
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Sends all of `bytes`; kUnavailable if the peer closed or reset the connection.
  Status Send(std::string_view bytes);
  // Reads one response, skipping 1xx interim responses unless `interim`. `head` is true for
  // a response to HEAD (no body follows). kUnavailable when the connection closes before a
  // complete response or the timeout passes.
  Result<HttpResponse> Read(bool head = false, bool interim = false);
  // Sends `request` and reads its response.
  Result<HttpResponse> RoundTrip(const HttpRequest& request);
  // Half-closes: the server sees the end of the request stream.
  void ShutdownWrite();
  // True when the server closed the connection (end of stream or reset) within `timeout`;
  // bytes received meanwhile are discarded.
  bool WaitForClose(std::chrono::milliseconds timeout);
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  Connection(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  // Appends at least one byte to buffer_; false on close, error or timeout.
  bool Fill();

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // received, not yet consumed
};

// One request on a fresh connection.
Result<HttpResponse> Fetch(std::uint16_t port, const HttpRequest& request);

}  // namespace pixvault::http::testing
