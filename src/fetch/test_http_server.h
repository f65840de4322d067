// Test-only: a tiny HTTP/1.1 origin server on 127.0.0.1 (a free port) for tests of outbound
// fetches. Plain POSIX sockets on one background thread (deliberately not Beast, so the
// client is tested against an independent implementation). Connections are served one at a
// time; each request gets the canned reply registered for its path (a 404 otherwise) and
// the connection is closed after it.
//
// Thread-safe: Handle and requests may be called while the server runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pixvault::fetch::testing {

class TestHttpServer {
 public:
  struct Reply {
    // Status line and header lines, each ending in "\r\n"; the blank line is added.
    std::string head;
    std::string body;
    // Bytes of filler ('x') streamed after `body`, in chunks (huge bodies without memory).
    std::int64_t filler = 0;
    // Pause between the header and the body (a slow server); cut short by the destructor.
    std::chrono::milliseconds stall{0};
  };
  // 200 with Content-Length and Content-Type, plus `extra_headers` lines ("Name: v\r\n").
  static Reply Ok(std::string body, std::string content_type = "application/octet-stream",
                  std::string extra_headers = "");
  static Reply Redirect(int status, std::string location);
  static Reply Status(int status, std::string reason);

  struct Seen {
    std::string method;
    std::string target;
    std::string host;  // Host header
  };

  // Binds 127.0.0.1:0 and starts serving; port() is 0 if that failed.
  TestHttpServer();
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  void Handle(std::string path, Reply reply);
  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string Url(std::string_view path) const;
  std::vector<Seen> requests() const;

 private:
  void Run();
  void Serve(int fd);
  // Sleeps up to `d`; false when the server is stopping.
  bool Sleep(std::chrono::milliseconds d);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Reply> replies_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

}  // namespace pixvault::fetch::testing
