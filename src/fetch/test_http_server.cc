#include "fetch/test_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace pixvault::fetch::testing {

namespace {

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TestHttpServer::Reply TestHttpServer::Ok(std::string body, std::string content_type,
                                         std::string extra_headers) {
  Reply r;
  r.head = "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers;
  r.body = std::move(body);
  return r;
}

TestHttpServer::Reply TestHttpServer::Redirect(int status, std::string location) {
  Reply r;
  r.head = "HTTP/1.1 " + std::to_string(status) + " Moved\r\nLocation: " + location +
           "\r\nContent-Length: 0\r\n";
  return r;
}

TestHttpServer::Reply TestHttpServer::Status(int status, std::string reason) {
  Reply r;
  r.body = reason + "\n";
  r.head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(r.body.size()) +
           "\r\n";
  return r;
}

TestHttpServer::TestHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

TestHttpServer::~TestHttpServer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void TestHttpServer::Handle(std::string path, Reply reply) {
  std::lock_guard lock(mu_);
  replies_[std::move(path)] = std::move(reply);
}

std::string TestHttpServer::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::vector<TestHttpServer::Seen> TestHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return seen_;
}

bool TestHttpServer::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void TestHttpServer::Run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

void TestHttpServer::Serve(int fd) {
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 64 * 1024) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
  Seen seen;
  std::size_t line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  std::size_t sp1 = first.find(' ');
  std::size_t sp2 = first.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return;
  seen.method = first.substr(0, sp1);
  seen.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  for (std::size_t pos = line_end + 2; pos < head.size();) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = head.substr(pos, end - pos);
    if (auto colon = line.find(':'); colon != std::string::npos) {
      if (Lower(line.substr(0, colon)) == "host") {
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        seen.host = v;
      }
    }
    pos = end + 2;
  }
  std::string path = seen.target.substr(0, seen.target.find('?'));
  Reply reply;
  {
    std::lock_guard lock(mu_);
    seen_.push_back(seen);
    auto it = replies_.find(path);
    reply = it != replies_.end() ? it->second : Status(404, "Not Found");
  }
  if (!SendAll(fd, reply.head + "\r\n")) return;
  if (reply.stall.count() > 0 && !Sleep(reply.stall)) return;
  if (!SendAll(fd, reply.body)) return;
  const std::string filler(64 * 1024, 'x');
  for (std::int64_t left = reply.filler; left > 0 && !stop_;) {
    auto n = static_cast<std::size_t>(std::min<std::int64_t>(left, 64 * 1024));
    if (!SendAll(fd, std::string_view(filler).substr(0, n))) return;
    left -= static_cast<std::int64_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
}

}  // namespace pixvault::fetch::testing
