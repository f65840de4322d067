// Test-only: a tiny HTTP/1.1 server on 127.0.0.1 written with plain POSIX sockets (an
// implementation independent of the client under test), header-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace pixvault::testing {

// Serves connections one at a time: reads one request (head + Content-Length body), records
// it, writes what `handler` returns (a complete raw response) and closes. A handler
// returning "" answers nothing until the server is destroyed (a hang).
class RawServer {
 public:
  using Handler = std::function<std::string(const std::string& head, const std::string& body)>;
  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
      thread_ = std::thread([this] { Run(); });
    }
  }
  ~RawServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string last_head() const {
    std::lock_guard lock(mu_);
    return head_;
  }
  std::string last_body() const {
    std::lock_guard lock(mu_);
    return body_;
  }

 private:
  bool Wait(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }
  void Run() {
    while (Wait(fd_)) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      Serve(c);
      ::close(c);
    }
  }
  void Serve(int c) {
    std::string data;
    char buf[65536];
    std::size_t head_end = std::string::npos;
    std::size_t length = 0;
    while (!stop_) {
      if (head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
      if (!Wait(c)) return;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<std::size_t>(n));
      if (head_end == std::string::npos &&
          (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string lower = data.substr(0, head_end);
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (auto at = lower.find("content-length:"); at != std::string::npos) {
          length = std::stoul(lower.substr(at + 15));
        }
      }
    }
    const std::string head = data.substr(0, head_end);
    const std::string body = data.substr(head_end + 4, length);
    {
      std::lock_guard lock(mu_);
      head_ = head;
      body_ = body;
    }
    const std::string reply = handler_(head, body);
    if (reply.empty()) {
      while (Wait(c)) {
        if (::read(c, buf, sizeof buf) <= 0) break;
      }
      return;
    }
    for (std::size_t done = 0; done < reply.size();) {
      const ssize_t w = ::write(c, reply.data() + done, reply.size() - done);
      if (w <= 0) return;
      done += static_cast<std::size_t>(w);
    }
  }

  Handler handler_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string head_, body_;
  std::thread thread_;
};

// A complete JSON response with Content-Length, plus `extra` header lines ("Name: v\r\n").
inline std::string Reply(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nContent-Type: application/json\r\n" + extra + "Connection: close\r\n\r\n" + body;
}

}  // namespace pixvault::testing
