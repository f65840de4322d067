#include "http/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace pixvault::http::testing {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers,
               std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return std::nullopt;
}

bool HttpResponse::IsProblem() const {
  return Header("Content-Type").value_or("") == "application/problem+json";
}

std::string HttpResponse::ProblemCode() const {
  if (!IsProblem()) return "";
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const auto* code = v.get_object().if_contains("code");
  if (code == nullptr || !code->is_string()) return "";
  return std::string(code->get_string());
}

std::string HttpRequest::Serialize() const {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!HasHeader(headers, "Host")) out += "Host: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (!HasHeader(headers, "Content-Length") && !HasHeader(headers, "Transfer-Encoding")) {
    if (content_length) {
      if (*content_length >= 0)
        out += "Content-Length: " + std::to_string(*content_length) + "\r\n";
    } else if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
  }
  out += "\r\n";
  out += body;
  return out;
}

Result<Connection> Connection::Open(std::uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kUnavailable, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kUnavailable, std::string("connect: ") + std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return Connection(fd, timeout);
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

Status Connection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kUnavailable, std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok();
}

void Connection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool Connection::Fill() {
  pollfd p{fd_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout_.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return false;
  char chunk[64 * 1024];
  ssize_t n = 0;
  do {
    n = ::recv(fd_, chunk, sizeof(chunk), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

bool Connection::WaitForClose(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
  }
}

Result<HttpResponse> Connection::Read(bool head, bool interim) {
  for (;;) {
    std::size_t end = std::string::npos;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        return Fail(ErrorCode::kUnavailable,
                    "connection closed or timed out before a response header (got " +
                        std::to_string(buffer_.size()) + " bytes)");
      }
    }
    std::string_view head_text = std::string_view(buffer_).substr(0, end);
    HttpResponse res;
    std::size_t line_end = head_text.find("\r\n");
    std::string_view status_line = head_text.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
      return Fail(ErrorCode::kCorrupt, "bad status line: " + std::string(status_line));
    }
    std::string_view code = status_line.substr(9, 3);
    std::from_chars(code.data(), code.data() + code.size(), res.status);
    std::string_view rest =
        line_end == std::string_view::npos ? std::string_view() : head_text.substr(line_end + 2);
    while (!rest.empty()) {
      std::size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      res.headers.emplace_back(std::string(line.substr(0, colon)),
                               std::string(Trim(line.substr(colon + 1))));
    }
    buffer_.erase(0, end + 4);
    if (res.status >= 100 && res.status < 200) {
      if (interim) return res;
      continue;
    }
    if (head || res.status == 204 || res.status == 304) return res;

    if (auto te = res.Header("Transfer-Encoding"); te && IEquals(Trim(*te), "chunked")) {
      for (;;) {
        std::size_t eol = std::string::npos;
        while ((eol = buffer_.find("\r\n")) == std::string::npos) {
          if (!Fill()) return Fail(ErrorCode::kUnavailable, "truncated chunked body");
        }
        std::size_t size = 0;
        std::from_chars(buffer_.data(), buffer_.data() + eol, size, 16);
        buffer_.erase(0, eol + 2);
        while (buffer_.size() < size + 2) {
          if (!Fill()) return Fail(ErrorCode::kUnavailable, "truncated chunked body");
        }
        res.body.append(buffer_, 0, size);
        buffer_.erase(0, size + 2);
        if (size == 0) return res;  // no trailers are expected
      }
    }
    if (auto cl = res.Header("Content-Length")) {
      std::size_t length = 0;
      std::from_chars(cl->data(), cl->data() + cl->size(), length);
      while (buffer_.size() < length) {
        if (!Fill()) {
          return Fail(ErrorCode::kUnavailable, "truncated body: " + std::to_string(buffer_.size()) +
                                                   " of " + std::to_string(length) + " bytes");
        }
      }
      res.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
      return res;
    }
    // No length: the body runs to the end of the connection.
    while (Fill()) {
    }
    res.body = std::move(buffer_);
    buffer_.clear();
    return res;
  }
}

Result<HttpResponse> Connection::RoundTrip(const HttpRequest& request) {
  // A failed send may still leave a response to read (the server refused early).
  (void)Send(request.Serialize());
  return Read(request.method == "HEAD");
}

Result<HttpResponse> Fetch(std::uint16_t port, const HttpRequest& request) {
  PV_ASSIGN_OR_RETURN(Connection c, Connection::Open(port));
  return c.RoundTrip(request);
}

}  // namespace pixvault::http::testing
