// The HTTP/1.1 server: Boost.Beast over Asio with one C++20 coroutine per connection.
//
// Network I/O never blocks a thread: a slow client holds a suspended coroutine, not a
// worker. Each I/O thread runs its own event loop and owns the connections assigned to it
// round-robin. Handlers run inline on their I/O thread (an embedded database answers in
// microseconds), or on a pool of `database_threads` when it is set (a database across the
// network: a query's wait never holds an I/O thread), except routes marked `blocking` and
// the end of a streamed upload (fsync), which run on a separate pool while the connection's
// coroutine waits. Limits: header size and read time,
// per-route body size, idle time per body chunk and between keep-alive requests, and a connection
// cap. Stop() drains: the listener closes, in-flight requests finish (up to `shutdown_grace`), then
// threads exit.
//
// Thread-safe: Start/Stop may be called from any thread; the Router, Metrics and the
// authenticator must outlive the server and be safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/model.h"
#include "http/metrics.h"
#include "http/router.h"

namespace pixvault::http {

// One per CPU (std::thread::hardware_concurrency), at least 1.
int DefaultIoThreads();

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port (see Server::port())
  int threads = 4;            // I/O threads, each with its own share of the connections
  int blocking_threads = 4;   // for routes marked blocking and upload finishing (fsync)
  int remote_threads = 16;    // for blocking routes marked remote (waiting on providers)
  // 0: the API key check, route handlers and `at_once` steps run on the I/O thread; N: on a
  // pool of N threads (PostgreSQL, whose every query waits on the network).
  int database_threads = 0;
  int max_connections = 4096;
  std::int64_t header_limit = 16 * 1024;
  Timestamp header_timeout = 10 * kMicrosPerSecond;  // to receive a complete header
  Timestamp idle_timeout = 60 * kMicrosPerSecond;    // between keep-alive requests
  Timestamp body_timeout = 30 * kMicrosPerSecond;    // without body progress
  Timestamp shutdown_grace = 30 * kMicrosPerSecond;
};

// Resolves an "Authorization" header value to a user (kPermissionDenied when it cannot).
using Authenticator = std::function<Result<User>(std::string_view authorization)>;

class Server {
 public:
  Server(const Router& router, Authenticator authenticate, Metrics& metrics, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then serves on background threads. kUnavailable when the address
  // cannot be bound.
  Status Start();
  // The bound port (after Start).
  std::uint16_t port() const { return port_.load(); }
  // Graceful stop; returns once every thread has exited. Idempotent.
  void Stop();
  // Blocks until Stop() is called from elsewhere or SIGINT/SIGTERM arrives, then stops.
  void WaitForSignal();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint16_t> port_{0};
};

}  // namespace pixvault::http
